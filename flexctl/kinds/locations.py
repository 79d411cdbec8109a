"""Locations: existing places bound by code or name; read-only on OfficeRnD's public API."""

from __future__ import annotations

from flexctl.config.types import Model, Name, ObjectId
from flexctl.kinds._fields import CATALOGUE, Field
from flexctl.kinds._keyed import KeyedKind


class Location(Model):
    """An existing location, bound by code or name (read-only on OfficeRnD)."""

    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live location this entry is pinned to."""
    name: Name
    """The name, as in the admin portal; the location is matched by it when it has no code."""
    code: str | None = None
    """The location's code; the location is matched by it when given."""
    timezone: str | None = None
    """An IANA time zone such as Europe/Dublin."""


class Locations(KeyedKind):
    name = "locations"
    noun = "location"
    plural = "locations"
    rank = 0
    api_path = "locations"
    scope_prefix = "flex.space.locations"
    portal = "Settings > Locations"
    export_file = "organization.yaml"
    model = Location
    section_description = "Existing locations, bound by code or name."
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("timezone", "timezone"),
    )
    updatable = frozenset({"name", "code", "timezone"})
    capabilities = CATALOGUE
    expected_fields = frozenset({"name"})

