"""Words for people: the exact admin-portal steps for changes the target's API cannot make.

A manual step names what to change, to which value and where (the kind's `portal`), e.g.
"In the admin portal, Billing > Plans: create plan 'Hot Desk' (billing: recurring, price:
250.00 EUR, locations: Harbor Works Downtown)." References are shown by the referenced object's
name when the configuration declares it, secrets as `(sensitive)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from flexctl.kinds.base import Obj
from flexctl.reconcile.plan import REFERENCE_FIELDS, SENSITIVE, SENSITIVE_FIELDS

NOUNS: Mapping[str, str] = {
    "locations": "location",
    "revenue_accounts": "revenue account",
    "tax_rates": "tax rate",
    "gateways": "payment gateway",
    "plans": "plan",
    "rates": "resource rate",
    "companies": "company",
    "members": "member",
    "memberships": "membership",
    "fees": "fee",
    "invoicing": "invoicing settings",
    "storefront": "storefront settings",
}
# Decimal fields that are not money (percent rates); every other Decimal is an amount.
_NOT_MONEY = frozenset({"rate"})


def noun(kind: str) -> str:
    return NOUNS.get(kind, kind.rstrip("s"))


class Describer:
    """Formats objects and values for instructions, with names for references."""

    def __init__(self, currency: str, *groups: Mapping[str, Sequence[Obj]]) -> None:
        self.currency = currency
        self._groups = groups

    @cached_property
    def names(self) -> dict[str, str]:
        """Address -> display name ("locations.downtown" -> "Harbor Works Downtown").

        Built on first use: most plans have no manual step and large plans need speed."""
        names: dict[str, str] = {}
        for group in self._groups:
            for objs in group.values():
                for obj in objs:
                    names.setdefault(obj.address, label(obj))
        return names

    def value(self, name: str, value: Any) -> str:
        """One field value as a person reads it in the admin portal."""
        if name in SENSITIVE_FIELDS:
            return SENSITIVE
        if value is None:
            return "(none)"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, Decimal):
            return str(value) if name in _NOT_MONEY else f"{value} {self.currency}"
        if isinstance(value, date):
            return value.isoformat()
        kind = REFERENCE_FIELDS.get(name)
        if isinstance(value, tuple | list):
            if not value:
                return "(all)" if name == "locations" else "(none)"
            return ", ".join(self.value(name, v) for v in value)
        if kind is not None and isinstance(value, str):
            return self.names.get(f"{kind}.{value}", value)
        return str(value)

    def fields(self, fields: Mapping[str, Any], skip: Sequence[str] = ()) -> str:
        """`label: value` pairs of the set fields, alphabetically (unset ones are not asked)."""
        return ", ".join(
            f"{field_label(k)}: {self.value(k, fields[k])}"
            for k in sorted(fields)
            if k not in skip and fields[k] is not None
        )


def field_label(name: str) -> str:
    return name.replace("_", " ").replace(".", " ")


def label(obj: Obj) -> str:
    """How the admin portal shows an object: its name, else its email, else its key."""
    for name in ("name", "email"):
        value = obj.fields.get(name)
        if isinstance(value, str) and value:
            return value
    return obj.address.rsplit(".", 1)[-1]


def _where(portal: str) -> str:
    return f"In the admin portal, {portal}" if portal else "In the admin portal"


def _is_singleton(obj: Obj) -> bool:
    return obj.address == obj.kind


def create_steps(obj: Obj, portal: str, describer: Describer) -> str:
    if _is_singleton(obj):
        return f"{_where(portal)}: set {describer.fields(obj.fields)}."
    details = describer.fields(obj.fields, skip=("name",))
    suffix = f" ({details})" if details else ""
    return f"{_where(portal)}: create {noun(obj.kind)} '{label(obj)}'{suffix}."


def update_steps(
    obj: Obj, changed: Sequence[str], live: Obj, portal: str, describer: Describer
) -> str:
    parts = [
        f"{field_label(f)} from {describer.value(f, live.fields.get(f))} "
        f"to {describer.value(f, obj.fields.get(f))}"
        for f in changed
    ]
    target = "" if _is_singleton(obj) else f" {noun(obj.kind)} '{label(live)}':"
    return f"{_where(portal)}: change{target} " + "; ".join(parts) + "."


def delete_steps(live: Obj, portal: str) -> str:
    return (
        f"{_where(portal)}: delete {noun(live.kind)} '{label(live)}' "
        f"(it is not in the configuration and {live.kind} are pruned)."
    )


def verify_steps(obj: Obj, portal: str, why: str, describer: Describer) -> str:
    if _is_singleton(obj):
        what = f"{noun(obj.kind)} are: {describer.fields(obj.fields)}"
    else:
        details = describer.fields(obj.fields, skip=("name",))
        what = f"{noun(obj.kind)} '{label(obj)}' exists" + (f" with {details}" if details else "")
    return f"{_where(portal)}: check by hand that {what} ({why}); change it there if not."
