"""The Growth Hub storefront: what non-members can buy online. Emulator `full` profile only.
Lists omitted from the config are not managed."""

from __future__ import annotations

from flexctl.kinds._keyed import Field
from flexctl.kinds._singleton import SingletonKind


class Storefront(SingletonKind):
    name = "storefront"
    rank = 11
    section = "storefront"
    api_path = "storefront"
    scope_prefix = "flex.settings.storefront"
    portal = "Growth Hub > Settings"
    unreadable_reason = "the OfficeRnD public API does not expose the Growth Hub storefront"
    references = ("plans", "rates", "locations")
    fields_map = (
        Field("enabled", "enabled", "bool"),
        Field("plans", "plans", "refs", ref="plans"),
        Field("rates", "resourceRates", "refs", ref="rates"),
        Field("locations", "locations", "refs", ref="locations"),
    )
    updatable = frozenset(f.name for f in fields_map)
