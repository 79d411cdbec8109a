"""The Growth Hub storefront: what non-members can buy online. Emulator `full` profile only.
Lists omitted from the config are not managed."""

from __future__ import annotations

from flexctl.config.rules import Checker
from flexctl.config.types import ConfigBase, Model, Ref
from flexctl.kinds._fields import Field
from flexctl.kinds._singleton import SingletonKind


class Storefront(Model):
    """Growth Hub: what is offered to non-members online."""

    enabled: bool
    """Whether the storefront is online (`false`: not wanted, and that is ready too)."""
    plans: list[Ref] = []
    """Keys of the plans sold online."""
    rates: list[Ref] = []
    """Keys of the rates of resources booked online."""
    locations: list[Ref] = []
    """Keys of the locations shown; empty = all."""


class StorefrontSettings(SingletonKind):
    name = "storefront"
    noun = "storefront settings"
    plural = "storefront settings"
    rank = 11
    api_path = "storefront"
    scope_prefix = "flex.settings.storefront"
    portal = "Growth Hub > Settings"
    export_file = "storefront.yaml"
    model = Storefront
    section_description = "Growth Hub storefront: what non-members can buy online."
    unreadable_reason = "the OfficeRnD public API does not expose the Growth Hub storefront"
    references = ("plans", "rates", "locations")
    fields_map = (
        Field("enabled", "enabled", "bool"),
        Field("plans", "plans", "refs", ref="plans"),
        Field("rates", "resourceRates", "refs", ref="rates"),
        Field("locations", "locations", "refs", ref="locations", empty="(all)"),
    )
    updatable = frozenset(f.name for f in fields_map)

    def check(self, config: ConfigBase, checker: Checker) -> None:
        storefront = config.section(self.name)
        if storefront is None:
            return
        for section in ("plans", "rates", "locations"):
            checker.refs((self.name, section), getattr(storefront, section), section)
