"""What a brand-new organization contains, as on a new OfficeRnD Flex account."""

from __future__ import annotations

from typing import Any

# The platform's four built-in revenue accounts; only these carry `defaultFor`.
REVENUE_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {"name": "Booking fees", "code": None, "description": None, "defaultFor": "bookings"},
    {"name": "Deposits", "code": None, "description": None, "defaultFor": "deposits"},
    {"name": "Membership fees", "code": None, "description": None, "defaultFor": "memberships"},
    {"name": "One-off Fees", "code": None, "description": None, "defaultFor": "fees"},
)

# The platform's system resource types.
RESOURCE_TYPES: tuple[dict[str, Any], ...] = tuple(
    {
        "title": title,
        "type": type_,
        "bookingMode": mode,
        "checkinMode": "hour",
        "icon": type_,
        "canBook": can_book,
        "canAssign": not can_book,
        "isPrimary": True,
        "isHierarchical": False,
    }
    for title, type_, mode, can_book in (
        ("Meeting Room", "meeting_room", "time", True),
        ("Private Office", "team_room", "date", False),
        ("Dedicated Desk", "desk", "date", False),
        ("Hot Desk", "hotdesk", "date", True),
    )
)

# The real shape of GET /billing-settings is unknown; this one is invented.
BILLING_SETTINGS: dict[str, Any] = {
    "currency": "EUR",
    "taxType": "excluded",
    "billingDay": 1,
    "invoiceDueDays": 7,
    "shouldProrate": True,
}

INVOICING_SETTINGS: dict[str, Any] = {
    "automaticBillRun": False,
    "automaticSending": False,
    "automaticPaymentCollection": False,
    "payNowButton": False,
}

STOREFRONT: dict[str, Any] = {"enabled": False, "plans": [], "resourceRates": [], "locations": []}
