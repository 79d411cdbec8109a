"""Business rules and malformed requests: the real API's answers, nothing half-written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flexctl.emulator.seed import SeedError, apply_seed
from tests.emulator.emu_harness import Emu, nest_error


def _count(emu: Emu, kind: str) -> int:
    return int(emu.get(f"{kind}/count").json()["total"])


def test_membership_create_requires_fields(emu: Emu) -> None:
    # class-validator names a missing field by the type it expects
    body = nest_error(emu.post("memberships", {}), 400)
    assert body["message"] == [
        "name must be a string", "startDate must be a valid ISO 8601 date string",
        "location must be a string", "plan must be a string",
        "A company field must be provided if the isPersonal field is set to false.",
    ]
    cat = emu.catalogue()
    no_owner = {"name": "x", "startDate": "2026-12-01", "location": cat["location"]["_id"],
                "plan": cat["plan"]["_id"]}
    personal = nest_error(emu.post("memberships", {**no_owner, "isPersonal": True}), 400)
    assert personal["message"] == [
        "A member field must be provided if the isPersonal field is set to true."]
    fixed = nest_error(emu.post("memberships", {**no_owner, "company": cat["company"]["_id"],
                                                "type": "fixed"}), 400)
    assert fixed["message"] == ["End date is required for fixed memberships"]
    assert _count(emu, "memberships") == 0


def test_membership_defaults_and_dates(emu: Emu) -> None:
    cat = emu.catalogue()
    created = emu.membership(cat)
    assert created["startDate"] == "2026-12-01T00:00:00.000Z"
    assert created["type"] == "month_to_month"
    assert created["intervalLength"] == "month"
    assert created["price"] == 0  # the real API defaults price to 0 (reference 4.4)
    assert created["endDate"] is None
    assert created["calculatedStatus"] in ("not_started", "active")


def test_unknown_plan_or_location_is_500(emu: Emu) -> None:
    cat = emu.catalogue()
    missing = "0" * 24
    body = nest_error(emu.post("memberships", {
        "name": "x", "startDate": "2026-12-01", "location": cat["location"]["_id"],
        "plan": missing, "company": cat["company"]["_id"]}), 500)
    assert body["message"] == "Specified plan was not found"
    body = nest_error(emu.post("memberships", {
        "name": "x", "startDate": "2026-12-01", "location": missing,
        "plan": cat["plan"]["_id"], "company": cat["company"]["_id"]}), 500)
    assert body["message"] == "Specified office was not found"
    assert _count(emu, "memberships") == 0


def test_membership_put_accepts_only_dates_and_price(emu: Emu) -> None:
    cat = emu.catalogue()
    ms = emu.membership(cat)
    body = nest_error(emu.put(f"memberships/{ms['_id']}", {"plan": cat["day"]["_id"],
                                                           "name": "y"}), 400)
    assert body["message"] == ["property plan should not exist",
                               "property name should not exist"]
    updated = emu.put(f"memberships/{ms['_id']}", {"price": 230.5, "endDate": "2027-01-31"})
    assert updated.status_code == 200
    assert updated.json()["price"] == 230.5
    assert updated.json()["endDate"] == "2027-01-31T00:00:00.000Z"
    cleared = emu.put(f"memberships/{ms['_id']}", {"endDate": None}).json()
    assert cleared["endDate"] is None


def test_noop_put_keeps_modified_at(emu: Emu) -> None:
    cat = emu.catalogue()
    ms = emu.membership(cat)
    emu.app.clock.advance(5)
    assert emu.put(f"memberships/{ms['_id']}", {}).json()["modifiedAt"] == ms["modifiedAt"]
    changed = emu.put(f"memberships/{ms['_id']}", {"price": 1}).json()
    assert changed["modifiedAt"] > ms["modifiedAt"]


def test_end_before_start_is_500_with_the_platform_message(emu: Emu) -> None:
    cat = emu.catalogue()
    ms = emu.membership(cat)
    body = nest_error(emu.put(f"memberships/{ms['_id']}", {"endDate": "2026-11-01"}), 500)
    assert body["message"] == "Membership startDate should be before the endDate"
    created = nest_error(emu.post("memberships", {
        "name": "x", "startDate": "2026-12-01", "endDate": "2026-11-30",
        "location": cat["location"]["_id"], "plan": cat["plan"]["_id"],
        "company": cat["company"]["_id"]}), 500)
    assert created["message"] == "Membership startDate should be before the endDate"
    same_day = emu.put(f"memberships/{ms['_id']}", {"endDate": "2026-12-01"})
    assert same_day.status_code == 200  # equal dates are accepted


def test_invoiced_membership_and_fee_cannot_be_deleted(emu: Emu) -> None:
    cat = emu.catalogue()
    ms, fee, loose = emu.membership(cat), emu.fee(cat), emu.fee(cat)
    invoice = emu.client.post("/_emulator/organizations/demo/invoices",
                              json={"memberships": [ms["_id"]], "fees": [fee["_id"]]})
    assert invoice.status_code == 201
    payment = invoice.json()
    assert payment["documentType"] == "invoice" and len(payment["lines"]) == 2
    assert emu.get(f"fees/{fee['_id']}").json()["payment"]["_id"] == payment["_id"]
    assert emu.get(f"payments/{payment['_id']}").json()["total"] == 25
    body = nest_error(emu.delete(f"memberships/{ms['_id']}"), 500)
    assert body["message"] == "Cannot delete invoiced membership"
    nest_error(emu.delete(f"fees/{fee['_id']}"), 500)
    refused = "Cannot update membership's start date when the membership is invoiced"
    body = nest_error(emu.put(f"memberships/{ms['_id']}", {"startDate": "2026-12-02"}), 500)
    assert body["message"] == refused
    # checked before the date's format
    body = nest_error(emu.put(f"memberships/{ms['_id']}", {"startDate": "soon"}), 500)
    assert body["message"] == refused
    assert emu.put(f"memberships/{ms['_id']}", {"startDate": "2026-12-01"}).status_code == 200
    assert emu.put(f"memberships/{ms['_id']}", {"endDate": "2027-06-30"}).status_code == 200
    assert emu.delete(f"fees/{loose['_id']}").status_code == 200
    nest_error(emu.delete(f"fees/{loose['_id']}"), 404)  # deletes are not idempotent
    uninvoiced = emu.membership(cat)
    body = nest_error(emu.put(f"memberships/{uninvoiced['_id']}", {"startDate": "soon"}), 400)
    assert body["message"] == ["startDate must be a valid ISO 8601 date string"]


def test_database_errors_are_500_after_validation(emu: Emu) -> None:
    cat = emu.catalogue()
    good = {"name": "Hot Desk", "startDate": "2026-12-01", "location": cat["location"]["_id"],
            "plan": cat["plan"]["_id"], "company": cat["company"]["_id"]}
    body = nest_error(emu.post("memberships", {**good, "name": ""}), 500)
    assert body["message"] == "Path 'name' is required."
    body = nest_error(emu.post("memberships", {**good, "plan": "hot-desk"}), 500)
    assert body["message"] == ('Cast to ObjectId failed for value "hot-desk" (type string) at '
                               'path "plan" because of "BSONError"')
    body = nest_error(emu.post("companies", {"name": "Acme", "location": "downtown"}), 500)
    assert 'value "downtown"' in body["message"] and 'path "location"' in body["message"]
    body = nest_error(emu.put(f"companies/{cat['company']['_id']}", {"name": ""}), 500)
    assert body["message"] == "Path 'name' is required."
    # the 400 of validation comes first: nothing reaches the database
    body = nest_error(emu.post("memberships", {**good, "name": "", "colour": "red"}), 400)
    assert body["message"] == ["property colour should not exist"]
    assert _count(emu, "memberships") == 0 and _count(emu, "companies") == 1


def test_duplicate_post_creates_a_duplicate(emu: Emu) -> None:
    cat = emu.catalogue()
    first, second = emu.membership(cat), emu.membership(cat)
    assert first["_id"] != second["_id"]
    assert _count(emu, "memberships") == 2


def test_member_emails_are_unique_ignoring_case(emu: Emu) -> None:
    emu.create("members", {"name": "A", "email": "a@example.com"})
    nest_error(emu.post("members", {"name": "B", "email": "A@Example.com"}), 500)


def test_404_body_for_unknown_and_malformed_ids(emu: Emu) -> None:
    missing = "0" * 24
    body = nest_error(emu.get(f"plans/{missing}"), 404)
    assert body["message"] == f"Item with Id ({missing})"
    assert body["error"] == "Not Found"
    assert nest_error(emu.get("members/not-an-id"), 404)["message"] == "Item with Id (not-an-id)"
    nest_error(emu.put(f"members/{missing}", {"name": "x"}), 404)


def test_unknown_route_is_nest_404(emu: Emu) -> None:
    body = nest_error(emu.get("bananas"), 404)
    assert body["message"] == "Cannot GET /api/v2/organizations/demo/bananas"


def test_unknown_org_is_500(emu: Emu) -> None:
    body = nest_error(emu.get("/api/v2/organizations/nope/plans"), 500)
    assert body["message"] == "Organization not found"


def test_malformed_bodies_write_nothing(emu: Emu) -> None:
    bad_json = emu.request("POST", "companies", content=b'{"name": ',
                           headers={"Content-Type": "application/json"})
    assert "JSON" in nest_error(bad_json, 400)["message"]
    wrong_types = nest_error(emu.post("plans", {"name": 5, "price": "cheap",
                                                "intervalLength": "week"}), 400)
    assert wrong_types["message"] == [
        "name must be a string",
        "price must be a number conforming to the specified constraints",
        "intervalLength must be one of the following values: once, month",
    ]
    unknown = nest_error(emu.post("companies", {"name": "A", "colour": "red"}), 400)
    assert unknown["message"] == ["property colour should not exist"]
    nest_error(emu.post("companies", ["not", "an", "object"]), 400)
    assert nest_error(emu.post("companies", {"name": "A", "location": 7}), 400)["message"] == [
        "location must be a string"]
    nest_error(emu.post("plans", {"name": "A", "price": -1, "intervalLength": "once"}), 400)
    assert _count(emu, "companies") == 0 and _count(emu, "plans") == 0


def test_deeply_nested_bodies_are_400_and_write_nothing(emu: Emu) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"name": "A", "properties": '
                 + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001):
        response = emu.request("POST", "companies", content=body,
                               headers={"Content-Type": "application/json"})
        nest_error(response, 400)
    assert _count(emu, "companies") == 0


def test_a_number_beyond_a_double_is_400_like_infinity(emu: Emu) -> None:
    # JSON.parse reads 1e400 as Infinity, which the API's number validation refuses
    for price in (b"1e400", b"-1e400", b"1" + b"0" * 400):
        response = emu.request("POST", "plans", headers={"Content-Type": "application/json"},
                               content=b'{"name": "P", "intervalLength": "once", "price": '
                               + price + b"}")
        assert nest_error(response, 400)["message"] == [
            "price must be a number conforming to the specified constraints"]
    assert _count(emu, "plans") == 0


def test_money_is_exact(emu: Emu) -> None:
    plan = emu.request("POST", "plans", headers={"Content-Type": "application/json"},
                       content=b'{"name": "Printing", "price": 0.10, "intervalLength": "once"}')
    assert b'"price":0.10' in plan.content
    fetched = emu.get(f"plans/{plan.json()['_id']}")
    assert b'"price":0.10' in fetched.content


def test_fee_plan_may_be_a_resource_rate(emu: Emu) -> None:
    cat = emu.catalogue()
    rate = emu.create("resource-rates", {"name": "Meeting Room", "price": 30,
                                         "intervalLength": "hour",
                                         "rates": [{"price": 20, "intervalLength": "hour",
                                                    "isOffRate": True}]})
    assert len(rate["rates"][0]["_id"]) == 24
    fee = emu.fee(cat, plan=rate["_id"])
    assert fee["planType"] == "ResourceRate"
    nest_error(emu.post("fees", {"name": "x", "issueDate": "2026-12-01", "price": 1,
                                 "location": cat["location"]["_id"], "plan": "0" * 24,
                                 "company": cat["company"]["_id"]}), 500)


def test_built_in_revenue_accounts(emu: Emu) -> None:
    accounts = emu.get("revenue-accounts").json()["results"]
    assert {a["name"]: a["defaultFor"] for a in accounts} == {
        "Booking fees": "bookings", "Deposits": "deposits",
        "Membership fees": "memberships", "One-off Fees": "fees"}
    nest_error(emu.delete(f"revenue-accounts/{accounts[0]['_id']}"), 500)


def test_tax_rate_is_sum_of_components(emu: Emu) -> None:
    tax = emu.create("tax-rates", {"name": "VAT", "components": [
        {"name": "federal", "rate": 5}, {"name": "state", "rate": 2.5}]})
    assert tax["rate"] == 7.5
    flat = emu.put(f"tax-rates/{tax['_id']}", {"rate": 20}).json()
    assert flat["rate"] == 20 and len(flat["components"]) == 1


def test_webhooks(emu: Emu) -> None:
    hook = emu.create("webhooks", {"url": "https://example.com/h", "eventTypes": ["fee.created"]})
    assert hook["isEnabled"] is True
    assert len(hook["secret"]) == 32
    assert emu.delete(f"webhooks/{hook['_id']}").status_code == 200


def test_resending_rate_components_is_a_noop(emu: Emu) -> None:
    components = [{"price": 20, "intervalLength": "hour", "isOffRate": True}]
    rate = emu.create("resource-rates", {"name": "Room", "price": 30, "intervalLength": "hour",
                                         "rates": components})
    emu.app.clock.advance(5)
    again = emu.put(f"resource-rates/{rate['_id']}", {"rates": components}).json()
    assert again["rates"] == rate["rates"] and again["modifiedAt"] == rate["modifiedAt"]
    changed = emu.put(f"resource-rates/{rate['_id']}", {"rates": [
        {**components[0], "price": 25}]}).json()
    assert changed["rates"][0]["_id"] != rate["rates"][0]["_id"]


def test_a_body_without_a_json_content_type_is_not_read(emu: Emu) -> None:
    cat = emu.catalogue()
    for headers in ({}, {"Content-Type": "text/plain"}):
        response = emu.request("POST", "companies", content=b'{"name": "Acme Two"}',
                               headers=headers)
        assert nest_error(response, 400)["message"] == ["name must be a string"]
    typed = emu.request("POST", "companies", content=b'{"name": "Acme Two"}',
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert typed.status_code == 201
    company = cat["company"]
    untyped = emu.request("PUT", f"companies/{company['_id']}", content=b'{"name": "Renamed"}')
    assert untyped.status_code == 200 and untyped.json()["name"] == "Acme"  # nothing read
    assert _count(emu, "companies") == 2


def test_audit_and_discount_fields(emu: Emu) -> None:
    cat = emu.catalogue()
    ms = emu.membership(cat, price=200)
    assert len(ms["createdBy"]) == 24 and ms["modifiedBy"] == ms["createdBy"]
    assert cat["company"]["createdBy"] == ms["createdBy"]  # the same client wrote both
    assert (ms["discountAmount"], ms["calculatedDiscountAmount"], ms["discountedPrice"]) == (
        0, 0, 200)
    emu.app.auth.register_client("other", "s3cret", {"flex.community.memberships.update"})
    form = {"grant_type": "client_credentials", "client_id": "other", "client_secret": "s3cret"}
    other = emu.client.post("/oauth/token", data=form).json()["access_token"]
    changed = emu.put(f"memberships/{ms['_id']}", {"price": 150}, token=other).json()
    assert changed["discountedPrice"] == 150
    assert changed["createdBy"] == ms["createdBy"] != changed["modifiedBy"]
    unchanged = emu.put(f"memberships/{ms['_id']}", {"price": 150}).json()
    assert unchanged["modifiedBy"] == changed["modifiedBy"]  # a no-op is nobody's change
    fee = emu.fee(cat)
    assert (fee["discountAmount"], fee["calculatedDiscountAmount"], fee["discountedPrice"]) == (
        0, 0, 25)
    assert fee["createdBy"] == ms["createdBy"]


COMPONENTS = [
    # weekend half-day: two flags in one component (the platform's own example)
    {"price": 150, "intervalLength": "hour", "intervalCount": 4, "isWeekendRate": True,
     "isHalfDayRate": True},
    {"price": 900, "intervalLength": "week", "intervalCount": 1},  # no flag at all
    {"price": 200, "intervalLength": "day", "intervalCount": 1, "isWeekendRate": True},
    {"price": 20, "intervalLength": "hour", "isOffRate": True, "bookingWindow": {"from": 18},
     "label": "evenings"},  # keys the emulator does not know
]


def _without_ids(components: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in c.items() if k != "_id"} for c in components]


@pytest.mark.parametrize("profile", ["full", "officernd"])
def test_rate_components_are_kept_as_given(make_emu: Callable[..., Emu], profile: str) -> None:
    emu = make_emu(profile=profile)
    rate_id = "e" * 24
    apply_seed(emu.app, {"demo": {"resource-rates": [
        {"_id": rate_id, "name": "Desk", "price": 40, "intervalLength": "day",
         "rates": COMPONENTS}]}}, only_new=False)
    for shown in (emu.get(f"resource-rates/{rate_id}").json(),
                  emu.get("resource-rates").json()["results"][0]):
        assert _without_ids(shown["rates"]) == COMPONENTS
        assert all(len(c["_id"]) == 24 for c in shown["rates"])
    bad = {"demo": {"resource-rates": [{"name": "Bad", "price": 1, "intervalLength": "day",
                                        "rates": [{"price": "free", "colour": "red"}]}]}}
    with pytest.raises(SeedError, match=r"rates\.0\.price must be a number"):
        apply_seed(emu.app, bad, only_new=False)


def test_rate_components_written_through_the_api(emu: Emu) -> None:
    rate = emu.create("resource-rates", {"name": "Desk", "price": 40, "intervalLength": "day",
                                         "rates": COMPONENTS})
    assert _without_ids(rate["rates"]) == COMPONENTS
    emu.app.clock.advance(5)
    again = emu.put(f"resource-rates/{rate['_id']}", {"rates": COMPONENTS}).json()
    assert again["rates"] == rate["rates"] and again["modifiedAt"] == rate["modifiedAt"]
