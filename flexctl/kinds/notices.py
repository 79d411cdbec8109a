"""The notice letters of a repricing campaign: one row per membership it reprices, for a
mail merge (`flexctl notices CAMPAIGN`).

Each row names the customer, who receives its invoices (a company's member with
`billing_person: true`, else the company itself; a member is their own contact), the
membership (its line's address and plan), the monthly price before and from the campaign's
date. It is computed from the configuration alone, with the same rules as the plan
(`flexctl.kinds._splits.periods`), so the letters and the plan cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flexctl.config.currency import minor_units
from flexctl.config.types import ConfigBase
from flexctl.kinds._splits import periods
from flexctl.kinds.money import amount_text
from flexctl.kinds.repricing import campaigns, for_plan_all

CUSTOMERS = ("companies", "members")
COLUMNS = ("customer", "customer_name", "billing_contact", "billing_email", "membership",
           "plan", "old_monthly_price", "new_monthly_price", "currency", "effective_date")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Notice:
    customer: str
    customer_name: str
    billing_contact: str
    billing_email: str
    membership: str
    plan: str
    old_monthly_price: str
    new_monthly_price: str
    currency: str
    effective_date: date

    def cells(self) -> list[str]:
        return [safe_cell(str(getattr(self, column))) for column in COLUMNS]


def safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a `'` first."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def notices(config: ConfigBase, key: str) -> list[Notice]:
    """The rows of campaign `key` (a KeyError when there is no such campaign)."""
    campaign = campaigns(config)[key]
    plans: Mapping[str, Any] = config.section("plans")
    digits = minor_units(config.currency)

    def plan_price(plan: str) -> Decimal | None:
        found = plans.get(plan)
        return found.price if found is not None else None

    rows: list[Notice] = []
    for section in CUSTOMERS:
        customers: Mapping[str, Any] = config.section(section)
        for name, customer in customers.items():
            owner = f"{section}.{name}"
            contact, email = _billing_contact(config, section, name, customer)
            for item in customer.memberships:
                for period in periods(item, owner, for_plan_all(config), plan_price, digits):
                    if period.campaign != key:
                        continue
                    plan = plans.get(period.plan)
                    rows.append(Notice(
                        customer=owner, customer_name=customer.name, billing_contact=contact,
                        billing_email=email,
                        membership=f"{owner}.memberships[{item.plan}@{item.start}]",
                        plan=plan.name if plan is not None else period.plan,
                        old_monthly_price=str(amount_text(period.was, digits)),
                        new_monthly_price=str(amount_text(period.price, digits)),
                        currency=config.currency, effective_date=campaign.from_,
                    ))
    return rows


def _billing_contact(config: ConfigBase, section: str, key: str, customer: Any
                     ) -> tuple[str, str]:
    if section == "companies":
        members: Mapping[str, Any] = config.section("members")
        for member in members.values():
            if member.company == key and member.billing_person:
                return member.name, member.email or ""
    return customer.name, customer.email or ""
