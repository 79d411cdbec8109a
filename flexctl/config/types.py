"""The building blocks of the configuration's models: strict pydantic types for amounts, keys,
names and secret references, and the settings every configuration has.

The loader hands the models plain Python values: str, int, bool, `Decimal` (every YAML number
written with a fraction or exponent), `date`, lists and dicts, and `composer.Unresolved` for a
plain scalar that has no value (2026-02-30), which no type accepts. Models are strict and forbid
unknown keys. Each kind's own model lives in its module under `flexctl/kinds/`; the whole
`Config` is assembled from them by `flexctl.kinds.configuration`.
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
)

from flexctl.config.lint import IgnoreWarnings
from flexctl.config.scalars import describe

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
_SLUG = re.compile(SLUG_PATTERN)
OBJECT_ID_PATTERN = r"^[0-9a-f]{24}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


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
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def no_items() -> list[Any]:
    """The default of a list field: `Field(default_factory=no_items)`, a new list for each
    object. A shared `[]` would be deep-copied by pydantic-core for every object that omits
    the field (54,000 times at 1x), and `list` itself would cost a signature parse per field
    when the models are built."""
    return []


def no_entries() -> dict[str, Any]:
    """The default of a mapping field (a section): a new dict for each configuration."""
    return {}


class Model(BaseModel):
    # A field's docstring is its description in the JSON Schema (editors show it), read when
    # the schema is generated (flexctl.config.docstrings), not as each model is built.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def is_slug(key: str) -> bool:
    return bool(_SLUG.match(key))


# --- secrets ---------------------------------------------------------------------------------


class EnvSecret(Model):
    """A secret read from an environment variable at plan/apply time."""

    env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    """The name of the environment variable."""


class FileSecret(Model):
    """A secret read from a file (a relative path is relative to the YAML file naming it)."""

    file: Annotated[str, StringConstraints(min_length=1)]
    """The path of the file holding the secret (its content, without the final line break)."""


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


# --- what every configuration has ------------------------------------------------------------


def _ratio(value: Any) -> Any:
    amount = _amount(value)
    if not Decimal(0) <= amount <= Decimal(1):
        raise ValueError("must be between 0 and 1")
    return amount


Ratio = Annotated[
    Decimal,
    BeforeValidator(_ratio),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1}),
]
# A percentage (of a run-rate): exact and non-negative, and above 100 where that means something.
Percent = Annotated[
    Decimal,
    BeforeValidator(_amount),
    AfterValidator(_non_negative),
    WithJsonSchema({"type": "number", "minimum": 0}),
]


class MoneyPolicy(Model):
    """`policy.money`: what a plan may do to money before it is blocked (unless `--force`)."""

    max_monthly_decrease: Amount | None = Field(
        None, description="Block a plan that lowers the monthly run-rate of the configured "
        "customers by more than this amount."
    )
    max_customer_change_percent: Percent | None = Field(
        None, description="Block a plan that changes one customer's monthly run-rate by more "
        "than this percentage of it (up or down)."
    )
    allow_money_movement: bool = Field(
        False, description="Allow changes that move money by themselves, such as turning on "
        "automatic payment collection; false blocks them."
    )


class PolicyBase(Model):
    """`policy:`. The assembled model narrows `prune` to the names of prunable kinds."""

    prune: list[str] = Field(
        default_factory=no_items,
        description="Kinds whose live objects missing from the config are deleted.",
    )
    max_change_ratio: Ratio = Field(
        Decimal("0.3"),
        description="Updates and deletes over existing objects of a kind (10+) that block a "
        "plan unless forced.",
    )
    money: MoneyPolicy = Field(
        MoneyPolicy(), description="Money guards: what a plan may do to what customers pay."
    )
    notice_days: int = Field(
        0, ge=0, description="Days of notice a price rise on a membership line (a `changes` "
        "entry) needs: a plan is blocked while its `from` is sooner than this after today "
        "(campaigns have their own `notice_days`)."
    )
    lock_date: date | None = Field(
        None, description="Billing periods up to and including this date are closed: a plan "
        "that would start, end, delete or reprice a membership, or create, change or delete a "
        "fee, inside them is blocked (the platform's own lock date, where the target exposes "
        "it, counts too: the later wins)."
    )
    ignore_warnings: IgnoreWarnings = Field(default_factory=no_items)


class ConfigBase(Model):
    """The settings of every configuration; the kinds' sections are added to it by
    `flexctl.kinds.configuration`, one field per kind."""

    version: Literal[1] = Field(description="Format version; always 1.")
    organization: Slug = Field(
        description="Slug of the OfficeRnD organization this configuration describes."
    )
    currency: CurrencyCode = Field(
        description="ISO 4217 code; every amount is an exact decimal in this currency."
    )
    policy: PolicyBase = Field(
        PolicyBase(), description="What flexctl may delete, its safety thresholds and money "
        "guards, and the pricing-lint warnings it does not report."
    )

    def section(self, name: str) -> Any:
        """A kind's section by name (`config.section("plans")`)."""
        return getattr(self, name)
