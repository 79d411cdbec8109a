"""Members (people), matched by email, case-insensitively."""

from __future__ import annotations

from typing import Any

from flexctl.kinds._customers import CUSTOMER_FIELDS, CustomerKind
from flexctl.kinds._keyed import Field
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap


class Members(CustomerKind):
    name = "members"
    rank = 7
    section = "members"
    api_path = "members"
    scope_prefix = "flex.community.members"
    portal = "Community > Members"
    references = ("locations", "companies")
    fields_map = (
        *CUSTOMER_FIELDS,
        Field("company", "company", "ref", ref="companies"),
        Field("billing_person", "isBillingPerson", "bool"),
        Field("contact_person", "isContactPerson", "bool"),
    )
    updatable = frozenset(f.name for f in fields_map)

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        return ("email", str(obj.fields.get("email") or "").lower())

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        return (self.natural_key(obj),)

    def lookup_filters(self, obj: Obj, refs: RefMap) -> dict[str, str]:
        # The API's email filter is exact; `matches` then compares case-insensitively.
        return {"email": str(obj.fields["email"])}
