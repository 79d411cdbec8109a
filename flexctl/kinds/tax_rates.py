"""Tax rates (VAT 20%...), bound by code or name; read-only on OfficeRnD's public API."""

from __future__ import annotations

from decimal import Decimal

from flexctl.config.rules import UNIT_PRICE_DECIMALS, Checker, decimal_places
from flexctl.config.types import Amount, ConfigBase, Model, Name, ObjectId
from flexctl.kinds._fields import CATALOGUE, Field
from flexctl.kinds._keyed import KeyedKind

MAX_TAX_RATE = Decimal(100)


class TaxRate(Model):
    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live tax rate this entry is pinned to."""
    name: Name
    """The name, as in the admin portal; the rate is matched by it when it has no code."""
    code: str | None = None
    """The tax rate's code; the rate is matched by it when given."""
    rate: Amount | None = None
    """The rate in percent, from 0 to 100, e.g. 20 or 13.5."""


class TaxRates(KeyedKind):
    name = "tax_rates"
    noun = "tax rate"
    plural = "tax rates"
    section_description = "Tax rates, bound by code or name; revenue accounts refer to them."
    rank = 1  # before revenue accounts, which reference a tax rate
    api_path = "tax-rates"
    scope_prefix = "flex.billing.taxRates"
    portal = "Settings > Billing > Tax Rates"
    export_file = "organization.yaml"
    model = TaxRate
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("rate", "rate", "number"),  # a percentage, not money: 20 or 20.5
    )
    updatable = frozenset({"name", "code", "rate"})
    capabilities = CATALOGUE
    expected_fields = frozenset({"name", "rate"})

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        for key, tax in self.entries(config).items():
            if tax.rate is None:
                continue
            path = (self.name, key, "rate")
            if tax.rate > MAX_TAX_RATE:
                checker.add(path, f"a tax rate is a percentage, at most 100, got {tax.rate}")
            if decimal_places(tax.rate) > UNIT_PRICE_DECIMALS:
                checker.add(path, f"{tax.rate} has more than {UNIT_PRICE_DECIMALS} decimal places")
