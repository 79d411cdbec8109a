"""Natural-key lookups against the emulator: the documented filters are accepted and `matches`
picks exactly the live twin — also after a create whose response was lost."""

from __future__ import annotations

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import create_app
from flexctl.errors import TransportError
from flexctl.kinds import registry
from flexctl.kinds.base import Obj
from flexctl.state.snapshot import read_snapshot
from tests.platform.roundtrip import ORG, connect, converge


def test_every_object_is_found_by_its_lookup(
    desired: dict[str, list[Obj]], secrets: SecretResolver
) -> None:
    app = create_app(None, profile="full", orgs=(ORG,))
    app.store.set_account_status(ORG, "active")
    with connect(app) as client:
        snap = converge(client, desired, secrets)
        for kind in registry():
            if kind.singleton:
                continue
            live = {o.address: o.id for o in snap.objects[kind.name]}
            for obj in desired[kind.name]:
                filters = kind.lookup_filters(obj, snap.refs)
                docs = client.find(kind.api_path or kind.name, filters, select=kind.select)
                found = [d["_id"] for d in docs if kind.matches(obj, d, snap.refs)]
                assert found == [live[obj.address]], (obj.address, filters)


def test_lost_create_is_settled_by_lookup_without_duplicate(
    desired: dict[str, list[Obj]], secrets: SecretResolver
) -> None:
    app = create_app(None, profile="full", orgs=(ORG,))
    app.store.set_account_status(ORG, "active")
    kind = next(k for k in registry() if k.name == "memberships")
    wanted = {k: v for k, v in desired.items() if k != "memberships"}
    with connect(app) as client:
        snap = converge(client, wanted, secrets)
        obj = desired["memberships"][0]
        app.faults.configure([{"fault": "drop", "method": "POST", "path": "memberships",
                               "count": 1}])
        with pytest.raises(TransportError) as lost:
            client.create(kind.api_path or kind.name, kind.create_body(obj, snap.refs, secrets))
        assert lost.value.outcome_unknown
        docs = client.find(kind.api_path or kind.name, kind.lookup_filters(obj, snap.refs),
                           select=kind.select)
        assert len([d for d in docs if kind.matches(obj, d, snap.refs)]) == 1
        after = read_snapshot(client, desired, "EUR")
    addresses = [o.address for o in after.objects["memberships"]]
    assert addresses.count(obj.address) == 1 and len(addresses) == 1
