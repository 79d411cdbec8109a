"""Revenue accounts (Membership fees, One-off Fees...), bound by code or name; read-only on
OfficeRnD's public API."""

from __future__ import annotations

from flexctl.kinds import _values as v
from flexctl.kinds._keyed import CATALOGUE, Field, KeyedKind
from flexctl.kinds.base import Obj


class RevenueAccounts(KeyedKind):
    name = "revenue_accounts"
    rank = 2
    section = "revenue_accounts"
    api_path = "revenue-accounts"
    scope_prefix = "flex.billing.revenueAccounts"
    portal = "Settings > Billing > Revenue Accounts"
    references = ("tax_rates",)
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("description", "description"),
        Field("tax_rate", "taxRate", "ref", ref="tax_rates"),
    )
    updatable = frozenset({"name", "code", "description", "tax_rate"})
    capabilities = CATALOGUE

    def slug_base(self, obj: Obj) -> str:
        return v.slugify(str(obj.fields.get("name") or obj.fields.get("code") or obj.id))
