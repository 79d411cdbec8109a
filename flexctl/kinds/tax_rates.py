"""Tax rates (VAT 20%...), bound by code or name; read-only on OfficeRnD's public API."""

from __future__ import annotations

from flexctl.kinds._keyed import CATALOGUE, Field, KeyedKind


class TaxRates(KeyedKind):
    name = "tax_rates"
    rank = 1  # before revenue accounts, which reference a tax rate
    section = "tax_rates"
    api_path = "tax-rates"
    scope_prefix = "flex.billing.taxRates"
    portal = "Settings > Billing > Tax Rates"
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("rate", "rate", "number"),  # a percentage, not money: 20 or 20.5
    )
    updatable = frozenset({"name", "code", "rate"})
    capabilities = CATALOGUE
