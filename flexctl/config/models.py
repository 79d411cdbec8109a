"""The configuration format (version 1) as strict pydantic models.

The loader hands these models plain Python values: str, int, bool, `Decimal` (every YAML number
written with a fraction or exponent), `date`, lists and dicts. Models are strict and forbid
unknown keys; semantic checks that span sections live in `config.checks`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from flexctl.config.scalars import describe

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
_SLUG = re.compile(SLUG_PATTERN)
OBJECT_ID_PATTERN = r"^[0-9a-f]{24}$"


# Larger amounts are typos (or `1e400`); the platform could not store them either.
MAX_AMOUNT = Decimal(10) ** 12


def _amount(value: Any) -> Any:
    """Accept integers and exact decimals; refuse strings, booleans, floats and -0."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"expected a number such as 25 or 25.00, got {describe(value)}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"must be a finite number, got {describe(value)}")
    # copy_abs, not abs(): abs() rounds in the decimal context and raises Overflow past 1e999999.
    if amount.copy_abs() >= MAX_AMOUNT:
        raise ValueError(f"{describe(value)} is too large (the limit is 999999999999)")
    if amount.is_zero() and amount.is_signed():  # it would be sent with its sign
        raise ValueError(f"a zero must not have a minus sign, got {describe(value)}")
    return amount


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"must not be negative, got {describe(value)}")
    return value


# An amount of money in the configuration's currency: exact, never a float.
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    AfterValidator(_non_negative),
    WithJsonSchema({"type": "number", "minimum": 0}),
]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Ref = Annotated[str, StringConstraints(min_length=1)]  # a key of another section
ObjectId = Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=False)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- secrets ---------------------------------------------------------------------------------


class EnvSecret(Model):
    """A secret read from an environment variable at plan/apply time."""

    env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class FileSecret(Model):
    """A secret read from a file (a relative path is relative to the YAML file naming it)."""

    file: Annotated[str, StringConstraints(min_length=1)]


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Prefixes of live credentials (Stripe secret/restricted keys, webhook secrets, GoCardless
# tokens): such a value pasted as a variable's name or a path would be echoed by warnings.
_KEY_PREFIXES = ("sk_", "rk_", "whsec_", "live_", "sandbox_")


def looks_like_a_key(value: str) -> bool:
    return len(value) >= 16 and value.startswith(_KEY_PREFIXES)


def _secret_ref(value: Any) -> Any:
    """One clear message for every wrong shape, instead of one per union member.

    No message quotes a value written here: it may be the secret itself (an unquoted key
    reads as a number; a key pasted as the variable's name).
    """
    if isinstance(value, EnvSecret | FileSecret):
        return value
    if value is not None and not isinstance(value, dict | list):
        raise ValueError(
            "a literal secret is not allowed here: write a reference such as "
            "{env: NAME} or {file: PATH}"
        )
    if not isinstance(value, dict) or len(value) != 1 or not {"env", "file"} & set(value):
        raise ValueError(f"expected {{env: NAME}} or {{file: PATH}}, got {describe(value)}")
    ((key, reference),) = value.items()
    if not isinstance(reference, str) or not reference:
        raise ValueError(f"'{key}' must be a non-empty string")
    if looks_like_a_key(reference):
        raise ValueError(
            f"'{key}' must name where the secret is, not hold it: this looks like a key "
            "itself (rotate it, then write {env: NAME} or {file: PATH})"
        )
    if key == "env":
        if not _ENV_NAME.match(reference):
            raise ValueError(
                "'env' must name an environment variable (letters, digits and '_', "
                "not starting with a digit)"
            )
        return EnvSecret(env=reference)
    return FileSecret(file=reference)


SecretRef = Annotated[EnvSecret | FileSecret, BeforeValidator(_secret_ref)]


# --- catalogue bindings ----------------------------------------------------------------------


class Location(Model):
    """An existing location, bound by code or name (read-only on OfficeRnD)."""

    id: ObjectId | None = None
    name: Name
    code: str | None = None
    timezone: str | None = None


class RevenueAccount(Model):
    id: ObjectId | None = None
    name: Name | None = None
    code: str | None = None
    description: str | None = None
    tax_rate: Ref | None = None

    @model_validator(mode="after")
    def _named(self) -> RevenueAccount:
        if self.name is None and self.code is None:
            raise ValueError("a revenue account needs a name or a code")
        return self


class TaxRate(Model):
    id: ObjectId | None = None
    name: Name
    code: str | None = None
    rate: Amount | None = None  # percent, e.g. 20 or 20.5


# --- gateways --------------------------------------------------------------------------------


class _Gateway(Model):
    id: ObjectId | None = None
    account: Annotated[str, StringConstraints(min_length=1)]  # non-secret identifier
    locations: list[Ref] | None = None  # omitted = all locations
    default: bool = False


def _publishable(value: str) -> str:
    # A secret or restricted key pasted here would be shown in every plan; never echo it.
    if looks_like_a_key(value):
        raise ValueError("this is a secret key, not a publishable one (pk_...); put it in "
                         "secret_key as {env: NAME} or {file: PATH} and rotate it")
    return value


class StripeGateway(_Gateway):
    provider: Literal["stripe"]
    secret_key: SecretRef
    publishable_key: Annotated[str, AfterValidator(_publishable)] | None = None


class GoCardlessGateway(_Gateway):
    provider: Literal["gocardless"]
    access_token: SecretRef


class AuthorizeNetGateway(_Gateway):
    provider: Literal["authorize_net"]
    transaction_key: SecretRef


class PayPalGateway(_Gateway):
    provider: Literal["paypal"]
    client_secret: SecretRef


class BankTransferGateway(_Gateway):
    provider: Literal["bank_transfer"]
    instructions: str | None = None


Gateway = Annotated[
    StripeGateway | GoCardlessGateway | AuthorizeNetGateway | PayPalGateway | BankTransferGateway,
    Field(discriminator="provider"),
]
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "stripe": ("secret_key",),
    "gocardless": ("access_token",),
    "authorize_net": ("transaction_key",),
    "paypal": ("client_secret",),
    "bank_transfer": (),
}


# --- services --------------------------------------------------------------------------------


class Visibility(Model):
    members: bool = True
    team_members: bool = True
    non_members: bool = False


class Plan(Model):
    """A billing plan: a recurring membership or a one-off service (day pass, printing...)."""

    id: ObjectId | None = None
    name: Name
    code: str | None = None
    description: str | None = None
    billing: Literal["recurring", "one_off"]
    price: Amount
    type: str | None = None
    locations: list[Ref] | None = None  # omitted = all
    revenue_account: Ref | None = None
    deposit: Amount = Decimal(0)
    prorate: bool = True
    visibility: Visibility = Visibility()


class Rate(Model):
    """A resource rate: hourly (meeting rooms) or daily (desks, event spaces)."""

    id: ObjectId | None = None
    name: Name
    code: str | None = None
    description: str | None = None
    unit: Literal["hour", "day"]
    price: Amount
    off_hours_price: Amount | None = None  # hour: outside business hours
    weekend_price: Amount | None = None  # hour or day
    full_day_price: Amount | None = None  # hour: cap for a full day
    half_day_price: Amount | None = None  # day: half a day
    week_price: Amount | None = None  # day
    month_price: Amount | None = None  # day
    resource_type: str | None = None
    locations: list[Ref] | None = None
    revenue_account: Ref | None = None


# --- customers -------------------------------------------------------------------------------


class BillingDetails(Model):
    billing_name: str | None = None
    vat_number: str | None = None
    registration_number: str | None = None


class Membership(Model):
    """A recurring plan assigned to a customer from `start` (to `end`, inclusive)."""

    id: ObjectId | None = None
    plan: Ref
    start: date
    end: date | None = None
    price: Amount | None = None  # None = the plan's price
    location: Ref | None = None  # None = the customer's location
    name: Name | None = None  # None = the plan's name


class Fee(Model):
    """A one-off charge on a customer."""

    id: ObjectId | None = None
    plan: Ref
    date: date
    quantity: Annotated[int, Field(ge=1)] = 1
    price: Amount | None = None  # unit price; None = the plan's price
    name: Name | None = None  # None = the plan's name
    location: Ref | None = None  # None = the customer's location


class _Customer(Model):
    id: ObjectId | None = None
    name: Name
    email: Email | None = None
    location: Ref
    description: str | None = None
    billing_details: BillingDetails | None = None
    memberships: list[Membership] = []
    fees: list[Fee] = []


class Company(_Customer):
    pass


class Member(_Customer):
    email: Email  # members are matched by email
    company: Ref | None = None
    billing_person: bool = False
    contact_person: bool = False


# --- settings --------------------------------------------------------------------------------


class Invoicing(Model):
    """Settings > Billing > Invoicing. An omitted field is not managed."""

    automatic_bill_run: bool | None = None
    automatic_sending: bool | None = None
    automatic_payment_collection: bool | None = None
    pay_now_button: bool | None = None


class Storefront(Model):
    """Growth Hub: what is offered to non-members online."""

    enabled: bool
    plans: list[Ref] = []
    rates: list[Ref] = []
    locations: list[Ref] = []


PrunableKind = Literal[
    "locations",
    "revenue_accounts",
    "tax_rates",
    "gateways",
    "plans",
    "rates",
    "companies",
    "members",
    "memberships",
    "fees",
]


def _ratio(value: Any) -> Any:
    amount = _amount(value)
    if not Decimal(0) <= amount <= Decimal(1):
        raise ValueError("must be between 0 and 1")
    return amount


class Policy(Model):
    prune: list[PrunableKind] = []
    max_change_ratio: Annotated[
        Decimal,
        BeforeValidator(_ratio),
        WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1}),
    ] = Decimal("0.3")


# --- the whole configuration -----------------------------------------------------------------


class Config(Model):
    version: Literal[1]
    organization: Slug
    currency: CurrencyCode
    locations: dict[str, Location] = {}
    revenue_accounts: dict[str, RevenueAccount] = {}
    tax_rates: dict[str, TaxRate] = {}
    gateways: dict[str, Gateway] = {}
    plans: dict[str, Plan] = {}
    rates: dict[str, Rate] = {}
    companies: dict[str, Company] = {}
    members: dict[str, Member] = {}
    invoicing: Invoicing | None = None
    storefront: Storefront | None = None
    policy: Policy = Policy()


# Sections whose values are keyed by slug, in dependency order.
KEYED_SECTIONS = (
    "locations",
    "revenue_accounts",
    "tax_rates",
    "gateways",
    "plans",
    "rates",
    "companies",
    "members",
)


def is_slug(key: str) -> bool:
    return bool(_SLUG.match(key))
