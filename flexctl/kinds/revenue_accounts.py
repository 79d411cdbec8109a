"""Revenue accounts (Membership fees, One-off Fees...), bound by code or name; read-only on
OfficeRnD's public API."""

from __future__ import annotations

from pydantic import model_validator

from flexctl.config.rules import Checker
from flexctl.config.types import ConfigBase, Model, Name, ObjectId, Ref
from flexctl.kinds import _values as v
from flexctl.kinds._fields import CATALOGUE, Field
from flexctl.kinds._keyed import KeyedKind
from flexctl.kinds.base import Obj


class RevenueAccount(Model):
    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live account this entry is pinned to."""
    name: Name | None = None
    """The name; the account is matched by it when it has no code (a name or a code is
    required)."""
    code: str | None = None
    """The accounting code, e.g. 4000; the account is matched by it when given."""
    description: str | None = None
    """Free text shown in the admin portal."""
    tax_rate: Ref | None = None
    """The key of the tax rate applied to income on this account."""

    @model_validator(mode="after")
    def _named(self) -> RevenueAccount:
        if self.name is None and self.code is None:
            raise ValueError("a revenue account needs a name or a code")
        return self


class RevenueAccounts(KeyedKind):
    name = "revenue_accounts"
    noun = "revenue account"
    plural = "revenue accounts"
    section_description = "Revenue accounts (accounting codes), bound by code or name."
    rank = 2
    api_path = "revenue-accounts"
    scope_prefix = "flex.billing.revenueAccounts"
    portal = "Settings > Billing > Revenue Accounts"
    export_file = "organization.yaml"
    model = RevenueAccount
    references = ("tax_rates",)
    fields_map = (
        Field("name", "name"),
        Field("code", "code"),
        Field("description", "description"),
        Field("tax_rate", "taxRate", "ref", ref="tax_rates"),
    )
    updatable = frozenset({"name", "code", "description", "tax_rate"})
    capabilities = CATALOGUE
    expected_fields = frozenset({"name"})

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        for key, account in self.entries(config).items():
            checker.ref((self.name, key, "tax_rate"), account.tax_rate, "tax_rates")

    def slug_base(self, obj: Obj) -> str:
        return v.slugify(str(obj.fields.get("name") or obj.fields.get("code") or obj.id))

    def export_problem(self, obj: Obj) -> str | None:
        if not (obj.fields.get("name") or obj.fields.get("code")):
            return "it has neither a name nor a code"
        return None
