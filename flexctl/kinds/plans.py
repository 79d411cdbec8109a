"""Billing plans: recurring memberships (`intervalLength: month`) and one-off services
(`once`: day passes, printing). Read-only on OfficeRnD's public API.

Omitted `locations` means all locations and is managed as `()`; omitted `deposit`, `prorate`
and `visibility` are not managed (the platform's value is left alone).
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from pydantic import Field as ModelField

from flexctl.config.lint import IgnoreWarnings
from flexctl.config.rules import Checker
from flexctl.config.types import Amount, ConfigBase, Model, Name, ObjectId, Ref, no_items
from flexctl.kinds._fields import CATALOGUE, Field
from flexctl.kinds._keyed import KeyedKind
from flexctl.kinds._owned import OwnedKind
from flexctl.kinds.base import MoneyContext, Obj
from flexctl.kinds.money import NO_EFFECT, Effect, MoneyEffect

BILLING = (("recurring", "month"), ("one_off", "once"))
PRICED = ("price", "deposit")  # what a membership or fee copies from its plan when created


class Visibility(Model):
    members: bool = True
    """Members may see and buy the plan."""
    team_members: bool = True
    """Members of a company may see and buy the plan."""
    non_members: bool = False
    """Visitors who are not members may see and buy the plan."""


class Plan(Model):
    """A billing plan: a recurring membership or a one-off service (day pass, printing...)."""

    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live plan this entry is pinned to."""
    name: Name
    """The name on invoices and in the admin portal; the plan is matched by it when it has no
    code."""
    code: str | None = None
    """The plan's code; the plan is matched by it when given."""
    description: str | None = None
    """Free text shown to customers."""
    billing: Literal["recurring", "one_off"] = ModelField(
        description="recurring (monthly membership) or one_off (day pass, printing, deposit)."
    )
    price: Amount = ModelField(
        description="Amount in the currency; a one-off plan's unit price may have 4 decimals."
    )
    type: str | None = None
    """The platform's plan type, e.g. office, desk, hotdesk, service."""
    locations: list[Ref] | None = ModelField(
        None, description="Location keys where the plan is offered; omitted = all."
    )
    revenue_account: Ref | None = ModelField(None, description="Key of a revenue account.")
    deposit: Amount = Decimal(0)
    """A deposit charged with a membership of the plan."""
    prorate: bool = True
    """Whether a membership starting or ending mid-month pays for part of the month."""
    visibility: Visibility = Visibility()
    """Who may see and buy the plan."""
    ignore_warnings: IgnoreWarnings = ModelField(default_factory=no_items)


class Plans(KeyedKind):
    name = "plans"
    noun = "plan"
    required_live = ("name",)
    plural = "plans"
    rank = 4
    api_path = "plans"
    scope_prefix = "flex.billing.plans"
    portal = "Billing > Plans"
    export_file = "services.yaml"
    model = Plan
    section_description = "Billing plans: recurring memberships and one-off services."
    references = ("locations", "revenue_accounts")
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("description", "description"),
        Field("billing", "intervalLength", "enum", enum=BILLING),
        Field("price", "price", "money"),
        Field("type", "type"),
        Field("locations", "locations", "refs", ref="locations", empty="(all)"),
        Field("revenue_account", "revenueAccount", "ref", ref="revenue_accounts"),
        Field("deposit", "deposit", "money"),
        Field("prorate", "shouldProrate", "bool"),
        Field("visibility.members", "forMembers", "bool"),
        Field("visibility.team_members", "forTeamMembers", "bool"),
        Field("visibility.non_members", "forNonMembers", "bool"),
    )
    implied = MappingProxyType({"locations": ()})
    create_constants = MappingProxyType({"intervalCount": 1})
    # billing is the plan's nature: switching recurring <-> one-off is a new plan.
    updatable = frozenset(f.name for f in fields_map) - {"billing"}
    capabilities = CATALOGUE
    expected_fields = frozenset({"name", "price", "intervalLength"})

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        for key, plan in self.entries(config).items():
            path = (self.name, key)
            checker.refs((*path, "locations"), plan.locations, "locations")
            checker.ref((*path, "revenue_account"), plan.revenue_account, "revenue_accounts")
            checker.amount((*path, "price"), plan.price, unit_price=plan.billing == "one_off")
            checker.amount((*path, "deposit"), plan.deposit)

    def export_problem(self, obj: Obj) -> str | None:
        problem = super().export_problem(obj)
        billing = obj.fields.get("billing")
        if problem is None and billing not in ("recurring", "one_off"):
            return f"its billing interval {billing!r} is not supported"
        return problem

    # --- money --------------------------------------------------------------------------------

    def money_effect(self, before: Obj | None, after: Obj | None, ctx: MoneyContext) -> MoneyEffect:
        """A plan's price (or deposit) is copied into each membership or fee when it is made:
        a change affects new ones only. The note counts the live ones that keep their own."""
        if before is None or after is None:
            return NO_EFFECT  # a new plan bills nothing until something is assigned to it
        changed = [f for f in PRICED if before.fields.get(f) != after.fields.get(f)]
        if not changed:
            return NO_EFFECT
        was = ", ".join(
            f"{f} {_amount(before.fields.get(f))} -> {_amount(after.fields.get(f))}"
            for f in changed
        )
        return MoneyEffect(Effect.FUTURE, note=f"{was} {ctx.currency}: {self._keeping(after, ctx)}")

    def _keeping(self, plan: Obj, ctx: MoneyContext) -> str:
        billing = plan.fields.get("billing")
        items = [k for k in ctx.kinds if isinstance(k, OwnedKind) and k.plan_billing == billing]
        parts = []
        for kind in items:
            if not ctx.read(kind.name):
                parts.append(f"new {kind.plural} only")
                continue
            keep = sum(
                1 for obj in ctx.live_where(kind.name, "plan", plan.key)
                if obj.address not in ctx.removed and _still_billing(kind, obj, ctx)
            )
            noun = kind.noun if keep == 1 else kind.plural
            verb = "keeps its" if keep == 1 else "keep their"
            parts.append(f"new {kind.plural} only; {keep} live {noun} of this plan {verb} "
                         "own price")
        return "; ".join(parts) or "no effect on what is billed"


def _amount(value: object) -> str:
    return "(none)" if value is None else str(value)  # a unit price keeps its 4 decimals


def _still_billing(kind: OwnedKind, obj: Obj, ctx: MoneyContext) -> bool:
    """A membership that has not ended by the as-of date; a fee not yet invoiced."""
    recurring = kind.recurring(obj, ctx)
    if recurring is not None:
        return recurring.running(ctx.as_of)
    return not obj.meta.get("invoiced")
