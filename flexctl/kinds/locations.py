"""Locations: existing places bound by code or name; read-only on OfficeRnD's public API."""

from __future__ import annotations

from flexctl.kinds._keyed import CATALOGUE, Field, KeyedKind


class Locations(KeyedKind):
    name = "locations"
    rank = 0
    section = "locations"
    api_path = "locations"
    scope_prefix = "flex.space.locations"
    portal = "Settings > Locations"
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("timezone", "timezone"),
    )
    updatable = frozenset({"name", "code", "timezone"})
    capabilities = CATALOGUE
