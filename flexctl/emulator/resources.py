"""The resources the emulator serves: fields, filters, scopes and the operations of each profile.

Field names, enums and filters follow the platform's v2 names. A `Resource` says what a POST
accepts, what a PUT accepts, which query filters the list accepts (anything else is a 400),
which scope guards it, and which operations exist on the public API (`public_ops`, the
`officernd` profile) and which only in the emulator's `full` profile (`extra_ops`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flexctl.emulator.validation import F

ZERO = Decimal(0)
STRING = F("string")
NAME = F("string")
TEXT = F("string", nullable=True)
BOOL = F("boolean")
ID = F("id")
OPT_ID = F("id", nullable=True)
IDS = F("ids")
DATE = F("date")
OPT_DATE = F("date", nullable=True)
MONEY = F("number", minimum=ZERO)
COUNT = F("integer", minimum=Decimal(1))
OBJECT = F("object")
STRINGS = F("strings")

# Filter kinds: "id" (equality, [$in]), "string", "bool", "enum", "date" ($gt/$gte/$lt/$lte and
# equality), "properties" (properties[key]=value).
Filters = Mapping[str, str]
AUDIT_FILTERS: Filters = {"createdAt": "date", "modifiedAt": "date"}

# Operations: list, count, get (reads), create, update, delete, and `collect` (charge an
# invoice, emulator-only). The scope action each one needs:
ACTIONS = {
    "list": "read", "count": "read", "get": "read", "create": "create", "update": "update",
    "collect": "update", "delete": "delete",
}
READ = frozenset({"list", "count", "get"})
WRITE = frozenset({"create", "update", "delete"})
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Resource:
    path: str  # URL segment under /organizations/{org}/
    scope: str  # scope prefix; actions are appended: flex.billing.plans.read
    fields: Mapping[str, F] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    update_fields: frozenset[str] | None = None  # None: every creatable field
    filters: Filters = field(default_factory=dict)
    in_filters: frozenset[str] = frozenset({"_id"})
    public_ops: frozenset[str] = READ  # what the platform's public API has
    extra_ops: frozenset[str] = WRITE  # what the `full` profile adds
    count_by: tuple[str, ...] = ()  # the fields `GET /{path}/count?$countBy=` groups by
    count_filters: bool = True  # False: the count ignores every query parameter

    def updatable(self) -> Mapping[str, F]:
        if self.update_fields is None:
            return self.fields
        return {k: v for k, v in self.fields.items() if k in self.update_fields}

    def operations(self, profile: str) -> frozenset[str]:
        return self.public_ops | self.extra_ops if profile == "full" else self.public_ops


_INTERVALS_PLAN = ("once", "month")
_INTERVALS_RATE = ("once", "hour", "day", "month")
_ADDRESS = OBJECT
# Components are kept as the platform holds them: flags combine, may all be missing, and keys
# the emulator does not know stay.
_RATE_COMPONENT = F(
    "list",
    open_items=True,
    item={
        "price": MONEY,
        "intervalLength": F("enum", ("hour", "day", "week", "month")),
        "intervalCount": COUNT,
        "isOffRate": BOOL,
        "isWeekendRate": BOOL,
        "isHalfDayRate": BOOL,
    },
)
_TAX_COMPONENT = F("list", item={"name": STRING, "rate": F("number", minimum=ZERO)})
_CATALOGUE_FILTERS: Filters = {"_id": "id", "name": "string", "code": "string"}

LOCATIONS = Resource(
    "locations",
    "flex.space.locations",
    fields={
        "name": NAME, "code": TEXT, "timezone": STRING, "isOpen": BOOL, "isPublic": BOOL,
        "address": _ADDRESS, "image": TEXT, "properties": OBJECT,
    },
    required=("name",),
    defaults={"timezone": "UTC", "isOpen": True, "isPublic": True, "address": {}, "properties": {}},
    filters={**_CATALOGUE_FILTERS, "isOpen": "bool", "isPublic": "bool"},
)
REVENUE_ACCOUNTS = Resource(
    "revenue-accounts",
    "flex.billing.revenueAccounts",
    fields={"name": NAME, "code": TEXT, "description": TEXT, "taxRate": OPT_ID},
    required=("name",),
    filters=_CATALOGUE_FILTERS,
)
TAX_RATES = Resource(
    "tax-rates",
    "flex.billing.taxRates",
    fields={
        "name": NAME, "code": TEXT, "type": STRING, "rate": F("number", minimum=ZERO),
        "components": _TAX_COMPONENT,
    },
    required=("name",),
    defaults={"type": "sales"},
    filters=_CATALOGUE_FILTERS,
)
RESOURCE_TYPES = Resource(
    "resource-types",
    "flex.space.resourceTypes",
    filters={"_id": "id", "type": "string"},
    in_filters=frozenset({"_id", "type"}),
    extra_ops=NONE,
)
PLANS = Resource(
    "plans",
    "flex.billing.plans",
    fields={
        "name": NAME, "description": TEXT, "code": TEXT, "type": STRING, "price": MONEY,
        "intervalLength": F("enum", _INTERVALS_PLAN), "intervalCount": COUNT, "deposit": MONEY,
        "locations": IDS, "revenueAccount": OPT_ID, "shouldProrate": BOOL, "forMembers": BOOL,
        "forTeamMembers": BOOL, "forNonMembers": BOOL, "properties": OBJECT,
    },
    required=("name", "price", "intervalLength"),
    defaults={
        "description": None, "code": None, "type": "Service", "intervalCount": 1, "deposit": ZERO,
        "locations": [], "revenueAccount": None, "shouldProrate": False, "forMembers": True,
        "forTeamMembers": True, "forNonMembers": False, "properties": {},
    },
    filters=_CATALOGUE_FILTERS,
)
RESOURCE_RATES = Resource(
    "resource-rates",
    "flex.billing.resourceRates",
    fields={
        "name": NAME, "code": TEXT, "description": TEXT, "type": STRING, "price": MONEY,
        "intervalLength": F("enum", _INTERVALS_RATE), "intervalCount": COUNT,
        "revenueAccount": OPT_ID, "locations": IDS, "shouldProrate": BOOL,
        "rates": _RATE_COMPONENT,
    },
    required=("name", "price", "intervalLength"),
    defaults={
        "code": None, "description": None, "type": "meeting_room", "intervalCount": 1,
        "revenueAccount": None, "locations": [], "shouldProrate": False, "rates": [],
    },
    filters=_CATALOGUE_FILTERS,
)
_CUSTOMER_FIELDS: Mapping[str, F] = {
    "name": NAME, "description": TEXT, "email": TEXT, "image": TEXT, "startDate": OPT_DATE,
    "location": OPT_ID, "address": _ADDRESS, "billingDetails": OBJECT,
    "portalPrivacy": OBJECT, "tags": STRINGS, "properties": OBJECT,
}
COMPANIES = Resource(
    "companies",
    "flex.community.companies",
    fields={
        **_CUSTOMER_FIELDS, "url": TEXT,
        "status": F("enum", ("active", "former", "pending", "inactive", "not_approved",
                             "drop-in", "lead")),
        "hasActiveMembersAllowance": BOOL, "activeMembersAllowanceLimit": F("integer"),
    },
    required=("name",),
    defaults={
        "status": "active", "address": {}, "billingDetails": {}, "tags": [], "properties": {},
    },
    filters={"_id": "id", "name": "string", "location": "id", "status": "enum",
             "properties": "properties", **AUDIT_FILTERS},
    in_filters=frozenset({"_id", "status"}),
    public_ops=READ | WRITE,
    extra_ops=NONE,
)
MEMBERS = Resource(
    "members",
    "flex.community.members",
    fields={
        **_CUSTOMER_FIELDS, "phone": TEXT, "company": OPT_ID,
        "status": F("enum", ("active", "former", "pending", "contact", "not_approved",
                             "drop-in", "lead")),
        "isBillingPerson": BOOL, "isContactPerson": BOOL, "socialProfiles": OBJECT,
    },
    required=("name", "email"),
    defaults={
        "status": "active", "company": None, "isBillingPerson": False, "isContactPerson": False,
        "address": {}, "billingDetails": {}, "tags": [], "properties": {},
    },
    filters={"_id": "id", "name": "string", "email": "string", "location": "id", "company": "id",
             "status": "enum", "properties": "properties", **AUDIT_FILTERS},
    in_filters=frozenset({"_id", "status"}),
    public_ops=READ | WRITE,
    extra_ops=NONE,
    count_by=("status", "company", "location"),
)
MEMBERSHIPS = Resource(
    "memberships",
    "flex.community.memberships",
    fields={
        "name": NAME, "startDate": DATE, "endDate": OPT_DATE, "location": ID, "plan": ID,
        "company": ID, "member": ID, "isPersonal": BOOL,
        "type": F("enum", ("month_to_month", "fixed")),
        "intervalLength": F("enum", _INTERVALS_RATE), "intervalCount": COUNT, "price": MONEY,
        "deposit": MONEY, "properties": OBJECT,
    },
    required=("name", "startDate", "location", "plan"),
    defaults={
        "isPersonal": False, "type": "month_to_month", "intervalLength": "month",
        "intervalCount": 1, "isLocked": False, "price": ZERO, "deposit": ZERO,
        "status": "approved", "properties": {},
    },
    update_fields=frozenset({"startDate", "endDate", "price"}),
    filters={"_id": "id", "company": "id", "member": "id", "plan": "id", "location": "id",
             "status": "enum"},
    public_ops=READ | WRITE,
    extra_ops=NONE,
    count_filters=False,  # as observed on staging
)
FEES = Resource(
    "fees",
    "flex.community.fees",
    fields={
        "name": NAME, "issueDate": DATE, "location": ID, "plan": ID, "price": MONEY,
        "member": ID, "company": ID, "quantity": F("number", minimum=ZERO),
        "description": TEXT, "shouldBillInAdvance": BOOL, "isPersonal": BOOL,
        "shouldUseCoins": BOOL, "properties": OBJECT,
    },
    required=("name", "issueDate", "location", "plan", "price"),
    defaults={
        "quantity": 1, "company": None, "member": None, "isPersonal": False,
        "shouldBillInAdvance": False, "shouldUseCoins": False, "isRefundable": False,
        "status": "approved", "properties": {},
    },
    update_fields=frozenset({"name", "issueDate", "price", "quantity", "description",
                             "shouldBillInAdvance", "properties"}),
    filters={"_id": "id", "company": "id", "member": "id", "location": "id", "plan": "id",
             "issueDate": "date", "modifiedAt": "date"},
    public_ops=READ | WRITE,
    extra_ops=NONE,
)
PAYMENTS = Resource(
    "payments",
    "flex.billing.payments",
    filters={"_id": "id", "member": "id", "company": "id", "location": "id", "number": "string",
             "documentType": "enum", "status": "enum", "date": "date", "dueDate": "date",
             **AUDIT_FILTERS},
    in_filters=frozenset({"_id", "status"}),
    extra_ops=frozenset({"create", "delete", "collect"}),  # invoice, void, charge
)
WEBHOOKS = Resource(
    "webhooks",
    "flex.settings.webhooks",
    fields={"url": STRING, "description": TEXT, "eventTypes": STRINGS, "isEnabled": BOOL},
    required=("url", "eventTypes"),
    defaults={"description": None, "isEnabled": True},
    public_ops=READ | WRITE,
    extra_ops=NONE,
)
PAYMENT_GATEWAYS = Resource(
    "payment-gateways",
    "flex.billing.paymentGateways",
    fields={
        "provider": STRING, "account": STRING, "locations": IDS, "isDefault": BOOL,
        "publishableKey": TEXT, "instructions": TEXT, "secret": TEXT,
    },
    required=("provider", "account"),
    defaults={"locations": [], "isDefault": False, "publishableKey": None, "instructions": None},
    update_fields=frozenset({"locations", "isDefault", "publishableKey", "instructions",
                             "secret"}),
    filters={"_id": "id", "provider": "string", "account": "string"},
    public_ops=NONE,
    extra_ops=READ | WRITE,
)
PAYMENT_DETAILS = Resource(
    "payment-details",
    "flex.billing.paymentDetails",
    fields={
        "type": F("enum", ("stripe",)), "method": F("enum", ("card",)), "data": F("string"),
        "member": ID, "company": ID, "isPersonal": F("boolean"),
    },
    required=("type", "method", "data", "isPersonal"),
    filters={"member": "id", "company": "id"},
    in_filters=NONE,
    public_ops=frozenset({"list", "create", "delete"}),
    extra_ops=frozenset({"get"}),
)
CHARGES = Resource(
    "charges",
    "flex.billing.charges",
    filters={"_id": "id", "payment": "id", "status": "enum", "source": "string", "date": "date",
             **AUDIT_FILTERS},
    in_filters=frozenset({"_id", "status"}),
    public_ops=frozenset({"list", "delete"}),
    extra_ops=frozenset({"get"}),
)

COLLECTIONS: dict[str, Resource] = {
    r.path: r
    for r in (
        LOCATIONS, REVENUE_ACCOUNTS, TAX_RATES, RESOURCE_TYPES, PLANS, RESOURCE_RATES, COMPANIES,
        MEMBERS, MEMBERSHIPS, FEES, PAYMENTS, WEBHOOKS, PAYMENT_GATEWAYS, PAYMENT_DETAILS,
        CHARGES,
    )
}

# Seeding order: a kind only references kinds before it.
DEPENDENCY_ORDER = (
    "locations", "tax-rates", "revenue-accounts", "resource-types", "plans", "resource-rates",
    "payment-gateways", "companies", "members", "memberships", "fees", "charges", "webhooks",
)


@dataclass(frozen=True)
class Singleton:
    path: str
    scope: str
    fields: Mapping[str, F]
    writable: bool
    extension: bool


SINGLETONS: dict[str, Singleton] = {
    s.path: s
    for s in (
        Singleton("billing-settings", "flex.settings.billing", {}, writable=False,
                  extension=False),
        Singleton(
            "invoicing-settings",
            "flex.settings.billing",
            {"automaticBillRun": BOOL, "automaticSending": BOOL,
             "automaticPaymentCollection": BOOL, "payNowButton": BOOL},
            writable=True,
            extension=True,
        ),
        Singleton(
            "storefront",
            "flex.settings.storefront",
            {"enabled": BOOL, "plans": IDS, "resourceRates": IDS, "locations": IDS},
            writable=True,
            extension=True,
        ),
        Singleton("account", "flex.settings.organization", {}, writable=False, extension=True),
    )
}


def all_scopes(profile: str) -> frozenset[str]:
    """Every scope a client can be granted on this profile: one per operation it has."""
    scopes = {"flex.settings.organization.read"}
    for res in COLLECTIONS.values():
        scopes.update(f"{res.scope}.{ACTIONS[op]}" for op in res.operations(profile))
    for single in SINGLETONS.values():
        if single.extension and profile != "full":
            continue
        scopes.add(f"{single.scope}.read")
        if single.writable:
            scopes.add(f"{single.scope}.update")
    return frozenset(scopes)
