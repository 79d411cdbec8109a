"""A rich configuration touching every kind (shared by the kinds and snapshot tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

STRIPE_KEY = "sk_test_51Harbor0000secretvalue9876"


def oid(n: int) -> str:
    return f"{n:024x}"


IDS = {
    ("locations", "downtown"): oid(1),
    ("locations", "riverside"): oid(2),
    ("tax_rates", "standard"): oid(3),
    ("revenue_accounts", "memberships"): oid(4),
    ("plans", "hot-desk"): oid(5),
    ("plans", "printing"): oid(6),
    ("rates", "meeting-room"): oid(7),
    ("companies", "acme"): oid(8),
    ("members", "jane"): oid(9),
    ("gateways", "stripe-main"): oid(10),
}


def config_data() -> dict[str, Any]:
    return {
        "version": 1,
        "organization": "harbor-works",
        "currency": "EUR",
        "locations": {
            "downtown": {"name": "Harbor Works Downtown", "code": "DT"},
            "riverside": {"name": "Harbor Works Riverside"},
        },
        "tax_rates": {"standard": {"name": "VAT 20%", "rate": Decimal("20")}},
        "revenue_accounts": {"memberships": {"name": "Membership fees", "tax_rate": "standard"}},
        "gateways": {
            "stripe-main": {
                "provider": "stripe",
                "account": "acct_1Harbor",
                "secret_key": {"env": "HARBOR_STRIPE_KEY"},
                "locations": ["riverside", "downtown"],
                "default": True,
            },
            "bank": {"provider": "bank_transfer", "account": "NL00BANK", "instructions": "IBAN"},
        },
        "plans": {
            "hot-desk": {
                "name": "Hot Desk",
                "billing": "recurring",
                "price": Decimal("250"),
                "type": "Hotdesk",
                "locations": ["downtown"],
                "revenue_account": "memberships",
                "prorate": True,
                "visibility": {"non_members": True},
            },
            "printing": {"name": "Printing", "billing": "one_off", "price": Decimal("0.10")},
        },
        "rates": {
            "meeting-room": {
                "name": "Meeting Room",
                "unit": "hour",
                "price": Decimal("30"),
                "off_hours_price": Decimal("20"),
                "weekend_price": Decimal("15"),
                "full_day_price": Decimal("200"),
                "resource_type": "meeting_room",
                "locations": ["downtown"],
            },
        },
        "companies": {
            "acme": {
                "name": "Acme Ltd",
                "email": "billing@acme.example",
                "location": "downtown",
                "billing_details": {"billing_name": "Acme Ltd", "vat_number": "GB123456789"},
                "memberships": [
                    {"plan": "hot-desk", "start": date(2026, 12, 1), "price": Decimal("230")}
                ],
                "fees": [
                    {"plan": "printing", "date": date(2026, 12, 3), "quantity": 120},
                    {"plan": "printing", "date": date(2026, 12, 3), "name": "Colour prints"},
                ],
            }
        },
        "members": {
            "jane": {
                "name": "Jane Doe",
                "email": "Jane@Acme.example",
                "company": "acme",
                "location": "downtown",
                "billing_person": True,
                "memberships": [{"plan": "hot-desk", "start": date(2027, 1, 1)}],
            }
        },
        "invoicing": {"automatic_bill_run": True, "pay_now_button": False},
        "storefront": {
            "enabled": True, "plans": ["printing", "hot-desk"], "locations": ["downtown"]
        },
    }
