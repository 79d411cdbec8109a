"""The kinds of objects flexctl manages, in dependency order: the registry.

Every engine (config assembly, snapshot, diff, plan, apply, render, export) iterates over
`registry()`; a kind's module holds everything about it (see `flexctl.kinds.base.Kind`).
Adding a kind: write its module (copy the closest one), list its class in `_BUILT_IN`, and give
the emulator a resource for it. Tests and extensions add kinds with `registered(kind)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache

from flexctl.kinds.base import Kind
from flexctl.wording import counted

_extra: list[Kind] = []


@cache
def _built_in() -> tuple[Kind, ...]:
    # Imported here so that the kind modules can import `flexctl.kinds.base` freely.
    from flexctl.kinds.companies import Companies
    from flexctl.kinds.fees import Fees
    from flexctl.kinds.gateways import Gateways
    from flexctl.kinds.invoicing import InvoicingSettings
    from flexctl.kinds.locations import Locations
    from flexctl.kinds.members import Members
    from flexctl.kinds.memberships import Memberships
    from flexctl.kinds.plans import Plans
    from flexctl.kinds.rates import Rates
    from flexctl.kinds.revenue_accounts import RevenueAccounts
    from flexctl.kinds.storefront import StorefrontSettings
    from flexctl.kinds.tax_rates import TaxRates

    return (
        Locations(), TaxRates(), RevenueAccounts(), Gateways(), Plans(), Rates(), Companies(),
        Members(), Memberships(), Fees(), InvoicingSettings(), StorefrontSettings(),
    )


@cache
def _ordered(extra: tuple[Kind, ...]) -> tuple[Kind, ...]:
    return tuple(sorted((*_built_in(), *extra), key=lambda k: k.rank))


def registry() -> tuple[Kind, ...]:
    """Every kind, in dependency (rank) order."""
    return _ordered(tuple(_extra))


def names() -> list[str]:
    return [k.name for k in registry()]


def get(name: str) -> Kind:
    for kind in registry():
        if kind.name == name:
            return kind
    raise KeyError(f"unknown kind {name!r}; kinds are: {', '.join(names())}")


def count_of(name: str, number: int) -> str:
    """`number` objects of the kind `name` in words: "1 gateway", "3 tax rates"."""
    kind = next((k for k in registry() if k.name == name), None)
    return counted(number, kind.noun, kind.plural) if kind else f"{number} {name}"


@contextmanager
def registered(kind: Kind) -> Iterator[Kind]:
    """Add a kind to the registry for the duration of a `with` block."""
    if kind.name in names():
        raise ValueError(f"a kind named {kind.name!r} is already registered")
    _extra.append(kind)
    try:
        yield kind
    finally:
        _extra.remove(kind)


def with_references(names: Iterable[str]) -> set[str]:
    """`names` plus every kind their references point to, transitively."""
    by_name = {k.name: k for k in registry()}
    todo, seen = list(names), set[str]()
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(by_name[name].references)
    return seen
