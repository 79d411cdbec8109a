"""A kind that flexctl does not have, defined in this one module: discounts (promotions a
location offers, in percent). `test_new_kind.py` registers it with the kinds and gives the
emulator its resource, then runs the whole journey with no edit to any engine."""

from __future__ import annotations

from types import MappingProxyType

from pydantic import Field as ModelField

from flexctl.config.rules import Checker
from flexctl.config.types import Amount, ConfigBase, Model, Name, ObjectId, Ref
from flexctl.emulator.resources import AUDIT_FILTERS, OBJECT, Resource
from flexctl.emulator.validation import F
from flexctl.kinds._fields import CATALOGUE, Field
from flexctl.kinds._keyed import KeyedKind


class Discount(Model):
    """A percentage off, offered at some locations."""

    id: ObjectId | None = None
    name: Name
    code: str | None = None
    percent: Amount = ModelField(description="Percent off, e.g. 10 or 12.5.")
    locations: list[Ref] | None = ModelField(None, description="Location keys; omitted = all.")


class Discounts(KeyedKind):
    name = "discounts"
    noun = "discount"
    plural = "discounts"
    rank = 12
    api_path = "discounts"
    scope_prefix = "flex.billing.discounts"
    portal = "Billing > Discounts"
    export_file = "discounts.yaml"
    model = Discount
    section_description = "Discounts: a percentage off at some locations."
    references = ("locations",)
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("percent", "percent", "number"),
        Field("locations", "locations", "refs", ref="locations", empty="(all)"),
    )
    implied = MappingProxyType({"locations": ()})
    updatable = frozenset({"name", "code", "percent", "locations"})
    capabilities = CATALOGUE

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        for key, discount in self.entries(config).items():
            checker.refs((self.name, key, "locations"), discount.locations, "locations")
            if discount.percent > 100:
                checker.add((self.name, key, "percent"), "a discount is at most 100 percent")


RESOURCE = Resource(
    "discounts",
    "flex.billing.discounts",
    fields={"name": F("string"), "code": F("string", nullable=True),
            "percent": F("number"), "locations": F("ids"), "properties": OBJECT},
    required=("name", "percent"),
    defaults={"locations": [], "properties": {}},
    filters={"_id": "id", "name": "string", "code": "string", **AUDIT_FILTERS},
)
