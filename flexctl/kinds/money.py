"""Money terms: what a change does to what customers pay, in the organization's currency.

The kinds describe their objects' money with two small terms, and the plan engine adds them up:
- `Recurring`: a monthly price over a period (a membership): `monthly`, `start`, `end`
  (inclusive, None = open-ended), and the plan it is billed under (`group`);
- `Charge`: a one-off line (a fee): its total, rounded to the currency's digits, and its date.

`Kind.money_effect(before, after, ctx)` turns the terms of an object before and after a change
into a `MoneyEffect` (the `money` of a plan's change); kinds whose changes move money in other
ways (turning on automatic payment collection, a plan's price for new memberships) override it.
`flexctl.kinds.base.MoneyContext` is what those hooks may consult, built once per plan.

Rules stated once, here:
- amounts are `Decimal`; a line total is quantity x unit price rounded to the currency's minor
  unit, half up (0.525 EUR -> 0.53), per line, before anything is added; sums are exact;
- a membership counts in the monthly run-rate on a date when it is active that day
  (start <= date <= end); a change's `monthly_before`/`monthly_after` is the object's monthly
  price while it still bills on or after the as-of date, 0 once it has ended by then;
- a price cohort is what recurring objects of one plan paying one monthly price form
  (`PriceTerm`: the terms and the plan's catalogue price; `flexctl.reconcile.cohorts` groups
  them); an object without a price of its own pays the plan's;
- retroactive: what a change adds to the next bill run for time before the as-of date, on an
  object not yet invoiced: whole monthly periods from the start (start, start + 1 month, ...)
  that began before that date x the monthly price (the platform may prorate a partial first
  month, so this is an upper bound), or a one-off line dated before it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Any

ZERO = Decimal(0)


class Effect(StrEnum):
    """What a change does to money."""

    NONE = "none"  # nothing a customer pays changes
    FUTURE = "future_invoices"  # what future invoices (or bookings) charge
    NOW = "moves_money_now"  # money moves without anyone issuing or approving an invoice


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, the day clamped to the month's length (Jan 31 + 1 = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _periods_starting(start: date, bound: date, *, inclusive: bool) -> int:
    """How many monthly periods (start, start + 1 month, ...) begin before `bound` (or on it)."""
    months = (bound.year - start.year) * 12 + bound.month - start.month
    if months < 0:
        return 0
    last = add_months(start, months)
    return months + 1 if last < bound or (inclusive and last == bound) else months


@dataclass(frozen=True, slots=True)
class Recurring:
    """A monthly price billed from `start` to `end` (inclusive; None = open-ended)."""

    monthly: Decimal
    start: date | None
    end: date | None
    group: str  # what reports group it by: the plan's key
    invoiced: bool = False  # billed at least once: its past is history, never billed again

    def active_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or self.end >= day)

    def running(self, day: date) -> bool:
        """Whether it still bills on `day` or later."""
        return self.end is None or self.end >= day

    def months_before(self, day: date) -> int:
        """Monthly periods that began before `day` (none after the end)."""
        if self.start is None or self.start >= day:
            return 0
        count = _periods_starting(self.start, day, inclusive=False)
        if self.end is not None:
            count = min(count, _periods_starting(self.start, self.end, inclusive=True))
        return count

    def past(self, day: date) -> Decimal:
        """What the next bill run charges for time before `day` (nothing once invoiced)."""
        return ZERO if self.invoiced else self.monthly * self.months_before(day)


@dataclass(frozen=True, slots=True)
class PriceTerm:
    """What a recurring object pays against its plan's catalogue: its place in a price cohort,
    `(terms.group, terms.monthly)`."""

    terms: Recurring  # monthly: its own price, else the plan's
    catalogue: Decimal | None  # the plan's price on the target (None: unknown)
    label: str  # the plan's name, for people

    @property
    def cohort(self) -> tuple[str, Decimal]:
        return self.terms.group, self.terms.monthly


@dataclass(frozen=True, slots=True)
class Charge:
    """A one-off line: its total (rounded to the currency) and its date."""

    amount: Decimal
    on: date | None
    group: str  # the plan's key
    invoiced: bool = False

    def past(self, day: date) -> Decimal:
        dated_before = self.on is not None and self.on < day
        return self.amount if dated_before and not self.invoiced else ZERO


@dataclass(frozen=True)
class MoneyEffect:
    """The money of one change. Amounts are None where they do not apply.

    `monthly_*` and `one_off`, `retroactive` are what the plan's JSON shows; `before`/`after`
    keep the recurring terms so the engine can add up run-rates on any date.
    """

    effect: Effect = Effect.NONE
    monthly_before: Decimal | None = None
    monthly_after: Decimal | None = None
    one_off: Decimal | None = None  # signed: what the change adds to one-off charges
    retroactive: Decimal | None = None  # flagged: what the next bill run adds for the past
    note: str = ""  # the kind's words for what the figures do not say
    before: Recurring | None = None
    after: Recurring | None = None

    @property
    def moves_money(self) -> bool:
        return self.effect is Effect.NOW

    def data(self, digits: int) -> dict[str, Any]:
        """The JSON form: amounts as strings with the currency's digits."""
        return {
            "effect": self.effect.value,
            "monthly_before": amount_text(self.monthly_before, digits),
            "monthly_after": amount_text(self.monthly_after, digits),
            "one_off": amount_text(self.one_off, digits, signed=True),
            "retroactive": amount_text(self.retroactive, digits, signed=True),
            "note": self.note or None,
        }


NO_EFFECT = MoneyEffect()


def changed_fields(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], names: Iterable[str]
) -> list[str]:
    """Those of `names` that `after` writes with another value than `before` (None: absent)."""
    was = before or {}
    return [name for name in names if name in after and after[name] != was.get(name)]


def rounded(amount: Decimal, digits: int) -> Decimal:
    """An amount to the currency's minor unit, half up (the rule for every line total)."""
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_WIDE)


# Room for any total of amounts and quantities within the limits (each under 10^12) with
# their minor units: the default context's 28 digits would raise for a sum of large ones.
_WIDE = Context(prec=60)


def amount_text(amount: Decimal | None, digits: int, *, signed: bool = False) -> str | None:
    """`230.00`, or `+230.00`/`-45.00` for a difference; None stays None."""
    if amount is None:
        return None
    text = str(rounded(amount, digits))
    return f"+{text}" if signed and amount > 0 else text


def terms_effect(
    before: Recurring | Charge | None, after: Recurring | Charge | None, day: date, digits: int
) -> MoneyEffect:
    """The effect of an object's money terms changing from `before` to `after`, as of `day`."""
    if before is None and after is None:
        return NO_EFFECT
    same = before == after
    # Only what the change adds for the past is flagged; what it takes away shows as a smaller
    # one-off or monthly figure already.
    retro = ZERO if same else max(
        (after.past(day) if after else ZERO) - (before.past(day) if before else ZERO), ZERO)
    effect = MoneyEffect(
        effect=Effect.NONE if same else Effect.FUTURE,
        retroactive=retro or None,
        note=_past_note(before, after, day, digits) if retro else "",
        before=_recurring(before),
        after=_recurring(after),
    )
    if isinstance(before, Charge) or isinstance(after, Charge):
        one_off = _amount(after) - _amount(before)
        return replace(effect, one_off=None if same else one_off)
    return replace(effect, monthly_before=_monthly(before, day),
                   monthly_after=_monthly(after, day))


def period_note(before: Recurring | None, after: Recurring | None) -> str:
    """How a recurring period is set or moved: "from 2027-01-01 to 2027-06-30", "ends ..."."""
    if after is None:
        return ""
    if before is None:
        return f"from {after.start}" + (f" to {after.end}" if after.end else "")
    parts = []
    if before.start != after.start:
        parts.append(f"starts {after.start} (was {before.start})")
    if before.end != after.end:
        was = f"was ending {before.end}" if before.end else "was open-ended"
        parts.append(f"ends {after.end} ({was})" if after.end else f"open-ended ({was})")
    return "; ".join(parts)


def _amount(terms: Recurring | Charge | None) -> Decimal:
    return terms.amount if isinstance(terms, Charge) else ZERO


def _recurring(terms: Recurring | Charge | None) -> Recurring | None:
    return terms if isinstance(terms, Recurring) else None


def _monthly(terms: Recurring | Charge | None, day: date) -> Decimal | None:
    if not isinstance(terms, Recurring):
        return None
    return terms.monthly if terms.running(day) else ZERO


def _past_note(
    before: Recurring | Charge | None, after: Recurring | Charge | None, day: date, digits: int
) -> str:
    """How the retroactive amount comes about, in words."""
    def months(terms: Recurring) -> str:
        count = terms.months_before(day)
        return (f"{count} month{'s' if count != 1 else ''} x "
                f"{amount_text(terms.monthly, digits)}")

    if isinstance(after, Charge):
        return f"retroactive: dated {after.on}, before {day}: charged by the next bill run"
    if not isinstance(after, Recurring):
        return ""
    was = f" instead of {months(before)}" if isinstance(before, Recurring) and \
        before.past(day) else ""
    return f"retroactive: {months(after)} before {day}{was}, charged by the next bill run"
