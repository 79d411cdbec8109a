"""The money of a plan: each change's effect, asked of its kind, and the summary a reviewer
reads first — the monthly run-rate of the managed customers before and after, one-off charges
added and removed, and the customers affected — plus the money guards of `policy.money`.

The run-rate on the as-of date adds the monthly price of every membership of a customer the
configuration declares that is active that day (`Recurring.active_on`): live ones before, and
after the plan's changes. Blocked changes count for nothing (nothing is applied while one is
left); manual ones count, since the plan asks for them. Amounts are exact sums of per-line
totals that the kinds round (see `flexctl.kinds.money`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from flexctl.config.types import MoneyPolicy
from flexctl.kinds.base import Kind, MoneyContext, Obj
from flexctl.kinds.money import NO_EFFECT, ZERO, Effect, MoneyEffect, Recurring, amount_text
from flexctl.reconcile.cohorts import CohortTouch, Exceptions, touched

# Actions whose money counts; a blocked change (and a notice) changes nothing.
COUNTED = frozenset({"create", "update", "delete", "replace", "manual"})
GUARDS = "policy.money"


class ChangeLike(Protocol):
    """The part of `flexctl.reconcile.plan.Change` the money engine reads."""

    @property
    def address(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def after(self) -> Mapping[str, Any]: ...
    @property
    def replaces(self) -> str | None: ...
    @property
    def money(self) -> MoneyEffect | None: ...


@dataclass(frozen=True)
class MoneyOptions:
    currency: str
    as_of: date
    guards: MoneyPolicy = field(default_factory=MoneyPolicy)  # `policy.money`
    # campaign -> the (plan, customer) pairs its `except` keeps on their price
    exceptions: Exceptions = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerMoney:
    """One affected customer: its run-rate on the as-of date, and its one-off difference."""

    address: str
    monthly_before: Decimal
    monthly_after: Decimal
    one_off: Decimal
    changes: tuple[str, ...]  # addresses of its changes that have a money effect

    @property
    def delta(self) -> Decimal:
        return self.monthly_after - self.monthly_before

    def percent(self) -> Decimal | None:
        """The run-rate's change in percent of what it was (None for a new customer)."""
        if not self.monthly_before:
            return None
        ratio = self.delta * 100 / self.monthly_before
        return ratio.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MoneySummary:
    currency: str
    as_of: date
    digits: int  # the currency's minor unit
    recurring_before: Decimal
    recurring_after: Decimal
    one_off_added: Decimal  # sum of the changes that add one-off charges
    one_off_removed: Decimal  # sum (positive) of the changes that take them away
    retroactive: Decimal  # the flagged amounts added up: what the next bill run adds for the past
    customers: tuple[CustomerMoney, ...]  # affected ones, largest change first
    by_plan: tuple[tuple[str, Decimal, Decimal], ...]  # (plan, before, after) run-rates
    moves_money_now: tuple[str, ...]  # addresses of changes that move money by themselves
    cohorts: tuple[CohortTouch, ...] = ()  # the price cohorts the changes touch
    # (month "YYYY-MM", before, after): the run-rate on the as-of date, then on the first day
    # of each of the next 11 months, without and with the plan.
    timeline: tuple[tuple[str, Decimal, Decimal], ...] = ()

    @property
    def delta(self) -> Decimal:
        return self.recurring_after - self.recurring_before

    def amount(self, value: Decimal | None, signed: bool = False) -> str:
        return amount_text(value, self.digits, signed=signed) or ""

    def data(self) -> dict[str, Any]:
        """The plan JSON's `money` object (amounts as strings)."""
        return {
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "recurring_monthly": {
                "before": self.amount(self.recurring_before),
                "after": self.amount(self.recurring_after),
                "delta": self.amount(self.delta, signed=True),
            },
            "one_off": {"added": self.amount(self.one_off_added),
                        "removed": self.amount(self.one_off_removed)},
            "customers_affected": len(self.customers),
            "customers": [
                {"address": c.address, "monthly_before": self.amount(c.monthly_before),
                 "monthly_after": self.amount(c.monthly_after),
                 "one_off": self.amount(c.one_off, signed=True)}
                for c in self.customers
            ],
            "cohorts": [
                {"plan": c.plan, "monthly_price": self.amount(c.monthly),
                 "catalogue": c.catalogue, "count": c.count, "changed": c.changed,
                 "joining": c.joining, "campaigns": list(c.campaigns),
                 "excepted": dict(c.excepted)}
                for c in self.cohorts
            ],
            "timeline": [{"month": month, "before": self.amount(before),
                          "after": self.amount(after)} for month, before, after in self.timeline],
        }

    def turns(self) -> list[tuple[str, Decimal]]:
        """(month, monthly difference) where the plan's difference to the run-rate changes
        after the as-of month: "from 2027-01: +760.00 a month"."""
        found: list[tuple[str, Decimal]] = []
        last = self.delta
        for month, before, after in self.timeline[1:]:
            if after - before != last:
                last = after - before
                found.append((month, last))
        return found


# --- each change's effect ---------------------------------------------------------------------


def effect_of(
    change: ChangeLike,
    ctx: MoneyContext,
    kinds: Mapping[str, Kind],
    live: Mapping[str, Obj],
    planned: Mapping[str, Obj],
) -> MoneyEffect:
    """Ask the change's kind what it does to money, with the object before and after it.

    `live` maps addresses to live objects; `planned` to what the plan leaves there (the
    desired object, else the live one)."""
    kind = kinds.get(change.kind)
    if kind is None or change.action not in COUNTED:
        return NO_EFFECT
    before = live.get(change.replaces or change.address)
    after: Obj | None
    if change.action == "delete":
        after = None
    elif change.replaces or before is None:
        after = planned.get(change.address)  # a replace's new object, or a create
    elif change.after:  # an update: the live object with the changed fields
        after = Obj(before.kind, before.address, {**before.fields, **change.after}, before.id,
                    before.owner, before.meta)
    else:
        after = None  # a removal the target cannot make (manual)
    return kind.money_effect(before, after, ctx)


# --- the summary ------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Running totals while the summary is added up."""

    before: dict[str, Decimal] = field(default_factory=dict)  # customer -> run-rate
    plans: dict[str, list[Decimal]] = field(default_factory=dict)  # plan -> [before, after]
    delta: dict[str, Decimal] = field(default_factory=dict)  # customer -> run-rate change
    one_off: dict[str, Decimal] = field(default_factory=dict)
    changes: dict[str, list[str]] = field(default_factory=dict)

    def plan(self, group: str) -> list[Decimal]:
        return self.plans.setdefault(group, [ZERO, ZERO])


def summarize(
    changes: Sequence[ChangeLike],
    ctx: MoneyContext,
    owners: Mapping[str, str | None],
    managed: Iterable[str],
    exceptions: Exceptions | None = None,
) -> MoneySummary:
    """Add up the run-rate on the as-of date and every counted change's money.

    `owners` maps a change's address to its customer's (None: no customer); `managed` are the
    customers the configuration declares, whose live memberships make the run-rate;
    `exceptions` what each repricing campaign keeps on its price (for the cohorts touched)."""
    tally = _Tally()
    live_terms = _live_terms(ctx, frozenset(managed))
    _live_run_rate(ctx, live_terms, tally)
    added = removed = retro = ZERO
    moving: list[str] = []
    altered: list[tuple[str, Recurring | None, str | None]] = []  # for the cohorts touched
    kinds = {k.name: k for k in ctx.kinds}
    for change in changes:
        effect = change.money or NO_EFFECT
        if change.action not in COUNTED or effect.effect is Effect.NONE:
            continue
        made = ctx.by_address.get(change.address)
        kind = kinds.get(change.kind)
        campaign = kind.campaign_of(made) if kind is not None and made is not None else None
        altered.append((change.replaces or change.address, effect.after, campaign))
        if effect.moves_money:
            moving.append(change.address)
        one_off = effect.one_off or ZERO
        added += max(one_off, ZERO)
        removed += max(-one_off, ZERO)
        retro += effect.retroactive or ZERO
        owner = owners.get(change.address)
        gone, new = _active(effect.before, ctx.as_of), _active(effect.after, ctx.as_of)
        if effect.before is not None and gone:
            tally.plan(effect.before.group)[1] -= gone
        if effect.after is not None and new:
            tally.plan(effect.after.group)[1] += new
        if owner is not None:
            tally.delta[owner] = tally.delta.get(owner, ZERO) + new - gone
            tally.one_off[owner] = tally.one_off.get(owner, ZERO) + one_off
            tally.changes.setdefault(owner, []).append(change.address)
    before = sum(tally.before.values(), ZERO)
    timeline = _timeline(changes, ctx, live_terms)
    return MoneySummary(
        currency=ctx.currency, as_of=ctx.as_of, digits=ctx.digits,
        recurring_before=before, recurring_after=before + sum(tally.delta.values(), ZERO),
        one_off_added=added, one_off_removed=removed, retroactive=retro,
        customers=_customers(tally), by_plan=_by_plan(tally), moves_money_now=tuple(moving),
        cohorts=touched(ctx, altered, exceptions or {}),
        timeline=timeline,
    )


TIMELINE_MONTHS = 12


def timeline_days(as_of: date) -> list[date]:
    """The as-of date, then the first day of each of the next 11 months."""
    days = [as_of]
    for n in range(1, TIMELINE_MONTHS):
        index = as_of.year * 12 + as_of.month - 1 + n
        days.append(date(index // 12, index % 12 + 1, 1))
    return days


def _timeline(
    changes: Sequence[ChangeLike], ctx: MoneyContext, live_terms: Sequence[tuple[str, Recurring]]
) -> tuple[tuple[str, Decimal, Decimal], ...]:
    """The run-rate month by month: the live terms of the managed customers, then with each
    counted change's terms before taken out and after put in (`Recurring.active_on`)."""
    days = timeline_days(ctx.as_of)
    before = [ZERO] * (len(days) + 1)  # differences: a term adds from its first day to its last
    after = [ZERO] * (len(days) + 1)

    def add(totals: list[Decimal], terms: Recurring | None, sign: int) -> None:
        if terms is None or not terms.monthly:
            return
        first = 0 if terms.start is None else bisect_left(days, terms.start)
        last = len(days) if terms.end is None else bisect_right(days, terms.end)
        if first < last:
            totals[first] += sign * terms.monthly
            totals[last] -= sign * terms.monthly

    for _, terms in live_terms:
        add(before, terms, 1)
    for change in changes:
        effect = change.money
        if change.action in COUNTED and effect is not None and effect.effect is not Effect.NONE:
            add(after, effect.before, -1)
            add(after, effect.after, 1)
    out = []
    running = moved = ZERO
    for number, day in enumerate(days):
        running += before[number]
        moved += after[number]
        out.append((f"{day.year:04d}-{day.month:02d}", running, running + moved))
    return tuple(out)


def _live_terms(ctx: MoneyContext, managed: frozenset[str]) -> list[tuple[str, Recurring]]:
    """(customer, recurring terms) of every live owned object of a managed customer that has
    terms: asked of its kind once, for the run-rate and the timeline."""
    found: list[tuple[str, Recurring]] = []
    for kind in ctx.kinds:
        if not kind.owned:
            continue
        for obj in ctx.live.get(kind.name, ()):
            if obj.owner not in managed:
                continue
            terms = kind.recurring(obj, ctx)
            if terms is not None:
                found.append((str(obj.owner), terms))
    return found


def _live_run_rate(
    ctx: MoneyContext, live_terms: Sequence[tuple[str, Recurring]], tally: _Tally
) -> None:
    """The run-rate before the plan: live memberships of managed customers active that day."""
    for owner, terms in live_terms:
        if not terms.active_on(ctx.as_of):
            continue
        tally.before[owner] = tally.before.get(owner, ZERO) + terms.monthly
        row = tally.plan(terms.group)
        row[0] += terms.monthly
        row[1] += terms.monthly


def _active(terms: Recurring | None, day: date) -> Decimal:
    return terms.monthly if terms is not None and terms.active_on(day) else ZERO


def _customers(tally: _Tally) -> tuple[CustomerMoney, ...]:
    found = [
        CustomerMoney(owner, tally.before.get(owner, ZERO),
                      tally.before.get(owner, ZERO) + tally.delta[owner], tally.one_off[owner],
                      tuple(changes))
        for owner, changes in tally.changes.items()
    ]
    found.sort(key=lambda c: (-abs(c.delta), -abs(c.one_off), c.address))
    return tuple(found)


def _by_plan(tally: _Tally) -> tuple[tuple[str, Decimal, Decimal], ...]:
    return tuple((group, row[0], row[1]) for group, row in sorted(tally.plans.items())
                 if row[0] or row[1])


# --- guards -----------------------------------------------------------------------------------


def guard_findings(summary: MoneySummary, guards: MoneyPolicy) -> list[tuple[str, str]]:
    """(guard, what tripped it, with the figures) for every guard the plan exceeds."""
    found: list[tuple[str, str]] = []
    cur, fall = summary.currency, -summary.delta
    limit = guards.max_monthly_decrease
    if limit is not None and fall > limit:
        found.append(("max_monthly_decrease", (
            f"the monthly run-rate falls by {summary.amount(fall)} {cur} "
            f"({summary.amount(summary.recurring_before)} -> "
            f"{summary.amount(summary.recurring_after)} as of {summary.as_of}), more than "
            f"{GUARDS}.max_monthly_decrease {summary.amount(limit)}")))
    percent = guards.max_customer_change_percent
    if percent is not None:
        over = [c for c in summary.customers if (p := c.percent()) is not None and abs(p) > percent]
        if over:
            shown = ", ".join(
                f"{c.address} {summary.amount(c.monthly_before)} -> "
                f"{summary.amount(c.monthly_after)} ({c.percent():+}%)" for c in over[:5])
            more = f" and {len(over) - 5} more" if len(over) > 5 else ""
            noun = "customer's" if len(over) == 1 else "customers'"
            found.append(("max_customer_change_percent", (
                f"{len(over)} {noun} monthly run-rate changes by more than "
                f"{GUARDS}.max_customer_change_percent {percent}%: {shown}{more}")))
    if summary.moves_money_now and not guards.allow_money_movement:
        found.append(("allow_money_movement", (
            f"{', '.join(summary.moves_money_now)} would move money now, and "
            f"{GUARDS}.allow_money_movement is false")))
    return found
