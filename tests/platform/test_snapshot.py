"""The snapshot's matching, addressing and reading rules, on a fake client."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.errors import MalformedAnswerError
from flexctl.kinds import get
from flexctl.kinds.base import Obj, Profile
from flexctl.kinds.configuration import config_model
from flexctl.kinds.refs import RefMap
from flexctl.state.desired import desired_state
from flexctl.state.snapshot import Snapshot, match, normalize_kind, read_snapshot
from tests.kinds.kinds_sample import config_data, oid
from tests.platform.snapshot_fakes import FakeClient


@pytest.fixture
def desired() -> dict[str, list[Obj]]:
    config = config_model().model_validate(config_data(), strict=False)
    secrets = SecretResolver(environ={"HARBOR_STRIPE_KEY": "sk_live_xyz_9876"})
    return desired_state(SimpleNamespace(config=config), secrets)


def loc(n: int, name: str) -> dict[str, Any]:
    return {"_id": oid(n), "name": name, "code": None, "timezone": "UTC"}


LOCATIONS = [loc(1, "Harbor Works Downtown"), loc(2, "Harbor Works Riverside"), loc(3, "Annex")]
PLANS = [
    {"_id": oid(20), "name": "Hot Desk", "intervalLength": "month", "price": 250,
     "locations": [oid(1)], "revenueAccount": oid(40)},
    {"_id": oid(21), "name": "Printing", "intervalLength": "once", "price": Decimal("0.1"),
     "locations": [oid(77)]},
    {"_id": oid(22), "name": "Day Pass", "intervalLength": "once", "price": 25, "locations": []},
    {"_id": oid(23), "name": "Day Pass", "intervalLength": "once", "price": 30, "locations": []},
]
COMPANIES = [
    {"_id": oid(30), "name": "Acme Ltd", "location": oid(1)},
    {"_id": oid(31), "name": "Globex", "location": oid(3)},
]
MEMBERS = [{"_id": oid(35), "name": "Jane Doe", "email": "jane@ACME.example", "company": oid(30)}]
MEMBERSHIPS = [
    {"_id": oid(50), "name": "Hot Desk", "plan": oid(20), "company": oid(30), "isPersonal": False,
     "startDate": "2026-12-01T00:00:00.000Z", "price": 230, "location": oid(1)},
    {"_id": oid(51), "name": "Hot Desk", "plan": oid(20), "company": oid(31), "isPersonal": False,
     "startDate": "2026-12-01T00:00:00.000Z", "price": 250, "location": oid(3)},
    {"_id": oid(52), "name": "Hot Desk", "plan": oid(20), "company": oid(31), "isPersonal": False,
     "startDate": "2026-12-01T00:00:00.000Z", "price": 250, "location": oid(3)},
]
FEES = [
    {"_id": oid(60), "name": "Printing", "plan": oid(21), "company": oid(30),
     "issueDate": "2026-12-03T00:00:00.000Z", "price": 0.1, "quantity": 120,
     "payment": {"_id": oid(90), "status": "paid"}},
]
REVENUE_ACCOUNTS = [{"_id": oid(40), "name": "Membership fees", "taxRate": None},
                    {"_id": oid(41), "name": "Booking fees", "taxRate": None}]


def fake(profile: Profile = Profile.FULL, **extra: list[dict[str, Any]]) -> FakeClient:
    collections = {
        "locations": LOCATIONS, "plans": PLANS, "companies": COMPANIES, "members": MEMBERS,
        "memberships": MEMBERSHIPS, "fees": FEES, "revenue-accounts": REVENUE_ACCOUNTS,
        "tax-rates": [], "resource-rates": [], "payment-gateways": [],
        "payments": [{"_id": oid(90), "lines": [{"memberships": [oid(51)]}]}],
        **extra,
    }
    singletons: dict[str, dict[str, Any]] = {
        "account": {"status": "onboarding"},
        "invoicing-settings": {"automaticBillRun": False},
        "storefront": {"enabled": False, "plans": [], "resourceRates": [], "locations": []},
    }
    return FakeClient(collections, singletons, profile)


def by_address(snapshot: Snapshot, kind: str) -> dict[str, Obj]:
    return {o.address: o for o in snapshot.objects[kind]}


def test_matched_objects_take_the_desired_address(desired: dict[str, list[Obj]]) -> None:
    snap = read_snapshot(fake(), desired, "EUR")
    plans = by_address(snap, "plans")
    assert plans["plans.hot-desk"].id == oid(20)
    assert plans["plans.hot-desk"].fields["price"] == Decimal("250.00")
    assert plans["plans.printing"].fields["locations"] == ("id:" + oid(77),)  # unknown id
    # undeclared objects get unique slugs of their name
    assert plans["plans.day-pass"].id == oid(22) and plans["plans.day-pass-2"].id == oid(23)
    assert snap.refs.key_of("plans", oid(23)) == "day-pass-2"
    assert by_address(snap, "locations")["locations.annex"].id == oid(3)
    assert by_address(snap, "members")["members.jane"].fields["company"] == "acme"
    assert by_address(snap, "revenue_accounts")["revenue_accounts.memberships"].id == oid(40)
    assert plans["plans.hot-desk"].fields["revenue_account"] == "memberships"


def test_owned_objects_hang_off_their_owner(desired: dict[str, list[Obj]]) -> None:
    snap = read_snapshot(fake(), desired, "EUR")
    ms = by_address(snap, "memberships")
    assert set(ms) == {
        "companies.acme.memberships[hot-desk@2026-12-01]",
        "companies.globex.memberships[hot-desk@2026-12-01]",
        "companies.globex.memberships[hot-desk@2026-12-01#2]",  # a live duplicate
    }
    # The snapshot reads no invoices: a plan reads those its changes need (state/history.py).
    assert not any(m.meta["invoiced"] for m in ms.values())
    fee = by_address(snap, "fees")["companies.acme.fees[printing@2026-12-03]"]
    assert fee.meta["invoiced"] is True and fee.fields["price"] == Decimal("0.10")
    assert fee.fields["date"] == date(2026, 12, 3)


def test_pin_wins_over_natural_key(desired: dict[str, list[Obj]]) -> None:
    pinned = desired["plans"][0]
    assert pinned.address == "plans.hot-desk"
    desired["plans"][0] = type(pinned)(
        pinned.kind, pinned.address, pinned.fields, id=oid(22), meta=pinned.meta
    )
    snap = read_snapshot(fake(), desired, "EUR")
    plans = by_address(snap, "plans")
    assert plans["plans.hot-desk"].id == oid(22)  # renamed "Day Pass" -> an update
    assert plans["plans.hot-desk-2"].id == oid(20)  # the name twin is not taken


def test_account_status_and_singletons(desired: dict[str, list[Obj]]) -> None:
    snap = read_snapshot(fake(), desired, "EUR", target={"api_url": "x", "org": "o"})
    assert snap.account_status == "onboarding"
    assert snap.target == {"api_url": "x", "org": "o", "profile": "full"}
    assert snap.objects["invoicing"][0].fields["automatic_bill_run"] is False
    assert snap.unreadable == {}


def test_officernd_profile_marks_extension_kinds_unreadable(desired: dict[str, list[Obj]]) -> None:
    client = fake(Profile.OFFICERND)
    snap = read_snapshot(client, desired, "EUR")
    assert set(snap.unreadable) == {"gateways", "invoicing", "storefront"}
    assert "payment gateways" in snap.unreadable["gateways"]
    assert snap.account_status is None
    read = {path for path, _ in client.calls}
    assert not read & {"payment-gateways", "invoicing-settings", "storefront", "account"}


def test_reads_only_what_the_config_uses_plus_references(desired: dict[str, list[Obj]]) -> None:
    only_members = {"members": desired["members"]}
    client = fake()
    snap = read_snapshot(client, only_members, "EUR")
    assert {p for p, _ in client.calls} == {"members", "companies", "locations", "account"}
    assert set(snap.objects) == {"locations", "companies", "members"}
    client = fake()
    read_snapshot(client, desired, "EUR")
    assert "payments" not in {p for p, _ in client.calls}
    client = fake()
    read_snapshot(client, desired, "EUR", kinds=["fees"])
    assert "memberships" not in {p for p, _ in client.calls}
    assert {"fees", "plans", "companies", "members", "locations"} <= {p for p, _ in client.calls}


def test_all_objects_reads_every_kind_with_select() -> None:
    client = fake()
    snap = read_snapshot(client, {}, "EUR", all_objects=True)
    assert "gateways" in snap.objects and "storefront" in snap.objects
    selects = dict(client.calls)
    assert "price" in selects["plans"] and "payments" not in selects
    assert "createdAt" not in selects["plans"]


def test_desired_state_with_kinds_keeps_what_references_need(desired: dict[str, list[Obj]]) -> None:
    config = config_model().model_validate(config_data(), strict=False)
    state = desired_state(SimpleNamespace(config=config), SecretResolver(environ={}), ["fees"])
    assert set(state) == {"fees", "plans", "companies", "members", "locations",
                          "revenue_accounts", "tax_rates"}


def test_an_unnamed_fee_matches_a_live_fee_of_another_name_only_as_a_fallback() -> None:
    # A fee keeps the name it was created with; after its plan is renamed, the fee the config
    # leaves unnamed must still be found, or the plan would create it again (a double charge).
    fees = get("fees")
    owner, day = "companies.acme", date(2026, 12, 3)

    def fee(name: str | None, id: str | None = None, name_key: str = "") -> Obj:
        fields = {"plan": "printing", "date": day, **({"name": name} if name else {})}
        return Obj("fees", "", fields, id=id, owner=owner, meta={"name_key": name_key})

    old_name = fee("Printing (per page)", id=oid(90), name_key="Printing (per page)")
    colour = fee("Colour", id=oid(91), name_key="Colour")
    unnamed, named = fee(None), fee("Colour", name_key="Colour")
    assert match(fees, [old_name, colour], [named, unnamed]) == {0: unnamed, 1: named}
    # an exact match wins over the fallback, and a named fee never matches loosely
    exact = fee("Printing", id=oid(92))
    assert match(fees, [old_name, exact], [unnamed]) == {1: unnamed}
    assert match(fees, [old_name], [fee("Other", name_key="Other")]) == {}


@pytest.mark.parametrize("doc", [None, 1, [1, 2], "x", {"_id": ["a"], "price": "abc"}])
def test_a_document_of_no_usable_shape_is_an_error_naming_the_request(doc: Any) -> None:
    # A document that is not a mapping made the error path itself crash (`doc.get`).
    with pytest.raises(MalformedAnswerError) as info:
        normalize_kind(get("fees"), [doc], (), RefMap(), "EUR")
    assert str(info.value).startswith("GET fees: 200 fee ")
