"""Billing plans: recurring memberships (`intervalLength: month`) and one-off services
(`once`: day passes, printing). Read-only on OfficeRnD's public API.

Omitted `locations` means all locations and is managed as `()`; omitted `deposit`, `prorate`
and `visibility` are not managed (the platform's value is left alone).
"""

from __future__ import annotations

from types import MappingProxyType

from flexctl.kinds._keyed import CATALOGUE, Field, KeyedKind

BILLING = (("recurring", "month"), ("one_off", "once"))


class Plans(KeyedKind):
    name = "plans"
    rank = 4
    section = "plans"
    api_path = "plans"
    scope_prefix = "flex.billing.plans"
    portal = "Billing > Plans"
    references = ("locations", "revenue_accounts")
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("description", "description"),
        Field("billing", "intervalLength", "enum", enum=BILLING),
        Field("price", "price", "money"),
        Field("type", "type"),
        Field("locations", "locations", "refs", ref="locations"),
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
