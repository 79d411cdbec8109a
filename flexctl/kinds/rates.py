"""Resource rates: hourly (meeting rooms) or daily (desks, event spaces), with the secondary
price components of the platform's `rates[]` list. Read-only on OfficeRnD's public API.

Components are managed as a whole: once a rate declares any component price, every component
it does not declare is expected to be absent (`None`), because the API replaces `rates[]` as
one list. A rate that declares no component leaves them unmanaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from flexctl.config.models import Config
from flexctl.config.secrets import SecretResolver
from flexctl.kinds import _values as v
from flexctl.kinds._keyed import CATALOGUE, Field, KeyedKind
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap

UNIT = (("hour", "hour"), ("day", "day"))
UNIT_LENGTH = "unit"  # a component billed per the rate's own unit

# component field -> (intervalLength, intervalCount, flag set on the API component)
COMPONENTS: dict[str, tuple[str, int, str | None]] = {
    "off_hours_price": ("hour", 1, "isOffRate"),  # hourly: outside business hours
    "weekend_price": (UNIT_LENGTH, 1, "isWeekendRate"),
    "full_day_price": ("day", 1, None),  # hourly: cap for a whole day
    "half_day_price": ("hour", 4, "isHalfDayRate"),  # daily: half a day (4 hours)
    "week_price": ("week", 1, None),
    "month_price": ("month", 1, None),
}
_FLAGS = ("isOffRate", "isWeekendRate", "isHalfDayRate")


def _component_name(component: Mapping[str, Any]) -> str | None:
    for name, (_length, _count, flag) in COMPONENTS.items():
        if flag is not None and component.get(flag):
            return name
    if any(component.get(f) for f in _FLAGS):
        return None
    length = component.get("intervalLength")
    return {"day": "full_day_price", "week": "week_price", "month": "month_price"}.get(str(length))


class Rates(KeyedKind):
    name = "rates"
    rank = 5
    section = "rates"
    api_path = "resource-rates"
    scope_prefix = "flex.billing.resourceRates"
    portal = "Billing > Resource Rates"
    references = ("locations", "revenue_accounts")
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("description", "description"),
        Field("unit", "intervalLength", "enum", enum=UNIT),
        Field("price", "price", "money"),
        Field("resource_type", "type"),
        Field("locations", "locations", "refs", ref="locations"),
        Field("revenue_account", "revenueAccount", "ref", ref="revenue_accounts"),
    )
    select_extra = ("rates",)
    implied = MappingProxyType({"locations": ()})
    create_constants = MappingProxyType({"intervalCount": 1})
    # unit is the rate's nature (hourly vs daily): changing it is a new rate.
    updatable = frozenset({f.name for f in fields_map} | set(COMPONENTS)) - {"unit"}
    capabilities = CATALOGUE

    def desired_one(
        self, key: str, model: BaseModel, config: Config, secrets: SecretResolver
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
            name = _component_name(component)
            if name is not None:
                fields[name] = v.money(component.get("price"), currency)

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
        components = []
        for name, (length, count, flag) in COMPONENTS.items():
            price = obj.fields.get(name)
            if price is None:
                continue
            component: dict[str, Any] = {
                "price": price,
                "intervalLength": unit if length == UNIT_LENGTH else length,
                "intervalCount": count,
            }
            for f in _FLAGS:
                component[f] = f == flag
            components.append(component)
        body["rates"] = components
