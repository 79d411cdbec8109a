"""Companies (customers that are organizations), matched by exact name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flexctl.kinds._customers import CUSTOMER_FIELDS, Customer, CustomerKind


class Company(Customer):
    pass


class Companies(CustomerKind):
    name = "companies"
    noun = "company"
    required_live = ("name",)
    plural = "companies"
    rank = 6
    api_path = "companies"
    incremental = True  # `modifiedAt[$gt]` is documented on its list
    scope_prefix = "flex.community.companies"
    portal = "Community > Companies"
    export_file = "customers/companies.yaml"
    model = Company
    section_description = "Customer companies, with their memberships and fees."
    references = ("locations",)
    fields_map = CUSTOMER_FIELDS
    updatable = frozenset(f.name for f in fields_map)
    expected_fields = frozenset({"name"})

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        return ("name", fields.get("name"))
