"""Memberships: a recurring plan assigned to a customer from `start` (to `end`).

The API's PUT accepts only `startDate`, `endDate` and `price`: a change of plan, location or
name is a replace. `end` is always managed: omitted means open-ended (`None`).
`meta["invoiced"]` is filled by the snapshot from the invoices (`payments`) lines.
"""

from __future__ import annotations

from types import MappingProxyType

from flexctl.kinds._keyed import COMMUNITY, Field
from flexctl.kinds._owned import OwnedKind


class Memberships(OwnedKind):
    name = "memberships"
    rank = 8
    api_path = "memberships"
    scope_prefix = "flex.community.memberships"
    portal = "Billing > Memberships"
    item_attr = "memberships"
    date_field = "start"
    marker = True
    fields_map = (
        Field("plan", "plan", "ref", ref="plans"),
        Field("start", "startDate", "date"),
        Field("end", "endDate", "date"),
        Field("price", "price", "money"),
        Field("location", "location", "ref", ref="locations"),
        Field("name", "name"),
    )
    implied = MappingProxyType({"end": None})
    updatable = frozenset({"start", "end", "price"})
    capabilities = COMMUNITY
