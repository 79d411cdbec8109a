"""Semantic rules that span sections, checked after the models accept the shape.

Every rule runs and every problem is collected: references resolve, fee plans are one-off and
membership plans recurring, dates are ordered, amounts fit the currency's minor unit, emails
and natural keys are unique, at most one default gateway per location, keys are slugs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flexctl.config.composer import Path
from flexctl.config.loader import PositionIndex, dotted
from flexctl.config.models import KEYED_SECTIONS, Config, Fee, Membership, Rate, is_slug
from flexctl.config.validation import Broken
from flexctl.errors import ConfigIssue

# ISO 4217 minor units for currencies that do not use 2 (2 is the default).
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND"), 0
    ),
    **dict.fromkeys(("VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
# Active ISO 4217 currency codes (2025), without precious metals, bond units and test codes.
_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD
    XCG XOF XPF YER ZAR ZMW ZWG ZWL
"""
CURRENCIES = frozenset(_ISO_4217.split())
# Unit prices of one-off plans and fees may be finer than the currency (printing at 0.0125 a
# page); the platform rounds the invoice line total to the currency.
UNIT_PRICE_DECIMALS = 4
MAX_TAX_RATE = Decimal(100)
RATE_COMPONENTS = {
    "hour": ("off_hours_price", "weekend_price", "full_day_price"),
    "day": ("half_day_price", "week_price", "month_price", "weekend_price"),
}
ALL_COMPONENTS = sorted({name for names in RATE_COMPONENTS.values() for name in names})
_NOUNS = {
    "locations": "location",
    "revenue_accounts": "revenue account",
    "tax_rates": "tax rate",
    "plans": "plan",
    "rates": "rate",
    "companies": "company",
}
_SUGGEST_LIMIT = 500  # above this many keys, skip "did you mean" (it is quadratic)


def decimal_places(amount: Decimal) -> int:
    """Significant decimal places: 0.10 has 1, 25 has 0, 1e-5 has 5 (exact, no rounding)."""
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or not any(digits):
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing)


def natural_key(section: str, obj: Any) -> tuple[str, str]:
    """The field a live object is matched by when it is not pinned, and its value as shown."""
    if section == "gateways":
        return "account", f"{obj.provider} account '{obj.account}'"
    if section != "companies" and getattr(obj, "code", None) is not None:
        return "code", f"code '{obj.code}'"
    return "name", f"name '{obj.name}'"


def check(config: Config, index: PositionIndex, broken: Broken | None = None) -> list[ConfigIssue]:
    """Every semantic problem of a config. `broken` names what failed the schema and was left
    out of `config`: references to it are not reported again as unknown."""
    return _Checker(config, index, broken or {}).run()


class _Checker:
    def __init__(self, config: Config, index: PositionIndex, broken: Broken) -> None:
        self.config = config
        self.index = index
        self.broken = broken
        self.issues: list[ConfigIssue] = []
        self.minor = MINOR_UNITS.get(config.currency, 2)

    def add(self, path: Path, message: str) -> None:
        self.issues.append(self.index.issue(path, message))

    def run(self) -> list[ConfigIssue]:
        if "currency" not in self.broken and self.config.currency not in CURRENCIES:
            self.add(("currency",), f"'{self.config.currency}' is not an ISO 4217 currency code")
        self._slugs()
        self._pins()
        self._natural_keys()
        self._catalogue()
        self._gateways()
        self._customers()
        self._storefront()
        return self.issues

    # --- helpers ---------------------------------------------------------------------------

    def ref(self, path: Path, key: str | None, section: str) -> bool:
        """Report `key` if it is not a key of `section`; True when it resolves."""
        if key is None:
            return True
        keys = getattr(self.config, section)
        if key in keys:
            return True
        if section in self.broken:
            left_out = self.broken[section]
            if left_out is None or key in left_out:
                return False  # already reported by the schema check
        noun = _NOUNS[section]
        hint = ""
        if len(keys) <= _SUGGEST_LIMIT:
            close = difflib.get_close_matches(key, list(keys), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.add(path, f"unknown {noun} '{key}'{hint}")
        return False

    def refs(self, path: Path, keys: Sequence[str] | None, section: str) -> None:
        seen: set[str] = set()
        for number, key in enumerate(keys or ()):
            if key in seen:
                self.add((*path, number), f"'{key}' is listed twice")
            seen.add(key)
            self.ref((*path, number), key, section)

    def amount(self, path: Path, value: Decimal | None, unit_price: bool = False) -> None:
        if value is None or "currency" in self.broken:
            return
        allowed = max(self.minor, UNIT_PRICE_DECIMALS) if unit_price else self.minor
        places = decimal_places(value)
        if places > allowed:
            what = (
                "unit prices of one-off plans and fees"
                if unit_price
                else f"{self.config.currency} amounts"
            )
            plural = "" if places == 1 else "s"
            self.add(
                path, f"{value} has {places} decimal place{plural}; {what} allow at most {allowed}"
            )

    # --- rules -----------------------------------------------------------------------------

    def _slugs(self) -> None:
        for section in KEYED_SECTIONS:
            for key in getattr(self.config, section):
                if not is_slug(key):
                    self.add(
                        (section, key),
                        f"key '{key}' must be a slug: lowercase letters, digits, '-' and '_', "
                        "starting with a letter or digit",
                    )

    def _pins(self) -> None:
        """One entry per pinned id and kind: two would both claim the same live object."""
        pinned: dict[tuple[str, str], str] = {}

        def claim(kind: str, path: Path, pin: str | None) -> None:
            if pin is None:
                return
            where = dotted(path)
            other = pinned.setdefault((kind, pin), where)
            if other != where:
                self.add((*path, "id"), f"id {pin} is already pinned by {other}")

        for section in KEYED_SECTIONS:
            for key, obj in getattr(self.config, section).items():
                claim(section, (section, key), obj.id)
        for section in ("companies", "members"):
            for key, customer in getattr(self.config, section).items():
                for kind in ("memberships", "fees"):
                    for number, item in enumerate(getattr(customer, kind)):
                        claim(kind, (section, key, kind, number), item.id)

    def _natural_keys(self) -> None:
        """Unpinned objects are matched to live ones by natural key (SPEC "Identity"): two
        with the same key would both claim one live object."""
        for section in ("locations", "revenue_accounts", "tax_rates", "plans", "rates",
                        "companies", "gateways"):
            seen: dict[tuple[str, str], str] = {}
            for key, obj in getattr(self.config, section).items():
                if obj.id is not None:
                    continue
                field, identity = natural_key(section, obj)
                other = seen.setdefault((field, identity), key)
                if other != key:
                    self.add(
                        (section, key, field),
                        f"{section}.{other} has the same {identity}: live objects are matched "
                        "by it, so give each its own or pin one with `id:`",
                    )

    def _catalogue(self) -> None:
        config = self.config
        for key, account in config.revenue_accounts.items():
            self.ref(("revenue_accounts", key, "tax_rate"), account.tax_rate, "tax_rates")
        for key, tax in config.tax_rates.items():
            if tax.rate is not None:
                self._tax_rate(("tax_rates", key, "rate"), tax.rate)
        for key, plan in config.plans.items():
            path: Path = ("plans", key)
            self.refs((*path, "locations"), plan.locations, "locations")
            self.ref((*path, "revenue_account"), plan.revenue_account, "revenue_accounts")
            self.amount((*path, "price"), plan.price, unit_price=plan.billing == "one_off")
            self.amount((*path, "deposit"), plan.deposit)
        for key, rate in config.rates.items():
            self._rate(("rates", key), rate)

    def _tax_rate(self, path: Path, rate: Decimal) -> None:
        if rate > MAX_TAX_RATE:
            self.add(path, f"a tax rate is a percentage, at most 100, got {rate}")
        if decimal_places(rate) > UNIT_PRICE_DECIMALS:
            self.add(path, f"{rate} has more than {UNIT_PRICE_DECIMALS} decimal places")

    def _rate(self, path: Path, rate: Rate) -> None:
        self.refs((*path, "locations"), rate.locations, "locations")
        self.ref((*path, "revenue_account"), rate.revenue_account, "revenue_accounts")
        self.amount((*path, "price"), rate.price)
        allowed = RATE_COMPONENTS[rate.unit]
        for component in ALL_COMPONENTS:
            value = getattr(rate, component)
            if value is None:
                continue
            if component not in allowed:
                self.add(
                    (*path, component),
                    f"'{component}' is not a component of a per-{rate.unit} rate "
                    f"(allowed: {', '.join(allowed)})",
                )
            self.amount((*path, component), value)

    def _gateways(self) -> None:
        defaults: dict[str, str] = {}
        every_location = list(self.config.locations)
        for key, gateway in self.config.gateways.items():
            path = ("gateways", key)
            self.refs((*path, "locations"), gateway.locations, "locations")
            if not gateway.default:
                continue
            for location in gateway.locations or every_location:
                other = defaults.setdefault(location, key)
                if other != key:
                    self.add(
                        (*path, "default"),
                        f"gateway '{other}' is already the default for location '{location}'",
                    )

    def _customers(self) -> None:
        emails: dict[str, str] = {}
        for section in ("companies", "members"):
            customers = getattr(self.config, section)
            for key, customer in customers.items():
                path: Path = (section, key)
                self.ref((*path, "location"), customer.location, "locations")
                self._memberships(path, customer.memberships)
                self._fees(path, customer.fees)
        for key, member in self.config.members.items():
            self.ref(("members", key, "company"), member.company, "companies")
            email = member.email.casefold()
            other = emails.setdefault(email, key)
            if other != key:
                self.add(
                    ("members", key, "email"),
                    f"email '{member.email}' is already used by member '{other}'",
                )

    def _memberships(self, owner: Path, memberships: Iterable[Membership]) -> None:
        seen: dict[tuple[object, ...], int] = {}
        for number, membership in enumerate(memberships):
            path = (*owner, "memberships", number)
            if self.ref((*path, "plan"), membership.plan, "plans"):
                billing = self.config.plans[membership.plan].billing
                if billing != "recurring":
                    self.add(
                        (*path, "plan"),
                        f"plan '{membership.plan}' is one_off; a membership needs a recurring "
                        "plan (charge one-off plans as fees)",
                    )
            self.ref((*path, "location"), membership.location, "locations")
            if membership.end is not None and membership.end < membership.start:
                self.add(
                    (*path, "end"),
                    f"end {membership.end} is before start {membership.start}",
                )
            self.amount((*path, "price"), membership.price)
            first = seen.setdefault((membership.plan, membership.start), number)
            if first != number:
                self.add(
                    path,
                    f"duplicate membership: same plan and start as memberships[{first}]",
                )

    def _fees(self, owner: Path, fees: Iterable[Fee]) -> None:
        seen: dict[tuple[object, ...], int] = {}
        plans = self.config.plans
        for number, fee in enumerate(fees):
            path = (*owner, "fees", number)
            name = fee.name
            if self.ref((*path, "plan"), fee.plan, "plans"):
                plan = plans[fee.plan]
                name = name or plan.name
                if plan.billing != "one_off":
                    self.add(
                        (*path, "plan"),
                        f"plan '{fee.plan}' is recurring; a fee needs a one_off plan "
                        "(assign recurring plans as memberships)",
                    )
            self.ref((*path, "location"), fee.location, "locations")
            self.amount((*path, "price"), fee.price, unit_price=True)
            first = seen.setdefault((fee.plan, fee.date, name), number)
            if first != number:
                self.add(path, f"duplicate fee: same plan, date and name as fees[{first}]")

    def _storefront(self) -> None:
        storefront = self.config.storefront
        if storefront is None:
            return
        self.refs(("storefront", "plans"), storefront.plans, "plans")
        self.refs(("storefront", "rates"), storefront.rates, "rates")
        self.refs(("storefront", "locations"), storefront.locations, "locations")
