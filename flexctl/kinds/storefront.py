"""The Growth Hub storefront: what non-members can buy online. Emulator `full` profile only.
Lists omitted from the config are not managed."""

from __future__ import annotations

from pydantic import Field as ModelField

from flexctl.config.lint import IgnoreWarnings
from flexctl.config.rules import Checker
from flexctl.config.types import ConfigBase, Model, Ref, no_items
from flexctl.kinds._fields import Field
from flexctl.kinds._singleton import SingletonKind
from flexctl.kinds.base import MoneyContext, Obj
from flexctl.kinds.money import NO_EFFECT, Effect, MoneyEffect, changed_fields


class Storefront(Model):
    """Growth Hub: what is offered to non-members online."""

    enabled: bool
    """Whether the storefront is online (`false`: not wanted, and that is ready too)."""
    plans: list[Ref] = ModelField(default_factory=no_items)
    """Keys of the plans sold online."""
    rates: list[Ref] = ModelField(default_factory=no_items)
    """Keys of the rates of resources booked online."""
    locations: list[Ref] = ModelField(default_factory=no_items)
    """Keys of the locations shown; empty = all."""
    ignore_warnings: IgnoreWarnings = ModelField(default_factory=no_items)


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
    expected_fields = frozenset({"enabled"})

    def check(self, config: ConfigBase, checker: Checker) -> None:
        storefront = config.section(self.name)
        if storefront is None:
            return
        for section in ("plans", "rates", "locations"):
            checker.refs((self.name, section), getattr(storefront, section), section)

    def lint(self, config: ConfigBase, checker: Checker) -> None:
        """Products offered online: each with a price, and a gateway where it is sold."""
        storefront = config.section(self.name)
        if storefront is None or not storefront.enabled:
            return
        every = list(config.section("locations"))
        served = {loc for g in config.section("gateways").values() for loc in g.locations or every}
        offered = storefront.locations or every
        for section in ("plans", "rates"):
            products = config.section(section)
            for number, key in enumerate(getattr(storefront, section)):
                product = products.get(key)
                if product is None:
                    continue
                path, noun = (self.name, section, number), section[:-1]
                ignore = (*storefront.ignore_warnings, *product.ignore_warnings)
                if product.price == 0:
                    checker.warn(path, "FX106", f"{noun} '{key}' is sold online with a price of "
                                 "0", ignore)
                unserved = [loc for loc in product.locations or every
                            if loc in offered and loc not in served]
                if unserved:
                    checker.warn(path, "FX105", (
                        f"{noun} '{key}' is offered online at {', '.join(unserved)}, where no "
                        "payment gateway takes its payment"), ignore)

    def money_effect(self, before: Obj | None, after: Obj | None, ctx: MoneyContext) -> MoneyEffect:
        """What non-members can buy online from now on: future sales, nothing charged now."""
        if after is None:
            return NO_EFFECT
        changed = changed_fields(before.fields if before else None, after.fields, self.updatable)
        if not changed:
            return NO_EFFECT
        if "enabled" in changed:
            what = "non-members can buy online" if after.fields["enabled"] else \
                "non-members can no longer buy online"
        else:
            what = f"{', '.join(sorted(changed))} changed: what non-members can buy online"
        return MoneyEffect(Effect.FUTURE, note=f"{what}; affects future sales")
