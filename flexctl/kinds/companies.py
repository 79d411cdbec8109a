"""Companies (customers that are organizations), matched by exact name."""

from __future__ import annotations

from typing import Any

from flexctl.kinds._customers import CUSTOMER_FIELDS, CustomerKind
from flexctl.kinds.base import Obj


class Companies(CustomerKind):
    name = "companies"
    rank = 6
    section = "companies"
    api_path = "companies"
    scope_prefix = "flex.community.companies"
    portal = "Community > Companies"
    references = ("locations",)
    fields_map = CUSTOMER_FIELDS
    updatable = frozenset(f.name for f in fields_map)

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        return ("name", obj.fields.get("name"))

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        return (self.natural_key(obj),)
