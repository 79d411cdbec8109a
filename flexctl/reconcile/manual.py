"""Words for people: the exact admin-portal steps for changes the target's API cannot make.

A manual step names what to change, to which value and where (the kind's `portal`, in the
kind's `portal_word`), e.g.
"In the admin portal, Billing > Plans: create plan 'Hot Desk' (billing: recurring, price:
250.00 EUR, locations: Harbor Works Downtown)." References are shown by the referenced object's
name when the configuration declares it, secrets as `(sensitive)`.

A manual step on a kind the target cannot read at all ("unverified") is done once a person
confirms it with `flexctl confirm ADDRESS` (`confirm_command`); other manual steps are verified
by the next plan, which reads them.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from flexctl.kinds.base import Kind, Obj
from flexctl.reconcile.plan import SENSITIVE


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

    def value(self, kind: Kind, name: str, value: Any) -> str:
        """One field value as a person reads it in the admin portal."""
        if name in kind.sensitive:
            return SENSITIVE
        if value is None:
            return "(none)"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, Decimal):
            money = kind.field_type(name) != "number"  # a percentage is not an amount
            return f"{value} {self.currency}" if money else str(value)
        if isinstance(value, date):
            return value.isoformat()
        target = kind.reference_kind(name)
        if isinstance(value, tuple | list):
            if not value:
                return kind.empty_label(name)
            return ", ".join(self.value(kind, name, v) for v in value)
        if target is not None and isinstance(value, str):
            return self.names.get(f"{target}.{value}", value)
        return str(value)

    def fields(self, kind: Kind, fields: Mapping[str, Any], skip: Sequence[str] = ()) -> str:
        """`label: value` pairs of the set fields, alphabetically (unset ones are not asked)."""
        return ", ".join(
            f"{field_label(k)}: {self.value(kind, k, fields[k])}"
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


def _where(kind: Kind) -> str:
    return f"In the admin portal, {kind.portal}" if kind.portal else "In the admin portal"


def create_steps(kind: Kind, obj: Obj, describer: Describer) -> str:
    if kind.singleton:
        return f"{_where(kind)}: set {describer.fields(kind, obj.fields)}."
    details = describer.fields(kind, obj.fields, skip=("name",))
    suffix = f" ({details})" if details else ""
    return f"{_where(kind)}: create {kind.portal_word} '{label(obj)}'{suffix}."


def update_steps(
    kind: Kind, obj: Obj, changed: Sequence[str], live: Obj, describer: Describer
) -> str:
    parts = [
        f"{field_label(f)} from {describer.value(kind, f, live.fields.get(f))} "
        f"to {describer.value(kind, f, obj.fields.get(f))}"
        for f in changed
    ]
    target = "" if kind.singleton else f" {kind.portal_word} '{label(live)}':"
    return f"{_where(kind)}: change{target} " + "; ".join(parts) + "."


def delete_steps(kind: Kind, live: Obj) -> str:
    return (
        f"{_where(kind)}: delete {kind.portal_word} '{label(live)}' "
        f"(it is not in the configuration and {kind.name} are pruned)."
    )


def verify_steps(kind: Kind, obj: Obj, why: str, describer: Describer) -> str:
    if kind.singleton:
        what = f"{kind.portal_word} are: {describer.fields(kind, obj.fields)}"
    else:
        details = describer.fields(kind, obj.fields, skip=("name",))
        what = f"{kind.portal_word} '{label(obj)}' exists" + (f" with {details}" if details else "")
    return f"{_where(kind)}: check by hand that {what} ({why}); change it there if not."


def confirm_command(address: str, config_path: str | None = None) -> str:
    """The command that records a manual step as done, for the configuration at
    `config_path` (None or ".": the current directory's)."""
    # Addresses may hold brackets and paths spaces: quoted as a shell would need them.
    where = f" --config {shlex.quote(config_path)}" if config_path not in (None, ".") else ""
    return f"flexctl confirm {shlex.quote(address)}{where}"
