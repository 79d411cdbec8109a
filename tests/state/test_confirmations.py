"""The confirmations file: digests that notice a changed configuration, a file that reads back
exactly, located errors for a broken one, and who confirms."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flexctl.config.loader import discover
from flexctl.config.secrets import SecretResolver
from flexctl.errors import ConfigError
from flexctl.kinds import get as get_kind
from flexctl.kinds.base import Obj
from flexctl.kinds.configuration import load_config
from flexctl.state.confirmations import (
    Confirmations,
    confirmer,
    load_confirmations,
    state_digest,
)
from flexctl.state.desired import desired_state

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
ORG = "harbor-works"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "harbor-works"
    shutil.copytree(EXAMPLE, copy)
    return copy


def desired(root: Path, environ: dict[str, str] | None = None) -> dict[str, Obj]:
    loaded = load_config(root)
    objs = desired_state(loaded, SecretResolver.for_config(loaded, environ=environ or {}))
    return {o.address: o for kind in objs.values() for o in kind}


def edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def digest(root: Path, address: str, environ: dict[str, str] | None = None) -> str:
    obj = desired(root, environ)[address]
    return state_digest(get_kind(obj.kind), obj, ORG)


def test_the_digest_is_stable_and_follows_the_configuration(root: Path) -> None:
    first = digest(root, "gateways.bank-transfer")
    assert first == digest(root, "gateways.bank-transfer")
    assert first.startswith("sha256:") and len(first) == 71
    edit(root, "gateways.yaml", "quoting the invoice number.", "quoting the number.")
    assert digest(root, "gateways.bank-transfer") != first


def test_a_gateway_digest_does_not_need_its_secret(root: Path) -> None:
    # CI that only plans may lack the secret: the confirmation must hold there too.
    without = digest(root, "gateways.stripe-main")
    with_secret = digest(root, "gateways.stripe-main",
                         {"HARBOR_STRIPE_SECRET_KEY": "sk_live_abcdefgh1234"})
    assert without == with_secret
    edit(root, "gateways.yaml", "{env: HARBOR_STRIPE_SECRET_KEY}", "{env: NEW_STRIPE_KEY}")
    assert digest(root, "gateways.stripe-main") != without  # a rotated reference: re-confirm


def test_the_organization_is_part_of_the_digest(root: Path) -> None:
    obj = desired(root)["storefront"]
    kind = get_kind(obj.kind)
    assert state_digest(kind, obj, ORG) != state_digest(kind, obj, "other-org")


def test_a_confirmation_holds_until_the_configuration_changes(root: Path) -> None:
    confirmations = Confirmations(root / "confirmations.yaml", ORG)
    obj = desired(root)["invoicing"]
    kind = get_kind(obj.kind)
    recorded = confirmations.record(kind, obj, "Jane <jane@example.com>", "2026-12-02T10:00:00Z",
                                    None)
    assert confirmations.holding(kind, obj) == recorded
    assert confirmations.lapsed(kind, obj) is None
    edit(root, "invoicing.yaml", "pay_now_button: true", "pay_now_button: false")
    changed = desired(root)["invoicing"]
    assert confirmations.holding(kind, changed) is None
    assert confirmations.lapsed(kind, changed) == recorded


def test_the_file_reads_back_exactly(root: Path) -> None:
    confirmations = Confirmations(root / "confirmations.yaml", ORG)
    objs = desired(root)
    odd = 'Zoë "Z" O\'Neil <zoe@example.com>\x07'
    for address, note in (("storefront", "done: 5 > 4 # not a comment"), ("invoicing", None)):
        obj = objs[address]
        confirmations.record(get_kind(obj.kind), obj, odd, "2026-12-02T10:00:00Z", note)
    confirmations.save()
    again = load_confirmations(root, ORG)
    assert again.entries == confirmations.entries
    assert again.text() == confirmations.text()


def test_no_file_means_no_confirmations(root: Path) -> None:
    assert load_confirmations(root, ORG).entries == {}


@pytest.mark.parametrize(("text", "expected"), [
    ("version: 1\nconfirmed:\n  storefront:\n    digest: sha256:abc\n    by: Jane\n"
     "    at: '2026-12-02T10:00:00Z'\n",
     "confirmations.yaml:4:5: confirmed.storefront.digest: must be sha256: and 64 hex digits"),
    ("version: 1\nconfirmed:\n  storefront: {by: Jane}\n",
     "confirmations.yaml:3:3: confirmed.storefront.digest: missing `digest`"),
    ("version: 1\nplans: {}\n",
     "confirmations.yaml:2:1: plans: unknown key 'plans': this file holds only"),
    ("version: 2\nconfirmed: {}\n", "confirmations.yaml:1:1: version: version must be 1"),
    ("- a list\n", "confirmations.yaml:1:1: <root>: the top level must be a mapping"),
    ("version: 1\nconfirmed:\n  storefront:\n    by: [Jane]\n",
     "confirmations.yaml:4:5: confirmed.storefront.by: must be a non-empty string"),
    ("version: 1\nconfirmed:\n  storefront: {by: Jane, at: 2026-02-30}\n",
     "confirmations.yaml:3:30: confirmed.storefront.at: invalid date '2026-02-30'"),
])
def test_a_broken_file_is_a_located_error(
    root: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(root)
    (root / "confirmations.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_confirmations(root, ORG)
    lines = str(caught.value).splitlines()
    assert any(line.startswith(expected) for line in lines), lines


def test_the_loader_leaves_the_file_alone_only_beside_the_configuration(root: Path) -> None:
    (root / "confirmations.yaml").write_text("version: 1\nconfirmed: {}\n", encoding="utf-8")
    (root / "customers" / "confirmations.yaml").write_text("{}\n", encoding="utf-8")
    found = discover(root)
    assert root / "confirmations.yaml" not in found
    assert root / "customers" / "confirmations.yaml" in found  # a nested one is configuration


def test_who_confirms_is_the_git_identity_else_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("USER", "jdoe")
    monkeypatch.setenv("LOGNAME", "jdoe")
    assert confirmer(tmp_path) == "jdoe"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.name", "Jane Doe"], check=True)
    assert confirmer(tmp_path) == "Jane Doe"
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.email", "jane@example.com"],
                   check=True)
    assert confirmer(tmp_path) == "Jane Doe <jane@example.com>"
