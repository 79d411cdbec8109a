"""Repricing campaigns: the `repricing:` section, a configuration section without a platform
kind of its own (nothing is read from or written to a `repricing` collection).

A campaign changes the price of every declared membership of one plan from a date, exactly as
if each such line had a `changes` entry `{from: FROM, price: NEW}`:

```yaml
repricing:
  hot-desk-2027:
    plan: hot-desk
    from: 2027-01-01
    price: 270.00            # or: increase: 8%
    notice_days: 30
    except: [companies.legacy-co, members.sofia-rossi]
```

It reaches a line of the plan that is active on `from` (start <= from <= end) and has no
change of its own on or after `from`; the customers listed in `except` keep their price. An
`increase` is a percentage of the line's price before `from`, rounded to the currency's minor
unit, half up (`increase_price`). The rules of this module are called by the memberships kind
(which expands the lines) and by the configuration's checks; the engines name neither.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from flexctl.config.currency import minor_units
from flexctl.config.rules import Checker
from flexctl.config.scalars import describe
from flexctl.config.types import Amount, ConfigBase, Model, Ref, no_entries, no_items
from flexctl.kinds.base import Obj
from flexctl.kinds.money import amount_text, rounded

SECTION = "repricing"
CUSTOMER_SECTIONS = ("companies", "members")
INCREASE_PATTERN = r"^[0-9]+(\.[0-9]+)?%$"
_INCREASE = re.compile(INCREASE_PATTERN)


def _increase(value: Any) -> Any:
    if not isinstance(value, str) or not _INCREASE.match(value):
        cut = " (a decrease: give the new `price` instead)" \
            if isinstance(value, str) and value.startswith("-") else ""
        raise ValueError(f"expected a percentage such as \"8%\", got {describe(value)}{cut}")
    return value


Increase = Annotated[str, BeforeValidator(_increase),
                     WithJsonSchema({"type": "string", "pattern": INCREASE_PATTERN})]


class Campaign(Model):
    """A price change of every declared membership of one plan from a date."""

    plan: Ref = Field(description="Key of the recurring plan whose memberships change price.")
    from_: date = Field(alias="from", description="The first day of the new price (YYYY-MM-DD).")
    price: Amount | None = Field(None, description="The new monthly price (exclusive with "
                                 "`increase`).")
    increase: Increase | None = Field(
        None, description="A rise in percent of each membership's current price, such as "
        "\"8%\", rounded to the currency's minor unit, half up (exclusive with `price`)."
    )
    notice_days: int = Field(0, ge=0, description="Days of notice customers must get: a plan "
                             "is blocked while `from` is sooner than this after today.")
    except_: list[str] = Field(
        default_factory=no_items, alias="except",
        description="Customers who keep their price, as `companies.KEY` or `members.KEY`.",
    )

    @model_validator(mode="after")
    def _one_price(self) -> Campaign:
        if (self.price is None) == (self.increase is None):
            raise ValueError("give exactly one of `price` or `increase`")
        return self

    def new_price(self, old: Decimal, digits: int) -> Decimal:
        """The price a membership paying `old` pays from `from`."""
        if self.price is not None:
            return self.price
        return increase_price(old, str(self.increase), digits)


def increase_price(old: Decimal, increase: str, digits: int) -> Decimal:
    """`old` raised by `increase` ("8%"), to the currency's minor unit, half up:
    250.00 + 8% = 270.00; 45.50 + 8% = 49.14 (49.140); 12.35 + 10% = 13.59 (13.585)."""
    if not _INCREASE.match(increase):
        raise ValueError(f"not a percentage: {increase!r}")
    percent = Decimal(increase[:-1])
    return rounded(old * (100 + percent) / 100, digits)


def campaigns(config: ConfigBase) -> Mapping[str, Campaign]:
    found: Mapping[str, Campaign] = getattr(config, SECTION, {}) or {}
    return found


def section_field() -> tuple[Any, Any]:
    """The `repricing` field of the assembled `Config` model."""
    return (dict[str, Campaign], Field(
        default_factory=no_entries,
        description="Repricing campaigns: a price change of every declared membership of a plan "
        "from a date, with notice and exceptions (see docs/changing-prices.md).",
    ))


def check(config: ConfigBase, checker: Checker) -> None:
    """References (plan, customers), the amount's digits and one campaign per plan and date."""
    seen: dict[tuple[str, date], str] = {}
    plans = checker.sections.get("plans", {})
    for key, campaign in campaigns(config).items():
        path = (SECTION, key)
        if checker.ref((*path, "plan"), campaign.plan, "plans"):
            plan = plans.get(campaign.plan)
            if plan is not None and getattr(plan, "billing", "recurring") != "recurring":
                checker.add((*path, "plan"), f"plan '{campaign.plan}' is {plan.billing}; a "
                            "campaign reprices memberships, which need a recurring plan")
        checker.amount((*path, "price"), campaign.price)
        first = seen.setdefault((campaign.plan, campaign.from_), key)
        if first != key:
            checker.add((*path, "from"), f"campaign '{first}' already changes plan "
                        f"'{campaign.plan}' from {campaign.from_}")
        listed: set[str] = set()
        for number, customer in enumerate(campaign.except_):
            where = (*path, "except", number)
            if customer in listed:
                checker.add(where, f"'{customer}' is listed twice")
            listed.add(customer)
            section, dot, name = customer.partition(".")
            if not dot or section not in CUSTOMER_SECTIONS or not name:
                checker.add(where, f"'{customer}' is not a customer address: write "
                            "companies.KEY or members.KEY")
                continue
            checker.ref(where, name, section)


def excepted(campaign: Campaign) -> frozenset[str]:
    return frozenset(campaign.except_)


def for_plan_all(config: ConfigBase) -> list[tuple[str, Campaign]]:
    """Every campaign, earliest first."""
    return sorted(campaigns(config).items(), key=lambda kc: (kc[1].from_, kc[0]))


def report(config: ConfigBase, desired: Sequence[Obj], live: Sequence[Obj]) -> list[str]:
    """What a plan says of each campaign: the memberships it reprices (old -> new price), its
    monthly effect, the customers it excepts, and the live memberships of its plan that the
    configuration does not declare (not reached: never touched)."""
    digits = minor_units(config.currency)
    declared = {obj.address for obj in desired}
    lines: list[str] = []
    for key, campaign in for_plan_all(config):
        how = f"price {campaign.price}" if campaign.price is not None else \
            f"increase {campaign.increase}"
        reached = [(obj, obj.meta["campaign"][1]) for obj in desired
                   if obj.meta.get("campaign", (None,))[0] == key]
        total = sum((obj.fields["price"] - was for obj, was in reached
                     if isinstance(obj.fields.get("price"), Decimal) and was is not None),
                    Decimal(0))
        held = {o.address: o.fields.get("price") for o in live}
        done = bool(reached) and all(
            obj.address in held and held[obj.address] == obj.fields.get("price")
            for obj, _ in reached)
        lines.append(f"campaign {key}: plan {campaign.plan} from {campaign.from_} ({how}, "
                     f"notice {campaign.notice_days} days): {counted(len(reached))}, "
                     f"{amount_text(total, digits, signed=True)} a month"
                     + (" (in place on the platform)" if done else ""))
        for obj, was in sorted(reached, key=lambda pair: pair[0].address):
            lines.append(f"  {obj.owner}: {amount_text(was, digits)} -> "
                         f"{amount_text(obj.fields.get('price'), digits)} from {campaign.from_}")
        for customer in campaign.except_:
            lines.append(f"  {customer}: excepted, keeps its price")
        missed = sorted(o.address + (f" (id {o.id})" if o.id else "") for o in live
                        if o.address not in declared and o.fields.get("plan") == campaign.plan
                        and _active(o, campaign.from_))
        if missed:
            lines.append(f"  not reached (live, not declared in the configuration, left "
                         f"untouched): {counted(len(missed))}: {', '.join(missed)}")
    return lines


def _active(obj: Obj, day: date) -> bool:
    start, end = obj.fields.get("start"), obj.fields.get("end")
    return (not isinstance(start, date) or start <= day) and \
        (not isinstance(end, date) or end >= day)


def counted(number: int) -> str:
    return f"{number} membership" + ("" if number == 1 else "s")
