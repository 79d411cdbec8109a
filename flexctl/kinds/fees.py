"""Fees: one-off charges on a customer (`issueDate`), matched by (customer, plan, date, name).

A fee's name defaults to its plan's name; only a different name is part of its address
(`companies.acme.fees[printing@2026-12-03#colour-prints]`). `meta["invoiced"]` is true when
the platform has put the fee on an invoice (`payment` is set): it can then not be removed.
A fee the config leaves unnamed also matches a live fee of another name (`loose_key`). A fee
on a resource rate is a booking's charge (`meta["booking"]`): always unmanaged, never pruned.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from flexctl.kinds import _values as v
from flexctl.kinds._keyed import COMMUNITY, Field
from flexctl.kinds._owned import OwnedKind
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap


class Fees(OwnedKind):
    name = "fees"
    rank = 9
    api_path = "fees"
    scope_prefix = "flex.community.fees"
    portal = "Billing > Fees"
    item_attr = "fees"
    date_field = "date"
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

    @classmethod
    def extra_select(cls) -> tuple[str, ...]:
        return ("payment", "planType")

    def desired_meta(
        self, fields: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> dict[str, Any]:
        name = fields.get("name")
        return {"name_key": name if name and name != defaults.get("name") else ""}

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

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        return (*super().natural_key(obj), obj.meta.get("name_key", ""))

    def loose_key(self, obj: Obj) -> tuple[Any, ...] | None:
        # A fee keeps the name it was created with (its plan's name then): once the plan is
        # renamed, a fee the config leaves unnamed must still be found by (customer, plan,
        # date), or every plan rename would re-create its fees. A desired fee with a name
        # (obj.id is None: not live) matches exactly.
        if obj.id is None and "name" in obj.fields:
            return None
        return super().natural_key(obj)

    def matches(self, obj: Obj, doc: Mapping[str, Any], refs: RefMap) -> bool:
        # Compare effective names directly: a plan created in the same apply has no live
        # name in `refs`, so the name_key of a looked-up fee cannot be derived from it.
        if obj.id is not None:
            return doc.get("_id") == obj.id
        live = self.from_api(doc, refs, "XXX")
        name = obj.fields.get("name") or obj.meta.get("create_defaults", {}).get("name")
        same = super().natural_key(obj) == super().natural_key(live)
        return same and live.fields.get("name") == name

    def address_of(self, obj: Obj) -> str:
        base = super().address_of(obj)
        name_key = obj.meta.get("name_key")
        return f"{base[:-1]}#{v.slugify(str(name_key))}]" if name_key else base
