"""The normalization round trip against the emulator, in-process: config object -> create body
-> emulator POST -> snapshot == the config object, for every kind; request counts; profiles."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import create_app
from flexctl.kinds import registry
from flexctl.kinds.base import Obj, Profile
from flexctl.kinds.configuration import load_config
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from flexctl.state.desired import desired_state
from flexctl.state.history import InvoiceHistory
from flexctl.state.snapshot import read_snapshot
from tests.platform.roundtrip import FAST, ORG, connect, converge, differences


def test_round_trip_every_kind_on_full_profile(
    desired: dict[str, list[Obj]], secrets: SecretResolver
) -> None:
    app = create_app(None, profile="full", orgs=(ORG,))
    app.store.ensure_org(ORG)
    app.store.set_account_status(ORG, "active")  # the bill run needs Active
    with connect(app) as client:
        snap = converge(client, desired, secrets)
        assert differences(desired, snap) == []
        assert {k.name for k in registry()} <= set(desired)  # every kind took part
        assert snap.account_status == "active" and snap.unreadable == {}
        # the four built-in revenue accounts: one matched by name, three unmanaged
        accounts = {o.address for o in snap.objects["revenue_accounts"]}
        assert "revenue_accounts.memberships" in accounts and len(accounts) == 4
        # a second snapshot of an unchanged org is identical (stable addresses and values)
        again = read_snapshot(client, desired, "EUR")
        assert again.objects == snap.objects


def test_invoiced_membership_and_fee_are_flagged(
    desired: dict[str, list[Obj]], secrets: SecretResolver
) -> None:
    app = create_app(None, profile="full", orgs=(ORG,))
    app.store.set_account_status(ORG, "active")
    with connect(app) as client:
        snap = converge(client, desired, secrets)
        membership = next(iter(snap.objects["memberships"]))
        fee = next(iter(snap.objects["fees"]))
        harness = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://e")
        answer = harness.post(
            f"/_emulator/organizations/{ORG}/invoices",
            json={"memberships": [membership.id], "fees": [fee.id]},
        )
        assert answer.status_code in (200, 201), answer.text
        after = read_snapshot(client, desired, "EUR")
        unread = {o.id: o.meta["invoiced"] for o in after.objects["memberships"]}
        # A fee shows its invoice; a membership's invoices are read for the changes that
        # depend on them (an update of it here), and only its customer's.
        change = SimpleNamespace(address=membership.address, kind="memberships",
                                 action="update", replaces=None)
        reads = client.stats.reads
        assert InvoiceHistory(client).settle([change], after.objects, after.refs) is True
        assert client.stats.reads - reads == 1
    assert not any(unread.values())
    flagged = {o.id: o.meta["invoiced"] for k in ("memberships", "fees") for o in after.objects[k]}
    assert flagged[membership.id] is True and flagged[fee.id] is True
    assert sum(flagged.values()) == 2


def test_officernd_profile_reads_catalogue_and_skips_extensions(
    desired: dict[str, list[Obj]]
) -> None:
    app = create_app(None, profile="officernd", orgs=(ORG,))
    app.store.ensure_org(ORG)
    with connect(app, profile_scopes(Profile.OFFICERND)) as client:
        snap = read_snapshot(client, desired, "EUR")
    assert set(snap.unreadable) == {"gateways", "invoicing", "storefront"}
    assert snap.target["profile"] == "officernd" and snap.account_status is None
    assert "plans" in snap.objects and "gateways" not in snap.objects


def test_request_count_is_the_minimum_plus_a_constant(desired: dict[str, list[Obj]]) -> None:
    app = create_app(None, profile="full", orgs=(ORG,))
    app.store.ensure_org(ORG)
    counts = {"companies": 120, "members": 260, "memberships": 101}
    loc = app.store.insert(ORG, "locations", {"name": "Harbor Works Downtown"})
    plan = app.store.insert(
        ORG, "plans", {"name": "Hot Desk", "price": 250, "intervalLength": "month"}
    )
    companies = [app.store.insert(ORG, "companies", {"name": f"C{i}", "location": loc["_id"]})
                 for i in range(counts["companies"])]
    for i in range(counts["members"]):
        app.store.insert(ORG, "members", {"name": f"M{i}", "email": f"m{i}@x.example"})
    for i in range(counts["memberships"]):
        app.store.insert(ORG, "memberships", {
            "name": "Hot Desk", "plan": plan["_id"], "location": loc["_id"],
            "company": companies[i % 120]["_id"], "isPersonal": False,
            "startDate": "2026-12-01T00:00:00.000Z", "price": 250,
        })
    wanted = {k: desired[k] for k in ("locations", "plans", "companies", "members", "memberships")}
    with connect(app) as client:
        before = client.stats.reads
        snap = read_snapshot(client, wanted, "EUR")
        reads = client.stats.reads - before
    sizes = {"locations": 1, "plans": 1, "revenue_accounts": 4, "tax_rates": 0, **counts}
    minimum = sum(max(1, math.ceil(n / 50)) for n in sizes.values())
    assert len(snap.objects["members"]) == 260
    # + the account status (no invoices: a plan reads those its changes need)
    assert reads == minimum + 1, (reads, minimum)


def test_round_trip_of_the_harbor_works_example() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
    if not example.is_dir():
        pytest.skip("examples/harbor-works is not there")
    loaded = load_config(example)
    env = {"HARBOR_STRIPE_SECRET_KEY": "sk_test_example_1234"}
    secrets = SecretResolver.for_config(loaded, environ=env)
    wanted = desired_state(loaded, secrets)
    org = loaded.config.organization
    app = create_app(None, profile="full", orgs=(org,))
    app.store.set_account_status(org, "active")
    target = Target(api_url="http://emulator.test/api/v2", org=org,
                    token_url="http://emulator.test/oauth/token",
                    client_id="emulator", client_secret="emulator")
    with open_client(target, app=app, scopes=profile_scopes(Profile.FULL), **FAST) as client:
        snap = converge(client, wanted, secrets)
    assert differences(wanted, snap) == []
