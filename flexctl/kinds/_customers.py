"""What companies and members share: billing details, location, the flexctl marker."""

from __future__ import annotations

from flexctl.kinds._keyed import COMMUNITY, Field, KeyedKind

CUSTOMER_FIELDS = (
    Field("name", "name"),
    Field("email", "email"),
    Field("location", "location", "ref", ref="locations"),
    Field("description", "description"),
    Field("billing_details.billing_name", "billingDetails.billingName"),
    Field("billing_details.vat_number", "billingDetails.vatNumber"),
    Field("billing_details.registration_number", "billingDetails.registrationNumber"),
)


class CustomerKind(KeyedKind):
    """Companies and members: full CRUD on every target, tagged with the flexctl marker."""

    marker = True
    capabilities = COMMUNITY
