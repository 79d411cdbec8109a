"""Live API documents -> normalized objects: decimals, dates, references, sets, owners."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flexctl import kinds
from flexctl.kinds.refs import RefMap
from tests.kinds.kinds_sample import IDS, oid

STAMP = "2026-11-20T10:00:00.000Z"


def test_plan_document(refs: RefMap) -> None:
    doc = {
        "_id": IDS["plans", "hot-desk"], "name": "Hot Desk", "code": None, "type": "Hotdesk",
        "price": Decimal("250"), "intervalLength": "month", "intervalCount": 1,
        "deposit": 0, "locations": [oid(2), oid(1), oid(99)], "revenueAccount": oid(4),
        "shouldProrate": True, "forMembers": True, "forTeamMembers": False,
        "forNonMembers": False, "createdAt": STAMP, "createdBy": oid(50), "modifiedAt": STAMP,
    }
    obj = kinds.get("plans").from_api(doc, refs, "EUR")
    assert obj.id == IDS["plans", "hot-desk"]
    assert obj.fields["price"] == Decimal("250.00") and str(obj.fields["price"]) == "250.00"
    assert str(obj.fields["deposit"]) == "0.00"
    assert obj.fields["billing"] == "recurring"
    # sorted, and an id the config does not know stays visible as an id
    assert obj.fields["locations"] == ("downtown", "id:" + oid(99), "riverside")
    assert obj.fields["revenue_account"] == "memberships"
    assert obj.fields["visibility.team_members"] is False
    assert "createdAt" not in obj.fields and "createdBy" not in obj.fields
    assert obj.meta == {"modifiedAt": STAMP}


def test_money_in_other_currencies(refs: RefMap) -> None:
    doc = {"_id": oid(60), "name": "Day", "price": Decimal("1500"), "intervalLength": "once"}
    assert str(kinds.get("plans").from_api(doc, refs, "JPY").fields["price"]) == "1500"
    assert str(kinds.get("plans").from_api(doc, refs, "KWD").fields["price"]) == "1500.000"
    fine = {**doc, "price": Decimal("0.005")}  # a finer unit price is kept, not rounded
    assert kinds.get("plans").from_api(fine, refs, "EUR").fields["price"] == Decimal("0.005")


def test_rate_components(refs: RefMap) -> None:
    half_day = {"_id": oid(72), "price": 12, "intervalLength": "hour", "intervalCount": 4,
                "isHalfDayRate": True}
    doc: dict[str, Any] = {
        "_id": IDS["rates", "meeting-room"], "name": "Meeting Room", "intervalLength": "hour",
        "price": 30, "type": "meeting_room", "locations": [],
        "rates": [
            {"_id": oid(70), "price": 20, "intervalLength": "hour", "intervalCount": 1,
             "isOffRate": True, "isWeekendRate": False, "isHalfDayRate": False},
            {"_id": oid(71), "price": Decimal("200.0"), "intervalLength": "day",
             "intervalCount": 1},
            half_day,
        ],
    }
    obj = kinds.get("rates").from_api(doc, refs, "EUR")
    assert obj.fields["unit"] == "hour" and obj.fields["resource_type"] == "meeting_room"
    assert obj.fields["off_hours_price"] == Decimal("20.00")
    assert obj.fields["full_day_price"] == Decimal("200.00")
    # Half a day is a component of day rates: on an hour rate it is kept, not modelled.
    assert obj.fields["half_day_price"] is None
    assert obj.meta["kept_components"] == [half_day]
    assert obj.fields["weekend_price"] is None and obj.fields["locations"] == ()


def test_combined_flags_are_one_component_and_the_unknown_are_kept(refs: RefMap) -> None:
    # The platform's own example: a weekend half day (two flags) beside a flagless week.
    components = [
        {"_id": oid(80), "price": 150, "intervalLength": "hour", "intervalCount": 4,
         "isWeekendRate": True, "isHalfDayRate": True},
        {"_id": oid(81), "price": 700, "intervalLength": "week", "intervalCount": 1},
        {"_id": oid(82), "price": 90, "intervalLength": "hour", "intervalCount": 4,
         "isHalfDayRate": True},
        {"_id": oid(83), "price": 95, "intervalLength": "hour", "intervalCount": 4,
         "isHalfDayRate": True},  # a second half day: kept
        {"_id": oid(84), "price": 60, "intervalLength": "day", "intervalCount": 1,
         "isOffRate": True, "isWeekendRate": True},  # a combination flexctl does not model
        {"_id": oid(85), "price": 10, "intervalLength": "day", "intervalCount": 1,
         "isPeakRate": True},  # a key flexctl does not know
    ]
    doc = {"_id": IDS["rates", "meeting-room"], "name": "Desk", "intervalLength": "day",
           "price": 180, "locations": [], "rates": components}
    obj = kinds.get("rates").from_api(doc, refs, "EUR")
    assert obj.fields["weekend_half_day_price"] == Decimal("150.00")
    assert obj.fields["week_price"] == Decimal("700.00")
    assert obj.fields["half_day_price"] == Decimal("90.00")
    assert obj.fields["weekend_price"] is None  # not read from the weekend half day
    assert obj.meta["kept_components"] == components[3:]


def test_gateway_secret_fingerprint(refs: RefMap) -> None:
    doc = {"_id": oid(10), "provider": "stripe", "account": "acct_1", "locations": [],
           "isDefault": True, "secretLast4": "9876"}
    obj = kinds.get("gateways").from_api(doc, refs, "EUR")
    assert obj.fields["secret_key"] == "…9876" and obj.fields["default"] is True


def test_customer_documents(refs: RefMap) -> None:
    company = kinds.get("companies").from_api(
        {"_id": IDS["companies", "acme"], "name": "Acme Ltd", "location": oid(1),
         "billingDetails": {"vatNumber": "GB1", "billingName": None}, "status": "active"},
        refs, "EUR",
    )
    assert company.address == "companies.acme"
    assert company.fields["billing_details.vat_number"] == "GB1"
    assert company.fields["billing_details.registration_number"] is None
    member = kinds.get("members").from_api(
        {"_id": oid(77), "name": "New", "email": "n@x.example", "company": oid(555),
         "location": None, "isBillingPerson": False},
        refs, "EUR",
    )
    assert member.address == f"members.id:{oid(77)}"  # provisional until the snapshot places it
    assert member.fields["company"] == "id:" + oid(555) and member.fields["location"] is None


def test_membership_owner_dates_and_invoiced(refs: RefMap) -> None:
    kind = kinds.get("memberships")
    doc = {
        "_id": oid(80), "name": "Hot Desk", "plan": IDS["plans", "hot-desk"],
        "location": oid(1), "company": IDS["companies", "acme"], "member": None,
        "isPersonal": False, "startDate": "2026-12-01T00:00:00.000Z", "endDate": None,
        "price": Decimal("230"), "calculatedStatus": "active", "modifiedAt": STAMP,
    }
    obj = kind.from_api(doc, refs, "EUR")
    assert obj.owner == "companies.acme"
    assert obj.address == "companies.acme.memberships[hot-desk@2026-12-01]"
    assert obj.fields["start"] == date(2026, 12, 1) and obj.fields["end"] is None
    assert obj.fields["price"] == Decimal("230.00")
    assert obj.meta["invoiced"] is False and "calculatedStatus" not in obj.fields
    personal = kind.from_api(
        {**doc, "member": IDS["members", "jane"], "isPersonal": True}, refs, "EUR"
    )
    assert personal.owner == "members.jane"


def test_fee_name_key_and_invoiced(refs: RefMap) -> None:
    kind = kinds.get("fees")
    doc = {
        "_id": oid(90), "name": "Printing", "plan": IDS["plans", "printing"], "location": oid(1),
        "company": IDS["companies", "acme"], "issueDate": "2026-12-03T00:00:00.000Z",
        "price": Decimal("0.1"), "quantity": 120, "payment": {"_id": oid(91), "status": "paid"},
    }
    obj = kind.from_api(doc, refs, "EUR")
    assert obj.address == "companies.acme.fees[printing@2026-12-03]"
    assert obj.fields["price"] == Decimal("0.10") and obj.fields["quantity"] == 120
    assert obj.meta["invoiced"] is True
    named = kind.from_api({**doc, "name": "Colour prints", "payment": None}, refs, "EUR")
    assert named.address == "companies.acme.fees[printing@2026-12-03#colour-prints]"
    assert named.meta["invoiced"] is False


def test_singleton_documents(refs: RefMap) -> None:
    inv = kinds.get("invoicing").from_api(
        {"automaticBillRun": False, "automaticSending": True, "automaticPaymentCollection": True,
         "payNowButton": True}, refs, "EUR",
    )
    assert inv.address == "invoicing" and inv.fields["automatic_bill_run"] is False
    store = kinds.get("storefront").from_api(
        {"enabled": True, "plans": [IDS["plans", "printing"], IDS["plans", "hot-desk"]],
         "resourceRates": [], "locations": [oid(1)]}, refs, "EUR",
    )
    assert store.fields["plans"] == ("hot-desk", "printing") and store.fields["rates"] == ()
