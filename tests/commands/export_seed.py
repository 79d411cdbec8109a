"""A live organization with every kind, for the export and check tests: unicode and duplicate
names, amounts such as 0.10 and 1234.5, open-ended and ended memberships, gateways with secrets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from flexctl.emulator import create_app
from flexctl.emulator.seed import apply_seed

ORG = "atelier"
SECRET = "sk_test_51AtelierVerySecretKey9876"


def oid(n: int) -> str:
    return f"65000000000000000000{n:04x}"


LOC_CAFE, LOC_HARBOR = oid(1), oid(2)
TAX, ACCOUNT = oid(3), oid(4)
HOT_DESK, HOT_DESK_2, PRINTING, DAY_PASS, CAFE_PASS = oid(10), oid(11), oid(12), oid(13), oid(14)
MEETING = oid(20)
STRIPE, BANK = oid(30), oid(31)
ACME, ACME_2, AERO = oid(40), oid(41), oid(42)
JANE, JANE_2, JURGEN = oid(50), oid(51), oid(52)
D = Decimal


def organization() -> dict[str, Any]:
    """The seed (API field names) of a complete organization."""
    return {
        "locations": [
            {"_id": LOC_CAFE, "name": "Café Zürich", "timezone": "Europe/Zurich"},
            {"_id": LOC_HARBOR, "name": "Harbor Downtown", "timezone": "Europe/Dublin"},
        ],
        "tax-rates": [{"_id": TAX, "name": "VAT 20%", "rate": D(20)}],
        "revenue-accounts": [
            {"_id": ACCOUNT, "name": "Printing & copies", "code": "4100", "taxRate": TAX},
        ],
        "plans": [
            {"_id": HOT_DESK, "name": "Hot Desk", "price": D("250.00"), "intervalLength": "month",
             "type": "Hotdesk", "revenueAccount": ACCOUNT, "shouldProrate": True},
            {"_id": HOT_DESK_2, "name": "Hot Desk", "price": D("1234.5"),
             "intervalLength": "month", "locations": [LOC_CAFE]},
            {"_id": PRINTING, "name": "Printing", "price": D("0.10"), "intervalLength": "once"},
            {"_id": DAY_PASS, "name": "Day Pass", "price": D(25), "intervalLength": "once",
             "forNonMembers": True},
            {"_id": CAFE_PASS, "name": "Café Zürich Pass", "price": D("12.00"),
             "intervalLength": "once", "code": "CZP"},
        ],
        "resource-rates": [
            {"_id": MEETING, "name": "Meeting Room", "price": D(30), "intervalLength": "hour",
             "locations": [LOC_HARBOR],
             "rates": [{"price": D(20), "intervalLength": "hour", "intervalCount": 1,
                        "isOffRate": True, "isWeekendRate": False, "isHalfDayRate": False},
                       {"price": D(200), "intervalLength": "day", "intervalCount": 1,
                        "isOffRate": False, "isWeekendRate": False, "isHalfDayRate": False}]},
        ],
        "payment-gateways": [
            {"_id": STRIPE, "provider": "stripe", "account": "acct_1Atelier", "secret": SECRET,
             "isDefault": True},
            {"_id": BANK, "provider": "bank_transfer", "account": "IE29AIBK93115212345678",
             "instructions": "Pay to Atelier Ltd,\nquoting the invoice number.",
             "locations": [LOC_HARBOR]},
        ],
        "companies": [
            {"_id": ACME, "name": "Acme Ltd", "email": "billing@acme.example",
             "location": LOC_HARBOR, "billingDetails": {"vatNumber": "IE6388047V"}},
            {"_id": ACME_2, "name": "Acme Ltd", "location": LOC_CAFE},
            {"_id": AERO, "name": "Ærø Design: \"studio\" #1", "location": LOC_CAFE},
        ],
        "members": [
            {"_id": JANE, "name": "Jane Doe", "email": "jane@acme.example", "company": ACME,
             "location": LOC_HARBOR, "isBillingPerson": True},
            {"_id": JANE_2, "name": "Jane Doe", "email": "Jane.Doe@Example.com",
             "location": LOC_CAFE},
            {"_id": JURGEN, "name": "Jürgen Groß", "email": "juergen@example.com",
             "location": LOC_CAFE},
        ],
        "memberships": [
            {"name": "Hot Desk", "plan": HOT_DESK, "company": ACME, "location": LOC_HARBOR,
             "startDate": "2026-01-01T00:00:00.000Z", "price": D("230.00")},
            {"name": "Hot Desk", "plan": HOT_DESK_2, "member": JURGEN, "isPersonal": True,
             "location": LOC_CAFE, "startDate": "2025-01-01T00:00:00.000Z",
             "endDate": "2025-06-30T00:00:00.000Z", "price": D("1234.5")},
        ],
        "fees": [
            {"name": "Printing", "plan": PRINTING, "company": ACME, "location": LOC_HARBOR,
             "issueDate": "2026-02-03T00:00:00.000Z", "price": D("0.10"), "quantity": 120},
            {"name": "Colour prints", "plan": PRINTING, "company": ACME, "location": LOC_HARBOR,
             "issueDate": "2026-02-03T00:00:00.000Z", "price": D("0.25"), "quantity": 10},
            {"name": "Day Pass", "plan": DAY_PASS, "member": JANE_2, "isPersonal": True,
             "location": LOC_CAFE, "issueDate": "2026-03-01T00:00:00.000Z", "price": D(25)},
        ],
        "invoicing-settings": {"automaticBillRun": True, "automaticSending": True,
                               "automaticPaymentCollection": True, "payNowButton": False},
        "storefront": {"enabled": True, "plans": [DAY_PASS], "resourceRates": [MEETING],
                       "locations": [LOC_HARBOR, LOC_CAFE]},
        "account": {"status": "active"},
    }


def seed(db: Path, data: dict[str, Any] | None = None, org: str = ORG) -> None:
    """Load `data` (default: the complete organization) into the sandbox database `db`."""
    app = create_app(str(db), orgs=())
    try:
        apply_seed(app, {org: organization() if data is None else data})
    finally:
        app.store.close()
