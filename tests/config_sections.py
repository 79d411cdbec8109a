"""The loaded configuration as mypy should see it, for tests that read the kinds' sections.

`flexctl.kinds.configuration` assembles the `Config` model from the registered kinds at run
time, so mypy knows a loaded config only as `ConfigBase`. `sections(config)` is the same object
typed with the sections the tests read; `tests/config/test_config_sections.py` checks every
attribute here against the assembled model, so the cast cannot drift from it.
"""

from __future__ import annotations

from typing import Literal, Protocol, cast

from flexctl.config.types import ConfigBase
from flexctl.kinds.companies import Company
from flexctl.kinds.gateways import Gateway
from flexctl.kinds.invoicing import Invoicing
from flexctl.kinds.locations import Location
from flexctl.kinds.members import Member
from flexctl.kinds.plans import Plan
from flexctl.kinds.rates import Rate
from flexctl.kinds.revenue_accounts import RevenueAccount
from flexctl.kinds.storefront import Storefront
from flexctl.kinds.tax_rates import TaxRate


class Sections(Protocol):
    """The fields of the assembled `Config` model (`policy` is left out: its model is built
    at run time too, and `ConfigBase` already types it as `PolicyBase`)."""

    version: Literal[1]
    organization: str
    currency: str
    locations: dict[str, Location]
    tax_rates: dict[str, TaxRate]
    revenue_accounts: dict[str, RevenueAccount]
    gateways: dict[str, Gateway]
    plans: dict[str, Plan]
    rates: dict[str, Rate]
    companies: dict[str, Company]
    members: dict[str, Member]
    invoicing: Invoicing | None
    storefront: Storefront | None


def sections(config: ConfigBase) -> Sections:
    """`config` with its kinds' sections typed (checked against the model by a test)."""
    return cast(Sections, config)
