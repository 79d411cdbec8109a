"""A membership line with changes as periods (and export's fold back into a line)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flexctl.kinds import get
from flexctl.kinds._splits import fold, periods
from flexctl.kinds.base import Obj
from flexctl.kinds.memberships import Membership
from flexctl.kinds.repricing import Campaign

PRICES = {"hot-desk": Decimal("250.00"), "dedicated": Decimal("390.00")}


def line(**values: Any) -> Membership:
    return Membership.model_validate({"plan": "hot-desk", "start": date(2026, 1, 1), **values})


def campaign(**values: Any) -> Campaign:
    return Campaign.model_validate({"plan": "hot-desk", "from": date(2027, 1, 1), **values})


def spans(item: Membership, *campaigns: tuple[str, Campaign], owner: str = "companies.a"
          ) -> list[tuple[Any, ...]]:
    return [(p.start, p.end, p.plan, p.price, p.location, p.campaign, p.note)
            for p in periods(item, owner, list(campaigns), PRICES.get, 2)]


def test_plan_and_location_changes_keep_what_they_do_not_change() -> None:
    item = line(price=Decimal("240"), name="Desk", end=date(2027, 12, 31), changes=[
        {"from": date(2026, 6, 1), "location": "riverside"},
        {"from": date(2026, 9, 1), "plan": "dedicated"},
    ])
    assert spans(item) == [
        (date(2026, 1, 1), date(2026, 5, 31), "hot-desk", Decimal("240"), None, None, ""),
        (date(2026, 6, 1), date(2026, 8, 31), "hot-desk", Decimal("240"), "riverside", None,
         "location (the customer's) -> riverside from 2026-06-01"),
        (date(2026, 9, 1), date(2027, 12, 31), "dedicated", None, "riverside", None,
         "plan hot-desk -> dedicated, price 240.00 -> 390.00 from 2026-09-01 "
         "(+150.00 a month)"),
    ]


def test_a_campaign_reaches_lines_active_on_its_date_without_a_later_change_of_their_own(
) -> None:
    rise = ("rise", campaign(increase="8%"))
    reached = spans(line(), rise)
    assert [r[:6] for r in reached] == [
        (date(2026, 1, 1), date(2026, 12, 31), "hot-desk", None, None, None),
        (date(2027, 1, 1), None, "hot-desk", Decimal("270.00"), None, "rise"),
    ]
    own = line(changes=[{"from": date(2027, 3, 1), "price": Decimal("260")}])
    assert [r[0] for r in spans(own, rise)] == [date(2026, 1, 1), date(2027, 3, 1)]
    assert len(spans(line(end=date(2026, 12, 31)), rise)) == 1  # over before the date
    assert len(spans(line(start=date(2027, 1, 1)), rise)) == 1  # starts on it: its own price
    assert len(spans(line(plan="dedicated"), rise)) == 1  # another plan
    assert len(spans(line(), ("rise", campaign(price=Decimal("270"), **{
        "except": ["companies.a"]})))) == 1
    earlier = line(changes=[{"from": date(2026, 6, 1), "price": Decimal("200")}])
    assert spans(earlier, rise)[-1][3] == Decimal("216.00")  # 8% of the price it then pays


def test_fold_joins_adjacent_periods_at_another_price_only() -> None:
    rows = [
        {"id": "a", "plan": "hot-desk", "start": date(2026, 1, 1), "end": date(2026, 12, 31),
         "price": Decimal("250.00")},
        {"id": "b", "plan": "hot-desk", "start": date(2027, 1, 1), "end": date(2027, 6, 30),
         "price": Decimal("270.00")},
        {"id": "c", "plan": "hot-desk", "start": date(2027, 7, 1), "price": Decimal("280.00")},
        {"id": "d", "plan": "dedicated", "start": date(2027, 7, 1), "price": Decimal("390")},
    ]
    assert fold([dict(r) for r in rows]) == [
        {"id": "a", "plan": "hot-desk", "start": date(2026, 1, 1), "price": Decimal("250.00"),
         "changes": [{"from": date(2027, 1, 1), "price": Decimal("270.00")},
                     {"from": date(2027, 7, 1), "price": Decimal("280.00")}]},
        rows[3],
    ]
    same_price = [dict(rows[0]), {**rows[1], "price": Decimal("250.00")}]
    assert fold(same_price) == same_price  # a change needs something to change
    moved = [dict(rows[0]), {**rows[1], "location": "riverside"}]
    assert fold(moved) == moved  # another location: two lines


def test_a_closed_period_reason_says_how_a_membership_end_moves() -> None:
    kind = get("memberships")
    lock = date(2026, 12, 20)

    def obj(end: date | None) -> Obj:
        return Obj("memberships", "companies.a.memberships[hot-desk@2026-12-01]",
                   {"plan": "hot-desk", "start": date(2026, 12, 1), "end": end})

    def reason(old: date | None, new: date | None) -> str | None:
        return kind.closed_reason("update", obj(old), obj(new), ["end"], lock)

    assert reason(None, date(2026, 12, 14)) == (
        "the membership, open-ended, would end on 2026-12-14")
    assert reason(date(2026, 12, 10), None) == (
        "the membership's end on 2026-12-10 would be removed (open-ended)")
    assert reason(date(2026, 12, 10), date(2026, 12, 31)) == (
        "the membership's end would move from 2026-12-10 to 2026-12-31")
    assert reason(date(2026, 12, 20), date(2027, 1, 31)) is None  # ending on the lock date
