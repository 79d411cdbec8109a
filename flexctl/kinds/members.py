"""Members (people), matched by email, case-insensitively."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import Field as ModelField

from flexctl.config.rules import Checker
from flexctl.config.types import EMAIL_PATTERN, ConfigBase, Email, Ref
from flexctl.kinds._customers import CUSTOMER_FIELDS, Customer, CustomerKind
from flexctl.kinds._fields import Field
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap

_EMAIL = re.compile(EMAIL_PATTERN)


class Member(Customer):
    email: Email = ModelField(description="Members are matched by email, ignoring case; unique.")
    company: Ref | None = None
    """The key of the member's company."""
    billing_person: bool = False
    """Whether the member receives the company's invoices (a company needs one to save a card)."""
    contact_person: bool = False
    """Whether the member is the company's contact."""


class Members(CustomerKind):
    name = "members"
    noun = "member"
    required_live = ("name",)
    plural = "members"
    rank = 7
    api_path = "members"
    incremental = True  # `modifiedAt[$gt]` is documented on its list
    scope_prefix = "flex.community.members"
    portal = "Community > Members"
    export_file = "customers/members.yaml"
    export_quiet = frozenset({"billing_person", "contact_person"})
    model = Member
    section_description = "Customer members (matched by email), with their memberships and fees."
    references = ("locations", "companies")
    fields_map = (
        *CUSTOMER_FIELDS,
        Field("company", "company", "ref", ref="companies"),
        Field("billing_person", "isBillingPerson", "bool"),
        Field("contact_person", "isContactPerson", "bool"),
    )
    updatable = frozenset(f.name for f in fields_map)
    expected_fields = frozenset({"name", "email"})
    # The admin portal asks for a member's status; a platform that does too gets this one.
    create_fallbacks = MappingProxyType({"status": "active"})

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        return ("email", str(fields.get("email") or "").lower())

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        for key, member in self.entries(config).items():
            checker.ref((self.name, key, "company"), member.company, "companies")

    def check_identities(self, config: ConfigBase, checker: Checker) -> None:
        emails: dict[str, str] = {}
        for key, member in self.entries(config).items():
            email = member.email.casefold()
            other = emails.setdefault(email, key)
            if other != key:
                checker.add((self.name, key, "email"),
                            f"email '{member.email}' is already used by member '{other}'")

    def lookup_filters(self, obj: Obj, refs: RefMap) -> dict[str, str]:
        # The API's email filter is exact; `matches` then compares case-insensitively.
        return {"email": str(obj.fields["email"])}

    def export_problem(self, obj: Obj) -> str | None:
        problem = super().export_problem(obj)
        if problem is None and not _EMAIL.match(str(obj.fields.get("email") or "")):
            return "it has no valid email, which flexctl matches members by"
        return problem
