"""The cohort rule on hand-made objects: a membership's own price, else its plan's on the
target; active on the as-of date, ended and future ones apart; the catalogue cohort first;
declared, undeclared and excepted ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from flexctl.kinds import registry
from flexctl.kinds.base import MoneyContext, Obj
from flexctl.kinds.money import Recurring
from flexctl.reconcile.cohorts import cohort_sizes, group, touched
from flexctl.reconcile.render_cohorts import render_json, render_markdown, render_text

AS_OF = date(2027, 1, 15)
TARGET = {"api_url": "local:x.db", "org": "o", "profile": "full"}


def plan(key: str, price: str, name: str) -> Obj:
    return Obj("plans", f"plans.{key}", {"name": name, "price": Decimal(price)}, id=key)


def membership(owner: str, plan_key: str, start: date, price: str | None = None,
               end: date | None = None) -> Obj:
    fields = {"plan": plan_key, "start": start, "end": end,
              "price": Decimal(price) if price is not None else None}
    return Obj("memberships", f"{owner}.memberships[{plan_key}@{start}]", fields,
               id=f"{owner}{start}", owner=owner)


def context(live: Sequence[Obj], desired: Sequence[Obj] = ()) -> MoneyContext:
    objects: dict[str, list[Obj]] = {}
    for obj in live:
        objects.setdefault(obj.kind, []).append(obj)
    wanted: dict[str, list[Obj]] = {}
    for obj in desired:
        wanted.setdefault(obj.kind, []).append(obj)
    return MoneyContext("EUR", AS_OF, kinds=registry(), desired=wanted, live=objects)


LIVE = [
    plan("desk", "250.00", "Hot Desk"),
    membership("companies.a", "desk", date(2026, 1, 1), "250.00"),
    membership("companies.b", "desk", date(2025, 6, 1), "225.00"),
    membership("members.c", "desk", date(2026, 3, 1), "225.00"),
    membership("members.d", "desk", date(2026, 5, 1)),  # no price of its own: the plan's
    membership("members.e", "desk", date(2026, 1, 1), "300.00", end=date(2027, 1, 14)),
    membership("members.f", "desk", date(2027, 1, 16), "300.00"),
    membership("members.g", "desk", date(2027, 1, 15), "199.99", end=date(2027, 1, 15)),
]


def test_a_cohort_is_a_plan_and_the_price_paid_on_the_day() -> None:
    report = group(context(LIVE), declared=set(), exceptions={}, target=TARGET)
    (desk,) = report.plans
    assert (desk.plan, desk.label, desk.catalogue) == ("desk", "Hot Desk", Decimal("250.00"))
    assert [(c.monthly, c.catalogue, c.count, c.revenue, c.oldest) for c in desk.cohorts] == [
        (Decimal("250.00"), True, 2, Decimal("500.00"), date(2026, 1, 1)),
        (Decimal("225.00"), False, 2, Decimal("450.00"), date(2025, 6, 1)),
        (Decimal("199.99"), False, 1, Decimal("199.99"), date(2027, 1, 15)),
    ]
    assert (desk.ended, desk.future, desk.count, desk.revenue) == (1, 1, 5, Decimal("1149.99"))
    assert (report.noun, report.plural) == ("membership", "memberships")


def test_declared_undeclared_and_excepted() -> None:
    declared = {LIVE[1].address, LIVE[2].address}
    report = group(context(LIVE), declared, {"desk-2027": {("desk", "members.c")},
                                             "other": {("other-plan", "companies.b")}},
                   target=TARGET)
    catalogue, old, _ = report.plans[0].cohorts
    assert (catalogue.declared, catalogue.undeclared) == (1, (LIVE[4].address,))
    assert (old.declared, old.undeclared) == (1, (LIVE[3].address,))
    assert dict(old.excepted) == {"desk-2027": (LIVE[3].address,)}
    assert dict(catalogue.excepted) == {}


def test_a_plan_the_target_lacks_takes_the_configured_price() -> None:
    live = [membership("companies.a", "new", date(2026, 1, 1))]
    ctx = context(live, desired=[plan("new", "99.00", "New")])
    (new,) = group(ctx, set(), {}, TARGET).plans
    assert (new.catalogue, new.cohorts[0].monthly, new.cohorts[0].catalogue) == \
        (Decimal("99.00"), Decimal("99.00"), True)


def test_cohort_sizes_count_the_active_ones() -> None:
    sizes = cohort_sizes(context(LIVE))
    assert {k: len(v) for k, v in sizes.items()} == {
        ("desk", Decimal("250.00")): 2, ("desk", Decimal("225.00")): 2,
        ("desk", Decimal("199.99")): 1}


def test_a_hostile_plan_name_is_inert_in_every_rendering() -> None:
    hostile = [plan("desk", "250.00", "Desk\x1b[2J | [x](http://evil) <b>`"),
               membership("companies.a", "desk", date(2026, 1, 1), "250.00")]
    report = group(context(hostile), set(), {}, TARGET)
    text = render_text(report)
    assert "\x1b" not in text and "Desk\\x1b[2J" in text
    markdown = render_markdown(report)
    assert "\x1b" not in markdown and "[x](http" not in markdown and "<b>" not in markdown
    row = next(line for line in markdown.splitlines() if "`desk`" in line)
    assert row.count(" | ") == 6  # the name's pipe does not add a column
    assert json.loads(render_json(report))["by_plan"][0]["name"] == hostile[0].fields["name"]


def test_the_cohorts_changes_touch() -> None:
    """Ending a 250.00 desk and creating its successor at 270.00 from a campaign: the 250.00
    cohort counts one change, the 270.00 one a joiner by that campaign; the 225.00 cohort holds
    the customer the campaign excepts; a change of a campaign not in the plan names nothing."""
    ended = LIVE[1]
    after = Recurring(Decimal("270.00"), date(2027, 2, 1), None, "desk")
    touches = touched(context(LIVE), [(ended.address, after, "desk-2027")],
                      {"desk-2027": {("desk", "members.c")}, "later": {("desk", "companies.a")}})
    assert [(t.monthly, t.count, t.changed, t.joining, t.campaigns, t.excepted)
            for t in touches] == [
        (Decimal("270.00"), 0, 0, 1, ("desk-2027",), ()),
        (Decimal("250.00"), 2, 1, 0, (), ()),
        (Decimal("225.00"), 2, 0, 0, (), (("desk-2027", 1),)),
    ]
    assert touches[0].describe(str) == "desk at 270.00: 0 memberships, 1 joining (campaign " \
        "desk-2027)"
    assert touches[1].describe(str) == "desk at 250.00 (catalogue): 2 memberships, 1 changed " \
        "by this plan"
    # A new membership that ended before the as-of date joins nothing.
    gone = Recurring(Decimal("300.00"), date(2026, 1, 1), date(2027, 1, 1), "desk")
    assert touched(context(LIVE), [("members.x.memberships[desk@2026-01-01]", gone, None)],
                   {}) == ()
