"""What companies and members share: the customer model with its memberships and fees, billing
details, location, start date, the flexctl marker, and the rule that protects their billing
history.

The platform's admin portal makes a location mandatory for both and a start date (and a status)
for members; the public API's create body is undocumented, so a create always sends the
location and a start date (the configuration's `start`, else the day of the apply), and a
member's status when the platform asks for it (`create_fallbacks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import Field as ModelField

from flexctl.config.rules import Checker, KeyPath
from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase, Email, Model, Name, ObjectId, Ref, no_items
from flexctl.kinds import _values as v
from flexctl.kinds._fields import COMMUNITY, Field
from flexctl.kinds._keyed import KeyedKind
from flexctl.kinds.base import Obj, Profile, Removal, RuleContext
from flexctl.kinds.fees import Fee
from flexctl.kinds.memberships import Membership
from flexctl.kinds.refs import RefMap

CUSTOMER_FIELDS = (
    Field("name", "name"),
    Field("email", "email"),
    Field("location", "location", "ref", ref="locations"),
    Field("start", "startDate", "date"),
    Field("description", "description"),
    Field("billing_details.billing_name", "billingDetails.billingName"),
    Field("billing_details.vat_number", "billingDetails.vatNumber"),
    Field("billing_details.registration_number", "billingDetails.registrationNumber"),
)


class BillingDetails(Model):
    billing_name: str | None = None
    """The name on invoices, when it differs from the customer's."""
    vat_number: str | None = None
    """The VAT number on invoices."""
    registration_number: str | None = None
    """The company registration number on invoices."""


class Customer(Model):
    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live customer this entry is pinned to."""
    name: Name
    """The name, as in the admin portal."""
    email: Email | None = None
    """The billing email address."""
    location: Ref
    """The key of the customer's home location."""
    start: date | None = None
    """First day as a customer (YYYY-MM-DD); omitted = the day of the apply that creates it
    (the admin portal asks for one)."""
    description: str | None = None
    """Free text shown in the admin portal."""
    billing_details: BillingDetails | None = None
    """What invoices show about the customer."""
    memberships: list[Membership] = ModelField(default_factory=no_items)
    """Recurring plans the customer pays for."""
    fees: list[Fee] = ModelField(default_factory=no_items)
    """One-off charges on the customer."""


class CustomerKind(KeyedKind):
    """Companies and members: full CRUD on every target, tagged with the flexctl marker."""

    marker = True
    capabilities = COMMUNITY
    owns = ("memberships", "fees")

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        return (self.natural_key(obj),)  # one key: no code to match by

    def create_body(self, obj: Obj, refs: RefMap, secrets: SecretResolver) -> dict[str, Any]:
        body = super().create_body(obj, refs, secrets)
        body.setdefault("startDate", v.date_to_api(datetime.now(UTC).date()))
        return body

    def profile_warnings(
        self, config: ConfigBase, profile: Profile
    ) -> Iterable[tuple[KeyPath, str, str]]:
        if profile is not Profile.OFFICERND:
            return
        for key, customer in self.entries(config).items():
            if customer.start is None and customer.id is None:
                yield ((self.name, key), "FX201", f"no `start`: the platform's admin portal "
                       f"asks for a {self.noun}'s start date; creating it sends the day of the "
                       "apply")

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        for key, customer in self.entries(config).items():
            checker.ref((self.name, key, "location"), customer.location, "locations")

    def history_needed(
        self, live: Obj, action: str, owned: Mapping[str, Sequence[Obj]]
    ) -> Iterable[Obj]:
        """Whether a customer may be deleted depends on its invoiced memberships (`removal`):
        a removal (whatever it became: delete, blocked, manual) does; an update does not."""
        return () if action == "update" else owned.get(live.address, ())

    def removal(self, live: Obj, ctx: RuleContext) -> Removal:
        if live.address in ctx.owners_with_history:
            return Removal.blocked("the customer has invoiced memberships or fees; "
                                   "billing history is never deleted")
        return Removal.delete()

    def export_problem(self, obj: Obj) -> str | None:
        problem = super().export_problem(obj)
        if problem is None and obj.fields.get("location") is None:
            return "it has no location, which the config format requires"
        return problem

    def export_required(self, name: str) -> bool:
        return name == "location"

