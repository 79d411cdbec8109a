"""Price cohorts: the live recurring objects of each plan grouped by the monthly price they pay.

A cohort is what the kinds' `price_term` says: `(plan, monthly price)`, the price being an
object's own, else its plan's (`flexctl.kinds.money.PriceTerm`). Only objects active on the
as-of date are in a cohort (start <= date <= end, as in the money summary's run-rate); per
plan, those that ended before it and those that start after it are counted apart. A cohort's
monthly revenue is the exact sum of its prices (each already in the currency's minor unit; a
total is shown with the currency's digits, half up). The cohorts that pay a price other than
the catalogue's are the grandfathered (or negotiated) ones a repricing must reckon with.

This module groups and counts; it names no kind (the kinds with `cohorts` set take part).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.kinds import registry
from flexctl.kinds.base import MoneyContext, Obj
from flexctl.kinds.money import ZERO, PriceTerm, Recurring, amount_text
from flexctl.kinds.repricing import campaigns
from flexctl.state.desired import LoadedConfigLike, desired_state
from flexctl.state.incremental import CachedReader
from flexctl.state.snapshot import SnapshotClient, read_snapshot

# campaign key -> the (plan, customer address) pairs it leaves on their price (`except`)
Exceptions = Mapping[str, Collection[tuple[str, str]]]


@dataclass(frozen=True)
class Cohort:
    """The active objects of one plan that pay one monthly price."""

    plan: str
    monthly: Decimal
    catalogue: bool  # the plan's own price on the target
    addresses: tuple[str, ...]  # sorted
    revenue: Decimal  # exact sum of their monthly prices
    oldest: date | None  # the earliest start
    undeclared: tuple[str, ...]  # addresses the configuration does not declare
    excepted: Mapping[str, tuple[str, ...]]  # campaign -> addresses it excepts

    @property
    def count(self) -> int:
        return len(self.addresses)

    @property
    def declared(self) -> int:
        return self.count - len(self.undeclared)


@dataclass(frozen=True)
class PlanCohorts:
    """One plan's cohorts, the catalogue price's first, then by price, highest first."""

    plan: str
    label: str  # the plan's name
    catalogue: Decimal | None
    cohorts: tuple[Cohort, ...]
    ended: int  # ended before the as-of date: in no cohort
    future: int  # start after it: in no cohort yet

    @property
    def count(self) -> int:
        return sum(c.count for c in self.cohorts)

    @property
    def revenue(self) -> Decimal:
        return sum((c.revenue for c in self.cohorts), ZERO)


@dataclass(frozen=True)
class CohortReport:
    """`flexctl cohorts`: every plan with recurring objects on the target, by plan key."""

    target: Mapping[str, Any]
    currency: str
    digits: int
    as_of: date
    plans: tuple[PlanCohorts, ...]
    unreadable: Mapping[str, str] = field(default_factory=dict)  # kind -> why not read
    noun: str = "object"  # what a cohort is made of, in words (the kinds' noun)
    plural: str = "objects"

    def amount(self, value: Decimal | None) -> str:
        return amount_text(value, self.digits) or ""

    @property
    def count(self) -> int:
        return sum(p.count for p in self.plans)

    @property
    def revenue(self) -> Decimal:
        return sum((p.revenue for p in self.plans), ZERO)


def price_terms(ctx: MoneyContext) -> list[tuple[Obj, PriceTerm]]:
    """Every live object with a price term, with it."""
    found: list[tuple[Obj, PriceTerm]] = []
    for kind in ctx.kinds:
        if not kind.cohorts:
            continue
        for obj in ctx.live.get(kind.name, ()):
            term = kind.price_term(obj, ctx)
            if term is not None:
                found.append((obj, term))
    return found


def cohort_sizes(ctx: MoneyContext) -> dict[tuple[str, Decimal], list[str]]:
    """(plan, monthly) -> addresses of the live objects active on the as-of date in it."""
    sizes: dict[tuple[str, Decimal], list[str]] = {}
    for obj, term in price_terms(ctx):
        if term.terms.active_on(ctx.as_of):
            sizes.setdefault(term.cohort, []).append(obj.address)
    return sizes


@dataclass(frozen=True)
class CohortTouch:
    """A cohort a plan touches: its size on the as-of date, how many of its objects the plan
    changes (their price, period, plan: anything with a money effect), how many it brings to
    that price (new objects, a new price, a replace) and by which campaigns, and how many of
    its objects a campaign of the plan excepts (they keep their price)."""

    plan: str
    monthly: Decimal
    catalogue: bool  # the plan's price on the target now
    count: int
    changed: int
    joining: int
    noun: str  # what the cohort is made of, in words
    plural: str
    campaigns: tuple[str, ...] = ()  # the campaigns whose changes join it
    excepted: tuple[tuple[str, int], ...] = ()  # (campaign, how many of it it excepts)

    def describe(self, amount: Callable[[Decimal], str]) -> str:
        """"hot-desk at 250.00 (catalogue): 14 memberships, 3 changed by this plan"."""
        parts = [f"{self.count} {self.noun if self.count == 1 else self.plural}"]
        if self.changed:
            parts.append(f"{self.changed} changed by this plan")
        if self.joining:
            by = f" (campaign {', '.join(self.campaigns)})" if self.campaigns else ""
            parts.append(f"{self.joining} joining{by}")
        parts += [f"{n} excepted by campaign {c} (keeping this price)" for c, n in self.excepted]
        price = f"{amount(self.monthly)}{' (catalogue)' if self.catalogue else ''}"
        return f"{self.plan} at {price}: {', '.join(parts)}"


Key = tuple[str, Decimal]  # a cohort: (plan, monthly price)


def touched(
    ctx: MoneyContext,
    changes: Iterable[tuple[str, Recurring | None, str | None]],
    exceptions: Exceptions,
) -> tuple[CohortTouch, ...]:
    """The cohorts that changes touch; each change is (the live address it alters, its
    recurring terms after it, the campaign that made it). Cohorts are of live objects active on
    the as-of date; a change joins the cohort of its terms after if it bills on or after that
    day. The cohorts holding what a campaign of these changes excepts are touched too."""
    members: dict[str, Key] = {}
    sizes: dict[Key, int] = {}
    catalogue: dict[str, Decimal | None] = {}
    owners: dict[Key, list[tuple[str, str]]] = {}
    for obj, term in price_terms(ctx):
        catalogue.setdefault(term.terms.group, term.catalogue)
        if term.terms.active_on(ctx.as_of):
            members[obj.address] = term.cohort
            sizes[term.cohort] = sizes.get(term.cohort, 0) + 1
            owners.setdefault(term.cohort, []).append((term.terms.group, str(obj.owner)))
    changed: dict[Key, int] = {}
    joining: dict[Key, int] = {}
    by: dict[Key, set[str]] = {}
    for address, after, campaign in changes:
        was = members.get(address)
        if was is not None:
            changed[was] = changed.get(was, 0) + 1
        if after is not None and after.running(ctx.as_of):
            key = (after.group, after.monthly)
            if was != key:
                joining[key] = joining.get(key, 0) + 1
                if campaign is not None:
                    by.setdefault(key, set()).add(campaign)
    applied = set().union(*by.values())
    excepted: dict[Key, dict[str, int]] = {}
    for key, pairs in owners.items():
        for campaign in sorted(applied & set(exceptions)):
            if n := sum(1 for pair in pairs if pair in exceptions[campaign]):
                excepted.setdefault(key, {})[campaign] = n
    kinds = [k for k in ctx.kinds if k.cohorts]
    noun, plural = (kinds[0].noun, kinds[0].plural) if len(kinds) == 1 else ("object", "objects")
    return tuple(
        CohortTouch(plan, price, price == catalogue.get(plan), sizes.get((plan, price), 0),
                    changed.get((plan, price), 0), joining.get((plan, price), 0), noun, plural,
                    tuple(sorted(by.get((plan, price), ()))),
                    tuple(excepted.get((plan, price), {}).items()))
        for plan, price in sorted({*changed, *joining, *excepted}, key=lambda k: (k[0], -k[1]))
    )


def group(
    ctx: MoneyContext,
    declared: Collection[str],
    exceptions: Exceptions,
    target: Mapping[str, Any],
    unreadable: Mapping[str, str] | None = None,
) -> CohortReport:
    """The cohort report of the live objects in `ctx`; `declared` are the addresses the
    configuration declares, `exceptions` what each campaign leaves on its price."""
    day = ctx.as_of
    rows: dict[str, dict[Decimal, list[tuple[Obj, PriceTerm]]]] = {}
    labels: dict[str, tuple[str, Decimal | None]] = {}
    apart: dict[str, list[int]] = {}  # plan -> [ended, future]
    for obj, term in price_terms(ctx):
        plan = term.terms.group
        labels.setdefault(plan, (term.label, term.catalogue))
        counts = apart.setdefault(plan, [0, 0])
        if term.terms.start is not None and term.terms.start > day:
            counts[1] += 1
        elif not term.terms.active_on(day):
            counts[0] += 1
        else:
            rows.setdefault(plan, {}).setdefault(term.terms.monthly, []).append((obj, term))
    plans = []
    for plan in sorted(labels):
        label, catalogue = labels[plan]
        prices = rows.get(plan, {})
        order = sorted(prices, key=lambda price: (price != catalogue, -price))
        cohorts = tuple(_cohort(plan, price, catalogue, prices[price], declared, exceptions)
                        for price in order)
        plans.append(PlanCohorts(plan, label, catalogue, cohorts, *apart[plan]))
    kinds = [k for k in ctx.kinds if k.cohorts]
    nouns = {"noun": kinds[0].noun, "plural": kinds[0].plural} if len(kinds) == 1 else {}
    return CohortReport(target, ctx.currency, ctx.digits, day, tuple(plans),
                        dict(unreadable or {}), **nouns)


def _cohort(
    plan: str,
    price: Decimal,
    catalogue: Decimal | None,
    members: Sequence[tuple[Obj, PriceTerm]],
    declared: Collection[str],
    exceptions: Exceptions,
) -> Cohort:
    addresses = tuple(sorted(obj.address for obj, _ in members))
    starts = [term.terms.start for _, term in members if term.terms.start is not None]
    excepted = {
        campaign: found
        for campaign, pairs in sorted(exceptions.items())
        if (found := tuple(sorted(obj.address for obj, _ in members
                                  if (plan, str(obj.owner)) in pairs)))
    }
    return Cohort(
        plan=plan, monthly=price, catalogue=price == catalogue, addresses=addresses,
        revenue=sum((term.terms.monthly for _, term in members), ZERO),
        oldest=min(starts, default=None),
        undeclared=tuple(a for a in addresses if a not in declared),
        excepted=excepted,
    )


def read_cohorts(
    client: SnapshotClient,
    loaded: LoadedConfigLike,
    secrets: SecretResolver,
    *,
    as_of: date,
    target: Mapping[str, Any],
    reader: CachedReader | None = None,
) -> CohortReport:
    """Read every live object of the kinds that form cohorts (and what they reference, so
    that they match the configuration's objects) and group them, with the customers each
    repricing campaign excepts. `reader` reads through the snapshot cache."""
    kinds = registry()
    chosen = [k.name for k in kinds if k.cohorts]
    desired = desired_state(loaded, secrets, chosen)
    currency = loaded.config.currency
    snapshot = read_snapshot(client, desired, currency, chosen, all_objects=True, target=target,
                             reader=reader)
    ctx = MoneyContext(currency, as_of, kinds=kinds, desired=desired, live=snapshot.objects)
    declared = {obj.address for name in chosen for obj in desired.get(name, ())}
    return group(ctx, declared, campaign_exceptions(loaded.config), snapshot.target,
                 snapshot.unreadable)


def campaign_exceptions(config: ConfigBase) -> dict[str, frozenset[tuple[str, str]]]:
    """Campaign key -> the (plan, customer address) pairs its `except` keeps on their price."""
    return {key: frozenset((campaign.plan, customer) for customer in campaign.except_)
            for key, campaign in campaigns(config).items() if campaign.except_}
