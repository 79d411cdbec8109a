"""A membership line with changes, as the memberships the platform holds.

On OfficeRnD a membership's plan and location cannot change and its price should not change
retroactively: a change from a date ends the membership the day before and starts a new one
on the date. A line with `changes` (its own, or a campaign's from `repricing:`) therefore
becomes one membership per period: the line's start .. the first change's day before, then
each change's `from` .. the next one's day before (the last one to the line's `end`). Each
period keeps the line's plan, location, price and name unless its change says otherwise (a
new plan without a price bills the new plan's price; the line's name goes with its plan).

A campaign reaches a line whose period active on the campaign's `from` has the campaign's
plan and starts before `from`, when the line has no change of its own on or after `from` and
its customer is not in `except`: that period is split on `from` at the campaign's price.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flexctl.kinds.money import amount_text
from flexctl.kinds.repricing import Campaign


@dataclass(frozen=True)
class Period:
    """One membership of a line: the line's values over [start, end]."""

    start: date
    end: date | None
    plan: str
    price: Decimal | None  # written (None: the plan's price)
    location: str | None
    name: str | None
    campaign: str | None = None  # the campaign that started it
    note: str = ""  # what changed on `start`, in words
    was: Decimal | None = None  # the monthly price of the period before it


def periods(
    item: Any,
    owner: str,
    campaigns: Sequence[tuple[str, Campaign]],
    plan_price: Callable[[str], Decimal | None],
    digits: int,
) -> list[Period]:
    """The memberships a line (a `Membership` model) stands for, in date order."""
    first = Period(item.start, item.end, item.plan, item.price, item.location, item.name)
    found = [first]
    for change in item.changes:
        found = _split(found, change.from_, plan_price, digits, price=change.price,
                       plan=change.plan, location=change.location)
    own_last = max((c.from_ for c in item.changes), default=None)
    for key, campaign in campaigns:
        if owner in campaign.except_ or (own_last is not None and own_last >= campaign.from_):
            continue
        current = next((p for p in found if p.start < campaign.from_
                        and (p.end is None or p.end >= campaign.from_)), None)
        if current is None or current.plan != campaign.plan:
            continue
        old = current.price if current.price is not None else plan_price(current.plan)
        if old is None:
            continue
        found = _split(found, campaign.from_, plan_price, digits,
                       price=campaign.new_price(old, digits), campaign=key)
    return found


def _split(
    found: list[Period],
    day: date,
    plan_price: Callable[[str], Decimal | None],
    digits: int,
    *,
    price: Decimal | None = None,
    plan: str | None = None,
    location: str | None = None,
    campaign: str | None = None,
) -> list[Period]:
    """`found` with the period holding `day` ended the day before and a new one from `day`."""
    out: list[Period] = []
    for period in found:
        if not (period.start < day and (period.end is None or period.end >= day)):
            out.append(period)
            continue
        new_plan = plan or period.plan
        new_price = price if price is not None else (period.price if plan is None else None)
        new = Period(day, period.end, new_plan, new_price, location or period.location,
                     period.name if new_plan == period.plan else None, campaign)
        was = period.price if period.price is not None else plan_price(period.plan)
        out += [replace(period, end=day - timedelta(days=1)),
                replace(new, note=_note(period, new, plan_price, digits), was=was)]
    return out


def _note(old: Period, new: Period, plan_price: Callable[[str], Decimal | None],
          digits: int) -> str:
    """"price 250.00 -> 270.00 from 2027-01-01 (+20.00 a month)" and the like."""
    parts = []
    if new.plan != old.plan:
        parts.append(f"plan {old.plan} -> {new.plan}")
    if new.location != old.location:
        was = old.location or "(the customer's)"
        parts.append(f"location {was} -> {new.location}")
    before = old.price if old.price is not None else plan_price(old.plan)
    after = new.price if new.price is not None else plan_price(new.plan)
    delta = ""
    if before is not None and after is not None and before != after:
        parts.append(f"price {amount_text(before, digits)} -> {amount_text(after, digits)}")
        delta = f" ({amount_text(after - before, digits, signed=True)} a month)"
    by = f", campaign {new.campaign}" if new.campaign else ""
    return f"{', '.join(parts) or 'no change'} from {new.start}{delta}{by}"


def fold(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Exported memberships (in start order) with each one that starts the day after another
    of the same plan, location and name ends, at another price, folded into that line as a
    `changes` entry: the inverse of `periods`, so that export -> plan is empty."""
    out: list[dict[str, Any]] = []
    open_lines: dict[tuple[Any, ...], tuple[dict[str, Any], Decimal]] = {}
    for row in rows:
        start, price = row.get("start"), row.get("price")
        same = (row.get("plan"), row.get("location"), row.get("name"))
        head = open_lines.pop((*same, start), None) if isinstance(start, date) else None
        if head is not None and isinstance(price, Decimal) and price != head[1]:
            line = head[0]
            line.setdefault("changes", []).append({"from": start, "price": price})
            line.pop("end", None)
            if row.get("end") is not None:
                line["end"] = row["end"]
        else:
            if head is not None:
                open_lines[(*same, start)] = head  # not folded: the line stays open for others
            line = row
            out.append(row)
        end = row.get("end")
        if isinstance(end, date) and isinstance(price, Decimal):
            open_lines[(*same, end + timedelta(days=1))] = (line, price)
    return out


def overlap(after: Any, others: Sequence[Any]) -> str | None:
    """A membership of a customer billed twice: `after` (as the plan leaves it) shares days
    with a live membership of the same plan that the configuration does not declare and the
    plan leaves in place (say, the next period of a line whose campaign was removed)."""
    start, end = after.fields.get("start"), after.fields.get("end")
    if not isinstance(start, date):
        return None
    for other in others:
        since, until = other.fields.get("start"), other.fields.get("end")
        if other.fields.get("plan") != after.fields.get("plan") or not isinstance(since, date):
            continue
        if (end is None or since <= end) and (until is None or start <= until):
            first = max(start, since)
            last = min((d for d in (end, until) if isinstance(d, date)), default=None)
            days = f"from {first} to {last}" if last else f"from {first} on"
            return (f"it would overlap {other.address} ({since} .. {until or 'open-ended'}), "
                    f"a membership of the same plan the configuration does not declare: the "
                    f"customer would pay twice {days}. Declare that membership (with its "
                    f"end), or end or remove it first")
    return None
