"""Every registered kind is covered by every engine: a kind missing a fact fails here."""

from __future__ import annotations

from typing import cast

import pytest

from flexctl.config.types import PolicyBase
from flexctl.export.build import layout
from flexctl.kinds import registry
from flexctl.kinds.base import Kind, Profile
from flexctl.kinds.configuration import config_model, keyed_sections, schema_text
from flexctl.platform.scopes import profile_scopes, scope_for

KINDS = registry()
NAMES = [k.name for k in KINDS]


def test_names_and_ranks_are_unique() -> None:
    assert len(set(NAMES)) == len(NAMES)
    assert len({k.rank for k in KINDS}) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=NAMES)
def test_the_kind_states_every_fact(kind: Kind) -> None:
    assert kind.noun and kind.plural and kind.portal and kind.scope_prefix
    assert kind.api_path
    assert set(kind.capabilities) == set(Profile)
    assert set(kind.references) <= set(NAMES), "references name registered kinds"
    assert set(kind.owns) <= {k.name for k in KINDS if k.owned}


@pytest.mark.parametrize("kind", KINDS, ids=NAMES)
def test_the_config_holds_the_kind(kind: Kind) -> None:
    model = config_model()
    if kind.owned:
        owners = [k for k in KINDS if kind.name in k.owns]
        assert owners, f"no kind owns {kind.name}: the config cannot declare it"
        return
    assert kind.section in model.model_fields
    assert f'"{kind.section}"' in schema_text()
    if not kind.singleton:
        assert kind.section in keyed_sections(KINDS)
    if kind.prunable:
        # the policy model is built at run time from PolicyBase, so mypy sees only a type form
        policy = cast(type[PolicyBase], model.model_fields["policy"].annotation)
        assert kind.name in str(policy.model_json_schema())


@pytest.mark.parametrize("kind", KINDS, ids=NAMES)
def test_export_writes_the_kind(kind: Kind) -> None:
    files = layout()
    holders = [path for path, kinds in files.items() if kind.name in kinds]
    if kind.owned:
        assert not holders  # written under its owner
        return
    assert kind.export_file is not None, "export writes it to a file it names"
    assert holders == [kind.export_file]


@pytest.mark.parametrize("kind", KINDS, ids=NAMES)
def test_scopes_cover_the_kind(kind: Kind) -> None:
    path = kind.api_path or kind.name
    assert scope_for("GET", path) == f"{kind.scope_prefix}.read"
    for profile in Profile:
        capability = kind.capability(profile)
        scopes = profile_scopes(profile)
        if capability.read:
            assert f"{kind.scope_prefix}.read" in scopes
        assert (f"{kind.scope_prefix}.create" in scopes) == capability.create
