"""Fees: one-off charges on a customer (`issueDate`), matched by (customer, plan, date, name).

A fee's name defaults to its plan's name; only a different name is part of its address
(`companies.acme.fees[printing@2026-12-03#colour-prints]`). `meta["invoiced"]` is true when
the platform has put the fee on an invoice (`payment` is set): it can then neither change nor
be removed. No fee update is documented: apply tries PUT, then PATCH, and on a platform with
neither deletes an uninvoiced fee and creates it again (`replace_unupdatable`). A fee the
config leaves unnamed also matches a live fee of another name (`loose_key`). A fee on a
resource rate is a booking's charge (`meta["booking"]`): always unmanaged, never pruned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field as ModelField

from flexctl.config.lint import IgnoreWarnings
from flexctl.config.types import Amount, Model, Name, ObjectId, Ref, no_items
from flexctl.kinds import _values as v
from flexctl.kinds._fields import COMMUNITY, Field
from flexctl.kinds._owned import PLANS, OwnedKind
from flexctl.kinds.base import MoneyContext, Obj, Removal, RuleContext
from flexctl.kinds.money import ZERO, Charge
from flexctl.kinds.refs import RefMap

# More units than this on one line is a typo; the money summary's totals stay exact below it.
MAX_QUANTITY = 1_000_000


class Fee(Model):
    """A one-off charge on a customer."""

    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live fee this line is pinned to."""
    plan: Ref = ModelField(description="Key of a one-off plan.")
    date: date
    """The day it is charged (YYYY-MM-DD)."""
    quantity: Annotated[int, ModelField(ge=1, le=MAX_QUANTITY)] = 1
    """How many units of the plan, e.g. 400 printed pages (at most 1,000,000)."""
    price: Amount | None = ModelField(
        None, description="Unit price (up to 4 decimals); omitted = the plan's price."
    )
    name: Name | None = ModelField(
        None, description="Invoice line name; omitted = the plan's name."
    )
    location: Ref | None = None
    """Location key; omitted = the customer's location."""
    ignore_warnings: IgnoreWarnings = ModelField(default_factory=no_items)


def name_key(name: Any, plan_name: Any) -> str:
    """The part of a fee's identity its name adds: nothing when it is its plan's name."""
    return str(name) if name and name != plan_name else ""


class Fees(OwnedKind):
    name = "fees"
    noun = "fee"
    required_live = ("plan", "issueDate")
    plural = "fees"
    rank = 9
    api_path = "fees"
    incremental = True  # `modifiedAt[$gt]` is documented on its list
    scope_prefix = "flex.community.fees"
    portal = "Billing > Fees"
    date_field = "date"
    plan_billing = "one_off"
    wrong_plan_hint = "assign recurring plans as memberships"
    identity_words = "plan, date and name"
    unit_price = True
    fields_map = (
        Field("plan", "plan", "ref", ref="plans"),
        Field("date", "issueDate", "date"),
        Field("quantity", "quantity", "int"),
        Field("price", "price", "money"),
        Field("name", "name"),
        Field("location", "location", "ref", ref="locations"),
    )
    implied = MappingProxyType({"quantity": 1})
    # name and date are part of the natural key, so only a pinned fee can change them in place.
    updatable = frozenset({"quantity", "price", "name", "date"})
    capabilities = COMMUNITY
    expected_fields = frozenset({"name", "plan", "issueDate", "location", "price", "quantity"})

    @classmethod
    def extra_select(cls) -> tuple[str, ...]:
        return ("payment", "planType")

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        return (*super().identity(fields), fields.get("name_key", ""))

    def identity_meta(self, item: Any, plan: Any) -> dict[str, Any]:
        return {"name_key": name_key(item.name, plan.name if plan is not None else None)}

    def desired_meta(
        self, fields: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {"name_key": name_key(fields.get("name"), defaults.get("name"))}

    def live_meta(
        self, doc: Mapping[str, Any], fields: Mapping[str, Any], refs: RefMap
    ) -> dict[str, Any]:
        name, plan = fields.get("name"), fields.get("plan")
        plan_name = refs.name_of("plans", str(plan)) if plan else None
        return {
            "invoiced": bool(doc.get("payment")),
            "name_key": "" if not name or name == plan_name else name,
            # A charge on a resource rate comes from a booking: no config can declare one.
            "booking": doc.get("planType") == "ResourceRate",
        }

    def loose_key(self, obj: Obj) -> tuple[Any, ...] | None:
        # A fee keeps the name it was created with (its plan's name then): once the plan is
        # renamed, a fee the config leaves unnamed must still be found by (customer, plan,
        # date), or every plan rename would re-create its fees. A desired fee with a name
        # (obj.id is None: not live) matches exactly.
        if obj.id is None and "name" in obj.fields:
            return None
        return (obj.owner, *super().identity(obj.fields))

    def matches(self, obj: Obj, doc: Mapping[str, Any], refs: RefMap) -> bool:
        # Compare effective names directly: a plan created in the same apply has no live
        # name in `refs`, so the name_key of a looked-up fee cannot be derived from it.
        if obj.id is not None:
            return doc.get("_id") == obj.id
        live = self.from_api(doc, refs, "XXX")
        name = obj.fields.get("name") or obj.meta.get("create_defaults", {}).get("name")
        same = super().identity(obj.fields) == super().identity(live.fields)
        return same and obj.owner == live.owner and live.fields.get("name") == name

    def address_of(
        self, owner: str | None, fields: Mapping[str, Any], meta: Mapping[str, Any]
    ) -> str:
        base = super().address_of(owner, fields, meta)
        key = meta.get("name_key")
        return f"{base[:-1]}#{v.slugify(str(key))}]" if key else base

    # --- plan rules ---------------------------------------------------------------------------

    def refuse_change(
        self,
        obj: Obj,
        live: Obj | None,
        changed: Sequence[str],
        fixed: Sequence[str],
        ctx: RuleContext,
    ) -> str | None:
        if live is not None and live.meta.get("invoiced"):
            return "the fee is invoiced; an invoiced fee cannot be changed"
        return None

    def replace_unupdatable(self, obj: Obj) -> bool:
        """No fee update is documented (PUT and PATCH are both guesses): on a platform with
        neither, an uninvoiced fee (an invoiced one is blocked above) is deleted and created
        again. A pinned fee is not: its pin would name the deleted one."""
        return obj.id is None

    def removal(self, live: Obj, ctx: RuleContext) -> Removal:
        if live.meta.get("invoiced"):
            return Removal.blocked("the fee is invoiced; billing history is never deleted")
        return Removal.delete()

    def may_prune(self, live: Obj) -> bool:
        return not live.meta.get("booking")  # a booking's charge: no config can declare one

    # --- money --------------------------------------------------------------------------------

    def charge(self, obj: Obj, ctx: MoneyContext) -> Charge:
        """quantity x unit price, rounded half up to the currency per line. The unit price is
        the fee's own, else its plan's: the configuration's for a new fee (what apply sends),
        else the live plan's."""
        plan = obj.fields.get("plan")
        unit = obj.fields.get("price")
        if unit is None:
            unit = obj.meta.get("create_defaults", {}).get("price")
        if unit is None:
            unit = ctx.price_of(f"{PLANS}.{plan}")
        quantity = obj.fields.get("quantity")
        count = Decimal(quantity) if isinstance(quantity, int | Decimal) else Decimal(1)
        on = obj.fields.get("date")
        return Charge(
            amount=ctx.round(count * unit) if isinstance(unit, Decimal) else ZERO,
            on=on if isinstance(on, date) else None,
            group=str(plan),
            invoiced=bool(obj.meta.get("invoiced")),
        )

    # --- export -------------------------------------------------------------------------------

    def export_item_problem(
        self, obj: Obj, exported: Mapping[str, Mapping[str, Obj]]
    ) -> str | None:
        problem = super().export_item_problem(obj, exported)
        quantity = obj.fields.get("quantity")
        if problem is None and quantity is not None and not isinstance(quantity, int):
            return f"its quantity {quantity} is not a whole number"
        return problem
