"""The kinds of objects flexctl manages, in dependency order.

Every engine (snapshot, diff, apply, export) iterates over `registry()`; a kind's module holds
everything about it: field mapping, identity, updatable fields, capabilities per profile.
"""

from __future__ import annotations

from functools import cache

from flexctl.kinds.base import Kind


@cache
def _kinds() -> tuple[Kind, ...]:
    # Imported here so that `flexctl.kinds.base` stays importable by the kind modules.
    from flexctl.kinds.companies import Companies
    from flexctl.kinds.fees import Fees
    from flexctl.kinds.gateways import Gateways
    from flexctl.kinds.invoicing import Invoicing
    from flexctl.kinds.locations import Locations
    from flexctl.kinds.members import Members
    from flexctl.kinds.memberships import Memberships
    from flexctl.kinds.plans import Plans
    from flexctl.kinds.rates import Rates
    from flexctl.kinds.revenue_accounts import RevenueAccounts
    from flexctl.kinds.storefront import Storefront
    from flexctl.kinds.tax_rates import TaxRates

    kinds: list[Kind] = [
        Locations(),
        TaxRates(),
        RevenueAccounts(),
        Gateways(),
        Plans(),
        Rates(),
        Companies(),
        Members(),
        Memberships(),
        Fees(),
        Invoicing(),
        Storefront(),
    ]
    return tuple(sorted(kinds, key=lambda k: k.rank))


def registry() -> list[Kind]:
    """Every kind, in dependency (rank) order."""
    return list(_kinds())


def names() -> list[str]:
    return [k.name for k in _kinds()]


def get(name: str) -> Kind:
    for kind in _kinds():
        if kind.name == name:
            return kind
    raise KeyError(f"unknown kind {name!r}; kinds are: {', '.join(names())}")
