"""What memberships and fees share: they belong to a customer (company or member).

Their address hangs off the owner's (`companies.acme.memberships[hot-desk@2026-12-01]`); the
platform stores the owner as `company` or `member` plus `isPersonal` (true for a member's own
membership or fee). Omitted `price`, `name` and `location` are not managed, but a create must
send them (the API defaults a membership's price to 0), so the desired object keeps the values
to create with — the plan's price and name, the customer's location — in
`meta["create_defaults"]`. The config lists them under their customer (`memberships:`,
`fees:`), so they have no section of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel

from flexctl.config.rules import Checker
from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.kinds import _values as v
from flexctl.kinds._fields import (
    MARKER,
    FieldKind,
    fields_from_api,
    matches_by_pin_marker_or_key,
)
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap

OWNER_KINDS = ("companies", "members")
OWNER_FIELD = {"companies": "company", "members": "member"}  # the API's reference field
PLANS = "plans"  # the kind whose keys an item's `plan` holds


def split_owner(owner: str) -> tuple[str, str]:
    kind, _, key = owner.partition(".")
    return kind, key


def also_billed_to(objects: Mapping[str, Sequence[Obj]]) -> dict[str, str]:
    """Customer address -> another customer its items' invoices may be addressed to: a member's
    membership or fee that is not personal is billed to the member's company."""
    return {obj.address: f"companies.{obj.fields['company']}"
            for obj in objects.get("members", ()) if obj.fields.get("company")}


def owner_of(doc: Mapping[str, Any], refs: RefMap) -> str:
    """The owning customer's address; a member's own item is `isPersonal`."""
    member, company = doc.get("member"), doc.get("company")
    if member and (doc.get("isPersonal") or not company):
        return f"members.{refs.key_of('members', str(member))}"
    return f"companies.{refs.key_of('companies', str(company or ''))}"


def unique_address(address: str, taken: set[str]) -> str:
    """`address`, or with a counter before its closing bracket: `[day-pass@2026-12-01#2]`."""
    candidate, n = address, 1
    while candidate in taken:
        n += 1
        sep = "-" if "#" in address else "#"
        candidate = f"{address[:-1]}{sep}{n}]"
    taken.add(candidate)
    return candidate


_NOT_FIELDS = frozenset({"id", "changes"})  # a line's pin and periods: not fields of its own


class OwnedKind(FieldKind):
    owned = True
    references = ("locations", "plans", "companies", "members")
    date_field: ClassVar[str]  # "start" | "date"
    plan_billing: ClassVar[str]  # the billing its plan must have: "recurring" | "one_off"
    wrong_plan_hint: ClassVar[str]  # what to do with a plan of the other billing
    unit_price: ClassVar[bool] = False  # its price may have 4 decimals

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "fields_map" in cls.__dict__:
            apis = {f.api for f in cls.fields_map}
            owner = {"company", "member", "isPersonal", "modifiedAt"}
            cls.select = tuple(sorted(apis | owner | set(cls.extra_select())))

    @classmethod
    def extra_select(cls) -> tuple[str, ...]:
        return ("properties",) if cls.marker else ()

    # --- the configuration -------------------------------------------------------------------

    def owners(self, config: ConfigBase) -> Iterable[tuple[str, str, Any]]:
        """(owner kind, key, customer model) of every customer in the config."""
        for owner_kind in OWNER_KINDS:
            customers: Mapping[str, Any] = config.section(owner_kind)
            for key, customer in customers.items():
                yield owner_kind, key, customer

    def items(self, customer: Any) -> list[Any]:
        items: list[Any] = getattr(customer, self.name)
        return items

    def count(self, config: ConfigBase) -> int | None:
        return sum(len(self.items(customer)) for _, _, customer in self.owners(config))

    def pins(self, config: ConfigBase) -> Iterable[tuple[tuple[str | int, ...], str]]:
        for owner_kind, key, customer in self.owners(config):
            for number, item in enumerate(self.items(customer)):
                if item.id is not None:
                    yield (owner_kind, key, self.name, number), item.id

    def check(self, config: ConfigBase, checker: Checker) -> None:
        plans = checker.sections.get(PLANS, {})
        for owner_kind, key, customer in self.owners(config):
            seen: dict[tuple[Any, ...], int] = {}
            for number, item in enumerate(self.items(customer)):
                path = (owner_kind, key, self.name, number)
                plan = plans.get(item.plan) if checker.ref((*path, "plan"), item.plan, PLANS) \
                    else None
                if plan is not None and plan.billing != self.plan_billing:
                    checker.add((*path, "plan"), f"plan '{item.plan}' is {plan.billing}; "
                                f"a {self.noun} needs a {self.plan_billing} plan "
                                f"({self.wrong_plan_hint})")
                checker.ref((*path, "location"), item.location, "locations")
                checker.amount((*path, "price"), item.price, unit_price=self.unit_price)
                self.check_item(path, item, checker)
                fields = {"plan": item.plan, self.date_field: getattr(item, self.date_field),
                          **self.identity_meta(item, plan)}
                first = seen.setdefault(self.identity(fields), number)
                if first != number:
                    checker.add(path, f"duplicate {self.noun}: same {self.identity_words} as "
                                      f"{self.name}[{first}]")

    def lint(self, config: ConfigBase, checker: Checker) -> None:
        """A plan priced 0 that items use without a price of their own: they bill nothing."""
        plans = checker.sections.get(PLANS, {})
        free: dict[str, int] = {}
        for _, _, customer in self.owners(config):
            for item in self.items(customer):
                plan = plans.get(item.plan)
                if plan is not None and item.price is None and plan.price == 0:
                    free[item.plan] = free.get(item.plan, 0) + 1
        for key, count in sorted(free.items()):
            what = f"1 {self.noun} uses it" if count == 1 else f"{count} {self.plural} use it"
            checker.warn((PLANS, key, "price"), "FX106", (
                f"the price is 0 and {what} without a price of its own: nothing is billed"),
                plans[key].ignore_warnings)

    def closed_reason(
        self, action: str, before: Obj | None, after: Obj | None, changed: Sequence[str],
        lock: date,
    ) -> str | None:
        """An item created, deleted or replaced, or its date moved, inside the closed period;
        then what the kind adds (`closed_terms`: a fee's any change, a membership's end or
        price)."""
        moved = action in ("create", "delete", "replace") or self.date_field in changed
        days = [o.fields.get(self.date_field) for o in (before, after) if o is not None]
        inside = [d for d in days if isinstance(d, date) and d <= lock]
        if not inside:
            return None
        if moved:
            done = {"create": "created", "delete": "deleted", "replace": "replaced"}
            what = done.get(action, f"moved ({self.date_field})")
            return f"a {self.noun} dated {min(inside)} would be {what}"
        return self.closed_terms(before, after, changed, lock)

    def closed_terms(
        self, before: Obj | None, after: Obj | None, changed: Sequence[str], lock: date
    ) -> str | None:
        """Hook: why changing `changed` of an item dated inside the closed period touches it:
        by default any change does (a fee's)."""
        obj = before or after
        day = obj.fields.get(self.date_field) if obj is not None else None
        return f"a {self.noun} dated {day} would be changed ({', '.join(changed)})"

    def check_item(self, path: tuple[str | int, ...], item: Any, checker: Checker) -> None:
        """Hook: rules of one item beyond its references, amount and identity."""

    def identity_meta(self, item: Any, plan: Any) -> dict[str, Any]:
        """Hook: identity parts that depend on the item's plan (its model, or None)."""
        return {}

    # --- desired -----------------------------------------------------------------------------

    def desired(self, config: ConfigBase, secrets: SecretResolver) -> list[Obj]:
        out: list[Obj] = []
        taken: set[str] = set()
        plans: Mapping[str, Any] = config.section(PLANS)
        # The plans' prices as create defaults: normalized once per plan, not once per item.
        prices = {key: v.money(plan.price, config.currency) for key, plan in plans.items()}
        for owner_kind, key, customer in self.owners(config):
            owner = f"{owner_kind}.{key}"
            for item in self.items(customer):
                follows: str | None = None
                for part, extra in self.expand(owner, item, config):
                    obj = self.desired_item(owner, customer, part, plans, config, prices)
                    address = unique_address(obj.address, taken)
                    if extra or follows is not None or address != obj.address:
                        meta = {**obj.meta, **extra}
                        if follows is not None:
                            meta["follows"] = follows  # the period before it, on the same line
                        obj = Obj(obj.kind, address, obj.fields, obj.id, obj.owner, meta)
                    out.append(obj)
                    follows = address
        return out

    def expand(self, owner: str, item: Any, config: ConfigBase) -> list[tuple[Any, dict[str, Any]]]:
        """Hook: the objects one line of the config stands for (with meta of their own): the
        line itself, or one per period of a line with changes (memberships)."""
        return [(item, {})]

    def desired_item(
        self,
        owner: str,
        customer: Any,
        item: BaseModel,
        plans: Mapping[str, Any],
        config: ConfigBase,
        prices: Mapping[str, Any],
    ) -> Obj:
        """The desired object of one item (`prices`: the plans' prices, normalized)."""
        by_name, currency = self.by_name, config.currency
        fields: dict[str, Any] = dict(self.implied)
        for name, value in v.written(item, exclude=_NOT_FIELDS).items():
            fields[name] = by_name[name].desired(value, currency)
        plan_key = str(fields["plan"])
        plan = plans.get(plan_key)
        defaults = {
            "name": plan.name if plan else None,
            "price": prices[plan_key] if plan else None,
            "location": customer.location,
        }
        meta = {"create_defaults": defaults, **self.desired_meta(fields, defaults)}
        pin = getattr(item, "id", None)
        return Obj(self.name, self.address_of(owner, fields, meta), fields, pin, owner, meta)

    def desired_meta(
        self, fields: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {}

    def address_of(
        self, owner: str | None, fields: Mapping[str, Any], meta: Mapping[str, Any]
    ) -> str:
        """The address of an object of `owner` with these fields and meta (the kind's
        identity in it): `companies.acme.memberships[hot-desk@2026-12-01]`."""
        return f"{owner}.{self.name}[{fields.get('plan')}@{fields.get(self.date_field)}]"

    # --- identity ----------------------------------------------------------------------------

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        """Within one customer: (plan, date)."""
        return (fields.get("plan"), fields.get(self.date_field))

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        return (obj.owner, *self.identity({**obj.fields, **obj.meta}))

    def lookup_filters(self, obj: Obj, refs: RefMap) -> dict[str, str]:
        kind, key = split_owner(obj.owner or "")
        return {OWNER_FIELD[kind]: v.require_id(refs, kind, key)}

    def matches(self, obj: Obj, doc: Mapping[str, Any], refs: RefMap) -> bool:
        return matches_by_pin_marker_or_key(self, obj, doc, refs)

    # --- live --------------------------------------------------------------------------------

    def from_api(self, doc: Mapping[str, Any], refs: RefMap, currency: str) -> Obj:
        fields = fields_from_api(self.fields_map, doc, refs, currency)
        meta = v.modified_meta(doc)
        meta.update(self.live_meta(doc, fields, refs))
        obj_id, owner = str(doc["_id"]), owner_of(doc, refs)
        return Obj(self.name, self.address_of(owner, fields, meta), fields, obj_id, owner, meta)

    def live_meta(
        self, doc: Mapping[str, Any], fields: Mapping[str, Any], refs: RefMap
    ) -> dict[str, Any]:
        return {"invoiced": False}

    # --- bodies ------------------------------------------------------------------------------

    def create_body(self, obj: Obj, refs: RefMap, secrets: SecretResolver) -> dict[str, Any]:
        defaults = obj.meta.get("create_defaults", {})
        values = {**{k: val for k, val in defaults.items() if val is not None}, **obj.fields}
        body: dict[str, Any] = {}
        for field in self.fields_map:
            if values.get(field.name) is not None:
                body[field.api] = field.to_api(values[field.name], refs)
        kind, key = split_owner(obj.owner or "")
        body[OWNER_FIELD[kind]] = v.require_id(refs, kind, key)
        body["isPersonal"] = kind == "members"
        if self.marker:
            body["properties"] = {MARKER: obj.address}
        return body

    def update_body(
        self, obj: Obj, changed: set[str], refs: RefMap, secrets: SecretResolver
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for field in self.fields_map:
            if field.name in changed & self.updatable:
                body[field.api] = field.to_api(obj.fields.get(field.name), refs)
        return body

    # --- export ------------------------------------------------------------------------------

    def export_order(self, obj: Obj) -> tuple[str, ...]:
        fields = obj.fields
        return (str(fields.get(self.date_field)), str(fields.get("plan")),
                str(fields.get("name")), str(obj.id))

    def export_item_problem(
        self, obj: Obj, exported: Mapping[str, Mapping[str, Obj]]
    ) -> str | None:
        plan_key = obj.fields.get("plan")
        plan = exported.get(PLANS, {}).get(str(plan_key)) if plan_key is not None else None
        if plan is None:
            return "its plan is not an exported billing plan (a resource rate?)"
        if plan.fields.get("billing") != self.plan_billing:
            return f"its plan {plan_key} is not a {self.plan_billing} plan"
        return None
