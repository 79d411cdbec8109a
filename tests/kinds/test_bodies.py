"""Desired objects -> API payloads (v2 names), natural keys, lookups and capabilities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flexctl import kinds
from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.errors import PlanError, SecretError
from flexctl.kinds.base import Capability, Obj, Profile
from flexctl.kinds.refs import RefMap
from tests.kinds.kinds_sample import IDS, STRIPE_KEY, oid


def one(config: ConfigBase, secrets: SecretResolver, kind: str, address: str) -> Obj:
    return next(o for o in kinds.get(kind).desired(config, secrets) if o.address == address)


def test_plan_create_body(config: ConfigBase, secrets: SecretResolver, refs: RefMap) -> None:
    obj = one(config, secrets, "plans", "plans.hot-desk")
    assert kinds.get("plans").create_body(obj, refs, secrets) == {
        "name": "Hot Desk", "intervalLength": "month", "intervalCount": 1,
        "price": Decimal("250.00"), "type": "Hotdesk", "locations": [oid(1)],
        "revenueAccount": oid(4), "shouldProrate": True, "forNonMembers": True,
    }


def test_rate_body_sends_components(
    config: ConfigBase, secrets: SecretResolver, refs: RefMap
) -> None:
    obj = one(config, secrets, "rates", "rates.meeting-room")
    body = kinds.get("rates").create_body(obj, refs, secrets)
    assert body["intervalLength"] == "hour" and body["type"] == "meeting_room"
    assert {(c["intervalLength"], c["intervalCount"], c["price"]) for c in body["rates"]} == {
        ("hour", 1, Decimal("20.00")), ("hour", 1, Decimal("15.00")), ("day", 1, Decimal("200.00"))
    }
    off = next(c for c in body["rates"] if c["isOffRate"])
    assert off["price"] == Decimal("20.00") and not off["isWeekendRate"]
    # an update of one component resends the whole list; other fields stay out
    update = kinds.get("rates").update_body(obj, {"weekend_price"}, refs, secrets)
    assert set(update) == {"rates"} and len(update["rates"]) == 3


def test_gateway_bodies_carry_the_secret_only_when_needed(config: ConfigBase, refs: RefMap) -> None:
    secrets = SecretResolver(environ={"HARBOR_STRIPE_KEY": STRIPE_KEY})
    obj = one(config, secrets, "gateways", "gateways.stripe-main")
    kind = kinds.get("gateways")
    body = kind.create_body(obj, refs, secrets)
    assert body["secret"] == STRIPE_KEY and body["isDefault"] is True
    assert body["locations"] == [oid(1), oid(2)] and "secret_key" not in body
    assert "secret" not in kind.update_body(obj, {"default"}, refs, secrets)
    assert kind.update_body(obj, {"secret_key"}, refs, secrets) == {"secret": STRIPE_KEY}
    missing = SecretResolver(environ={})
    with pytest.raises(SecretError, match="HARBOR_STRIPE_KEY") as err:
        kind.create_body(one(config, missing, "gateways", "gateways.stripe-main"), refs, missing)
    assert STRIPE_KEY not in str(err.value)


def test_customer_bodies_are_tagged(
    config: ConfigBase, secrets: SecretResolver, refs: RefMap
) -> None:
    acme = one(config, secrets, "companies", "companies.acme")
    kind = kinds.get("companies")
    body = kind.create_body(acme, refs, secrets)
    assert body["properties"] == {"flexctl": "companies.acme"}
    assert body["billingDetails"] == {"billingName": "Acme Ltd", "vatNumber": "GB123456789"}
    assert body["location"] == oid(1)
    # a nested object is sent whole, so the other billing detail is not lost
    assert kind.update_body(acme, {"billing_details.vat_number"}, refs, secrets) == {
        "billingDetails": {"billingName": "Acme Ltd", "vatNumber": "GB123456789"}
    }
    jane = one(config, secrets, "members", "members.jane")
    body = kinds.get("members").create_body(jane, refs, secrets)
    assert body["company"] == oid(8) and body["isBillingPerson"] is True


def test_membership_bodies(config: ConfigBase, secrets: SecretResolver, refs: RefMap) -> None:
    kind = kinds.get("memberships")
    jane = one(config, secrets, "memberships", "members.jane.memberships[hot-desk@2027-01-01]")
    assert kind.create_body(jane, refs, secrets) == {
        "plan": oid(5), "startDate": "2027-01-01T00:00:00.000Z", "location": oid(1),
        "name": "Hot Desk", "price": Decimal("250.00"),  # the API would default price to 0
        "member": oid(9), "isPersonal": True,
        "properties": {"flexctl": "members.jane.memberships[hot-desk@2027-01-01]"},
    }
    acme = one(config, secrets, "memberships", "companies.acme.memberships[hot-desk@2026-12-01]")
    body = kind.create_body(acme, refs, secrets)
    assert body["company"] == oid(8) and body["isPersonal"] is False
    assert body["price"] == Decimal("230.00")
    # PUT accepts only startDate, endDate, price
    assert kind.update_body(acme, {"end", "price", "plan", "location"}, refs, secrets) == {
        "endDate": None, "price": Decimal("230.00"),
    }


def test_fee_body(config: ConfigBase, secrets: SecretResolver, refs: RefMap) -> None:
    fee = one(config, secrets, "fees", "companies.acme.fees[printing@2026-12-03]")
    assert kinds.get("fees").create_body(fee, refs, secrets) == {
        "plan": oid(6), "issueDate": "2026-12-03T00:00:00.000Z", "quantity": 120,
        "price": Decimal("0.10"), "name": "Printing", "location": oid(1),
        "company": oid(8), "isPersonal": False,
    }


def test_reference_to_an_uncreated_object_is_a_clear_error(
    config: ConfigBase, secrets: SecretResolver
) -> None:
    fee = one(config, secrets, "fees", "companies.acme.fees[printing@2026-12-03]")
    with pytest.raises(PlanError, match=r"plans\.printing has no platform id yet"):
        kinds.get("fees").create_body(fee, RefMap(), secrets)


def test_singleton_bodies(config: ConfigBase, secrets: SecretResolver, refs: RefMap) -> None:
    (store,) = kinds.get("storefront").desired(config, secrets)
    assert kinds.get("storefront").create_body(store, refs, secrets) == {
        "enabled": True, "plans": [oid(5), oid(6)], "locations": [oid(1)],
    }


def test_natural_keys_and_matching(
    config: ConfigBase, secrets: SecretResolver, refs: RefMap
) -> None:
    plans = kinds.get("plans")
    hot = one(config, secrets, "plans", "plans.hot-desk")
    assert plans.natural_key(hot) == ("name", "Hot Desk")
    assert plans.lookup_filters(hot, refs) == {"name": "Hot Desk"}
    doc = {"_id": oid(5), "name": "Hot Desk", "code": "HD", "intervalLength": "month"}
    assert plans.matches(hot, doc, refs)
    assert not plans.matches(hot, {**doc, "name": "Hot desk"}, refs)  # exact name
    coded = Obj("plans", "plans.x", {"name": "Other", "code": "HD"})
    assert plans.natural_key(coded) == ("code", "HD") and plans.matches(coded, doc, refs)

    members = kinds.get("members")
    jane = one(config, secrets, "members", "members.jane")
    assert members.natural_key(jane) == ("email", "jane@acme.example")
    assert members.lookup_filters(jane, refs) == {"email": "Jane@Acme.example"}
    assert members.matches(jane, {"_id": oid(9), "email": "JANE@acme.example"}, refs)

    ms = kinds.get("memberships")
    acme = one(config, secrets, "memberships", "companies.acme.memberships[hot-desk@2026-12-01]")
    assert ms.natural_key(acme) == ("companies.acme", "hot-desk", acme.fields["start"])
    assert ms.lookup_filters(acme, refs) == {"company": oid(8)}
    live = {"_id": oid(80), "plan": oid(5), "company": oid(8), "startDate": "2026-12-01"}
    assert ms.matches(acme, live, refs)
    assert not ms.matches(acme, {**live, "startDate": "2026-12-02"}, refs)
    tagged = {"_id": oid(81), "properties": {"flexctl": acme.address}}
    assert ms.matches(acme, tagged, refs)  # the marker finds it after a lost response

    fees = kinds.get("fees")
    fee = one(config, secrets, "fees", "companies.acme.fees[printing@2026-12-03]")
    found = {"_id": oid(90), "name": "Printing", "plan": oid(6), "company": oid(8),
             "issueDate": "2026-12-03T00:00:00.000Z"}
    assert fees.lookup_filters(fee, refs) == {"company": oid(8)}
    assert fees.matches(fee, found, refs)
    assert not fees.matches(fee, {**found, "name": "Colour prints"}, refs)
    fresh = RefMap()  # the plan was created in this apply: its live name is not known
    for (kind, key), id_ in IDS.items():
        fresh.add(kind, key, id_)
    assert fees.matches(fee, found, fresh)

    gw = kinds.get("gateways")
    stripe = one(config, secrets, "gateways", "gateways.stripe-main")
    assert gw.natural_key(stripe) == ("stripe", "acct_1Harbor")
    assert gw.lookup_filters(stripe, refs) == {"provider": "stripe", "account": "acct_1Harbor"}


def test_capabilities_per_profile() -> None:
    caps = {k.name: k for k in kinds.registry()}
    for name in ("locations", "tax_rates", "revenue_accounts", "plans", "rates"):
        assert caps[name].capability(Profile.OFFICERND) == Capability.read_only()
        assert caps[name].capability(Profile.FULL) == Capability.all()
    for name in ("gateways", "invoicing", "storefront"):
        assert caps[name].capability(Profile.OFFICERND) == Capability.none()
        assert caps[name].unreadable_reason
        assert caps[name].capability(Profile.FULL).read
    for name in ("companies", "members", "memberships", "fees"):
        assert caps[name].capability(Profile.OFFICERND) == Capability.all()
    assert caps["memberships"].updatable == {"start", "end", "price"}
    assert caps["plans"].portal == "Billing > Plans"
    assert caps["plans"].scopes("read") == ("flex.billing.plans.read",)
    assert "$limit" not in caps["fees"].select and "payment" in caps["fees"].select
    assert {"_id", "intervalLength", "modifiedAt"} <= set(caps["plans"].select) | {"_id"}
    assert all(k.portal for k in kinds.registry())


def test_get_unknown_kind() -> None:
    with pytest.raises(KeyError, match="unknown kind"):
        kinds.get("widgets")
