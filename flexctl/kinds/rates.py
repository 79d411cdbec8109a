"""Resource rates: hourly (meeting rooms) or daily (desks, event spaces), with the secondary
price components of the platform's `rates[]` list. Read-only on OfficeRnD's public API.

A component is known by its whole set of flags plus its interval, not by one flag: the
platform's own example combines `isWeekendRate` and `isHalfDayRate` in one component (weekend
half-day, `weekend_half_day_price`), and has flagless ones (week). Components flexctl does not
model (another combination, a second component of the same kind, unknown keys) are kept: they
are not compared, and an update sends them back exactly as read (`for_update`).

Modelled components are managed as a whole: once a rate declares any component price, every
modelled component it does not declare is expected to be absent (`None`), because the API
replaces `rates[]` as one list. A rate that declares no component leaves them unmanaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import Field as ModelField

from flexctl.config.lint import BUSINESS_DAY_HOURS, IgnoreWarnings
from flexctl.config.rules import Checker
from flexctl.config.secrets import SecretResolver
from flexctl.config.types import Amount, ConfigBase, Model, Name, ObjectId, Ref, no_items
from flexctl.kinds import _values as v
from flexctl.kinds._fields import CATALOGUE, Field
from flexctl.kinds._keyed import KeyedKind
from flexctl.kinds.base import MoneyContext, Obj
from flexctl.kinds.money import NO_EFFECT, Effect, MoneyEffect, changed_fields
from flexctl.kinds.refs import RefMap

UNIT = (("hour", "hour"), ("day", "day"))
UNIT_LENGTH = "unit"  # a component billed per the rate's own unit

# component field -> (intervalLength, intervalCount, the flags set on the API component)
COMPONENTS: dict[str, tuple[str, int, frozenset[str]]] = {
    "off_hours_price": ("hour", 1, frozenset({"isOffRate"})),  # hourly: outside business hours
    "weekend_price": (UNIT_LENGTH, 1, frozenset({"isWeekendRate"})),
    "full_day_price": ("day", 1, frozenset()),  # hourly: cap for a whole day
    "half_day_price": ("hour", 4, frozenset({"isHalfDayRate"})),  # daily: half a day (4 hours)
    "weekend_half_day_price": ("hour", 4, frozenset({"isWeekendRate", "isHalfDayRate"})),
    "week_price": ("week", 1, frozenset()),
    "month_price": ("month", 1, frozenset()),
}
_FLAGS = ("isOffRate", "isWeekendRate", "isHalfDayRate")
_MODELLED_KEYS = frozenset({"_id", "price", "intervalLength", "intervalCount", *_FLAGS})
# The components each unit of rate may have.
UNIT_COMPONENTS = {
    "hour": ("off_hours_price", "weekend_price", "full_day_price"),
    "day": ("half_day_price", "weekend_half_day_price", "week_price", "month_price",
            "weekend_price"),
}
KEPT = "kept_components"  # meta: the live components flexctl does not model, as read
ALL_COMPONENTS = sorted({name for names in UNIT_COMPONENTS.values() for name in names})


class Rate(Model):
    """A resource rate: hourly (meeting rooms) or daily (desks, event spaces)."""

    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live rate this entry is pinned to."""
    name: Name
    """The name, as in the admin portal; the rate is matched by it when it has no code."""
    code: str | None = None
    """The rate's code; the rate is matched by it when given."""
    description: str | None = None
    """Free text shown to customers."""
    unit: Literal["hour", "day"] = ModelField(
        description="hour (meeting rooms) or day (desks, event spaces)."
    )
    price: Amount
    """The price of one unit (an hour or a day) in business hours."""
    off_hours_price: Amount | None = ModelField(
        None, description="hour rates: price outside business hours."
    )
    weekend_price: Amount | None = ModelField(
        None, description="Price on weekends (hour or day rates)."
    )
    full_day_price: Amount | None = ModelField(
        None, description="hour rates: cap for a whole day."
    )
    half_day_price: Amount | None = ModelField(
        None, description="day rates: price for half a day."
    )
    weekend_half_day_price: Amount | None = ModelField(
        None, description="day rates: price for half a day on weekends."
    )
    week_price: Amount | None = ModelField(None, description="day rates: price for a week.")
    month_price: Amount | None = ModelField(None, description="day rates: price for a month.")
    resource_type: str | None = None
    """The resource type it prices, e.g. meeting_room, desk."""
    locations: list[Ref] | None = None
    """Location keys where the rate applies; omitted = all."""
    revenue_account: Ref | None = None
    """Key of a revenue account."""
    ignore_warnings: IgnoreWarnings = ModelField(default_factory=no_items)


def _component_name(component: Mapping[str, Any], unit: Any) -> str | None:
    """The field a live component is, by its whole flag set and interval among those of its
    rate's unit; None for one flexctl does not model (it is kept as it is)."""
    if not set(component) <= _MODELLED_KEYS:
        return None
    flags = {f for f in _FLAGS if component.get(f) is True}
    if any(component.get(f) not in (None, True, False) for f in _FLAGS):
        return None
    count = component.get("intervalCount", 1)
    for name in UNIT_COMPONENTS.get(str(unit), ()):
        length, wanted_count, wanted_flags = COMPONENTS[name]
        wanted_length = unit if length == UNIT_LENGTH else length
        if (flags == wanted_flags and component.get("intervalLength") == wanted_length
                and count == wanted_count):
            return name
    return None


class Rates(KeyedKind):
    name = "rates"
    noun = "rate"
    plural = "rates"
    portal_noun = "resource rate"
    rank = 5
    section = "rates"
    api_path = "resource-rates"
    scope_prefix = "flex.billing.resourceRates"
    portal = "Billing > Resource Rates"
    export_file = "rates.yaml"
    model = Rate
    section_description = "Resource rates for bookable spaces."
    references = ("locations", "revenue_accounts")
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("description", "description"),
        Field("unit", "intervalLength", "enum", enum=UNIT),
        Field("price", "price", "money"),
        Field("resource_type", "type"),
        Field("locations", "locations", "refs", ref="locations", empty="(all)"),
        Field("revenue_account", "revenueAccount", "ref", ref="revenue_accounts"),
    )
    select_extra = ("rates",)
    implied = MappingProxyType({"locations": ()})
    create_constants = MappingProxyType({"intervalCount": 1})
    # unit is the rate's nature (hourly vs daily): changing it is a new rate.
    updatable = frozenset({f.name for f in fields_map} | set(COMPONENTS)) - {"unit"}
    capabilities = CATALOGUE
    expected_fields = frozenset({"name", "price", "intervalLength"})

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        for key, rate in self.entries(config).items():
            path = (self.name, key)
            checker.refs((*path, "locations"), rate.locations, "locations")
            checker.ref((*path, "revenue_account"), rate.revenue_account, "revenue_accounts")
            checker.amount((*path, "price"), rate.price)
            allowed = UNIT_COMPONENTS[rate.unit]
            for component in ALL_COMPONENTS:
                value = getattr(rate, component)
                if value is None:
                    continue
                if component not in allowed:
                    checker.add(
                        (*path, component),
                        f"'{component}' is not a component of a per-{rate.unit} rate "
                        f"(allowed: {', '.join(allowed)})",
                    )
                checker.amount((*path, component), value)

    def lint(self, config: ConfigBase, checker: Checker) -> None:
        for key, rate in self.entries(config).items():
            path, ignore = (self.name, key), rate.ignore_warnings
            full_day = rate.full_day_price
            day = rate.price * BUSINESS_DAY_HOURS
            if rate.unit == "hour" and full_day is not None and day < full_day:
                checker.warn((*path, "full_day_price"), "FX101", (
                    f"{BUSINESS_DAY_HOURS} hours at {rate.price} cost {day}, less than the "
                    f"full-day price {full_day}: a whole day is cheaper by the hour"), ignore)
            half = rate.half_day_price
            if rate.unit == "day" and half is not None and half > rate.price:
                checker.warn((*path, "half_day_price"), "FX102", (
                    f"half a day costs {half}, more than the whole day's price {rate.price}"),
                    ignore)
            weekend_half, weekend_day = rate.weekend_half_day_price, rate.weekend_price
            if rate.unit == "day" and weekend_half is not None:
                whole = weekend_day if weekend_day is not None else rate.price
                if weekend_half > whole:
                    what = "weekend day's" if weekend_day is not None else "day's"
                    checker.warn((*path, "weekend_half_day_price"), "FX102", (
                        f"half a weekend day costs {weekend_half}, more than the whole "
                        f"{what} price {whole}"), ignore)
                elif half is not None and weekend_half > half:
                    checker.warn((*path, "weekend_half_day_price"), "FX103", (
                        f"the weekend half-day price {weekend_half} is above the regular "
                        f"half-day price {half}"), ignore)
            for component, what in (("weekend_price", "weekend"), ("off_hours_price",
                                                                   "off-hours")):
                value = getattr(rate, component)
                if value is not None and value > rate.price:
                    checker.warn((*path, component), "FX103", (
                        f"the {what} price {value} is above the regular price {rate.price}"),
                        ignore)

    def desired_one(
        self, key: str, model: BaseModel, config: ConfigBase, secrets: SecretResolver
    ) -> Obj:
        obj = super().desired_one(key, model, config, secrets)
        fields = dict(obj.fields)
        if any(name in fields for name in COMPONENTS):
            for name in COMPONENTS:
                fields[name] = v.money(fields.get(name), config.currency)
        return Obj(obj.kind, obj.address, fields, id=obj.id, meta=obj.meta)

    def extra_from_api(
        self, doc: Mapping[str, Any], fields: dict[str, Any], refs: RefMap, currency: str
    ) -> None:
        fields.update(dict.fromkeys(COMPONENTS))
        for component in doc.get("rates") or ():
            name = _component_name(component, doc.get("intervalLength"))
            if name is not None and fields[name] is None:
                fields[name] = v.money(component.get("price"), currency)

    def from_api(self, doc: Mapping[str, Any], refs: RefMap, currency: str) -> Obj:
        obj = super().from_api(doc, refs, currency)
        unit, seen, kept = doc.get("intervalLength"), set(), []
        for component in doc.get("rates") or ():
            name = _component_name(component, unit) if isinstance(component, Mapping) else None
            if name is None or name in seen:  # not modelled, or a second one of a kind
                kept.append(component)
            else:
                seen.add(name)
        if not kept:
            return obj
        return Obj(obj.kind, obj.address, obj.fields, obj.id, meta={**obj.meta, KEPT: kept})

    def for_update(self, obj: Obj, live: Obj | None) -> Obj:
        """An update replaces `rates[]` as a whole: the live components flexctl does not
        model go back exactly as they were read."""
        kept = live.meta.get(KEPT) if live is not None else None
        if not kept:
            return obj
        return Obj(obj.kind, obj.address, obj.fields, obj.id, obj.owner, {**obj.meta, KEPT: kept})

    def extra_body(
        self,
        body: dict[str, Any],
        obj: Obj,
        names: set[str],
        refs: RefMap,
        secrets: SecretResolver,
    ) -> None:
        if not names & set(COMPONENTS):
            return
        unit = obj.fields.get("unit", "hour")
        components: list[Any] = []
        for name, (length, count, flags) in COMPONENTS.items():
            price = obj.fields.get(name)
            if price is None:
                continue
            component: dict[str, Any] = {
                "price": price,
                "intervalLength": unit if length == UNIT_LENGTH else length,
                "intervalCount": count,
            }
            for f in _FLAGS:
                component[f] = f in flags
            components.append(component)
        body["rates"] = components + list(obj.meta.get(KEPT, ()))

    # --- money ----------------------------------------------------------------------------

    def money_effect(self, before: Obj | None, after: Obj | None, ctx: MoneyContext) -> MoneyEffect:
        """A rate prices bookings as they are made: what is already booked keeps its charge."""
        if before is None:
            return MoneyEffect(Effect.FUTURE, note="a new rate: affects future bookings")
        if after is None:
            return MoneyEffect(Effect.FUTURE, note="no longer offered: affects future bookings")
        prices = ("price", *COMPONENTS)
        changed = changed_fields(before.fields, after.fields, prices)
        if not changed:
            return NO_EFFECT
        return MoneyEffect(Effect.FUTURE, note=f"{', '.join(changed)} changed: affects future "
                                               "bookings; bookings already made keep their charge")

    # --- export ---------------------------------------------------------------------------

    def export_fields(self, obj: Obj) -> list[str]:
        names = [*(f.name for f in self.fields_map), *COMPONENTS]
        known = [n for n in names if n in obj.fields]
        return known + sorted(n for n in obj.fields if n not in names)

    def export_problem(self, obj: Obj) -> str | None:
        problem = super().export_problem(obj)
        unit = obj.fields.get("unit")
        if problem is None and unit not in ("hour", "day"):
            return f"its unit {unit!r} is not hour or day"
        return problem
