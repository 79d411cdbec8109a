"""The kinds' money rules on hand-made objects: monthly periods and retroactive months, line
totals rounded half up, each kind's effect, and the neutral default of a kind without money."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flexctl.kinds import get, registry
from flexctl.kinds.base import MoneyContext, Obj
from flexctl.kinds.money import (
    NO_EFFECT,
    Charge,
    Effect,
    Recurring,
    add_months,
    amount_text,
    rounded,
    terms_effect,
)

AS_OF = date(2027, 1, 15)


def d(text: str) -> Decimal:
    return Decimal(text)


def ctx(live: Sequence[Obj] = (), removed: tuple[str, ...] = (),
        currency: str = "EUR") -> MoneyContext:
    grouped: dict[str, list[Obj]] = {}
    for obj in live:
        grouped.setdefault(obj.kind, []).append(obj)
    return MoneyContext(currency, AS_OF, kinds=registry(), desired={}, live=grouped,
                        removed=removed)


def membership(address: str = "companies.acme.memberships[desk@2026-12-01]",
               meta: dict[str, object] | None = None, **fields: object) -> Obj:
    values: dict[str, object] = {"plan": "desk", "start": date(2026, 12, 1), "end": None}
    values.update(fields)
    return Obj("memberships", address, values, id="a" * 24, owner="companies.acme",
               meta=meta or {})


def fee(meta: dict[str, object] | None = None, **fields: object) -> Obj:
    values: dict[str, object] = {"plan": "printing", "date": date(2027, 1, 20), "quantity": 1}
    values.update(fields)
    return Obj("fees", "companies.acme.fees[printing@2027-01-20]", values, id="b" * 24,
               owner="companies.acme", meta=meta or {})


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2027, 3, 31), -1, date(2027, 2, 28)),
])
def test_add_months_clamps_the_day(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(("start", "end", "months"), [
    (date(2027, 1, 15), None, 0),  # starting on the day: nothing before it
    (date(2027, 1, 14), None, 1),  # the period that began yesterday
    (date(2026, 12, 15), None, 1),  # the next period begins on the day itself
    (date(2026, 12, 14), None, 2),
    (date(2026, 10, 1), None, 4),
    (date(2026, 10, 1), date(2026, 11, 30), 2),  # none after the end
    (date(2026, 10, 31), None, 3),  # Oct 31, Nov 30, Dec 31
    (date(2027, 2, 1), None, 0),
])
def test_months_before_the_as_of_date(start: date, end: date | None, months: int) -> None:
    assert Recurring(d("100.00"), start, end, "desk").months_before(AS_OF) == months


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)))
def test_months_before_counts_the_periods_one_by_one(start: date, day: date) -> None:
    count = sum(1 for k in range(12 * 41) if add_months(start, k) < day)
    assert Recurring(d("1"), start, None, "x").months_before(day) == count


def test_an_invoiced_membership_has_no_past_to_bill() -> None:
    terms = Recurring(d("100.00"), date(2026, 10, 1), None, "desk", invoiced=True)
    assert terms.past(AS_OF) == 0


@pytest.mark.parametrize(("amount", "digits", "expected"), [
    ("0.525", 2, "0.53"), ("0.025", 2, "0.03"), ("11.1555", 2, "11.16"), ("0.5", 0, "1"),
    ("2.5", 0, "3"), ("1.0005", 3, "1.001"), ("-0.525", 2, "-0.53"),
])
def test_line_totals_round_half_up(amount: str, digits: int, expected: str) -> None:
    assert str(rounded(d(amount), digits)) == expected


def test_amount_text_signs_differences_only() -> None:
    assert amount_text(d("230"), 2) == "230.00"
    assert amount_text(d("230"), 2, signed=True) == "+230.00"
    assert amount_text(d("-45"), 2, signed=True) == "-45.00"
    assert amount_text(Decimal(0), 2, signed=True) == "0.00"
    assert amount_text(None, 2) is None


def test_unchanged_terms_have_no_effect_but_keep_the_price() -> None:
    terms = Recurring(d("250.00"), date(2026, 12, 1), None, "desk")
    effect = terms_effect(terms, terms, AS_OF, 2)
    assert effect.effect is Effect.NONE
    assert (effect.monthly_before, effect.monthly_after) == (d("250.00"), d("250.00"))
    assert effect.retroactive is None


def test_a_membership_ended_by_the_as_of_date_bills_nothing_from_it() -> None:
    before = Recurring(d("390.00"), date(2026, 12, 1), None, "desk")
    ended = Recurring(d("390.00"), date(2026, 12, 1), date(2026, 12, 31), "desk")
    later = Recurring(d("390.00"), date(2026, 12, 1), date(2027, 6, 30), "desk")
    assert terms_effect(before, ended, AS_OF, 2).monthly_after == 0
    assert terms_effect(before, later, AS_OF, 2).monthly_after == d("390.00")


def test_a_lower_price_for_the_past_is_not_flagged_retroactive() -> None:
    old = Recurring(d("1750.00"), date(2026, 12, 1), None, "office")
    new = Recurring(d("420.00"), date(2026, 12, 1), None, "desk")
    effect = terms_effect(old, new, AS_OF, 2)
    assert effect.retroactive is None and effect.effect is Effect.FUTURE


def test_membership_terms_come_from_its_price_or_the_plan_it_is_created_with() -> None:
    kind = get("memberships")
    own = kind.recurring(membership(price=d("230.00")), ctx())
    assert own is not None and own.monthly == d("230.00")
    new = membership(meta={"create_defaults": {"price": d("275.00")}})
    created = kind.recurring(new, ctx())
    assert created is not None and created.monthly == d("275.00")
    bare = kind.recurring(membership(), ctx())  # the platform's default
    assert bare is not None and bare.monthly == 0


def test_a_new_membership_starting_in_the_past_is_retroactive() -> None:
    new = membership(start=date(2026, 10, 1), price=d("240.00"))
    effect = get("memberships").money_effect(None, new, ctx())
    assert effect.effect is Effect.FUTURE
    assert (effect.monthly_before, effect.monthly_after) == (None, d("240.00"))
    assert effect.retroactive == d("960.00")
    assert effect.note == ("from 2026-10-01; retroactive: 4 months x 240.00 before 2027-01-15, "
                           "charged by the next bill run")


def test_a_fee_is_quantity_times_unit_price_rounded_per_line() -> None:
    kind = get("fees")
    colour = fee(quantity=42, price=d("0.0125"))
    assert kind.charge(colour, ctx()) == Charge(d("0.53"), date(2027, 1, 20), "printing")
    plan = Obj("plans", "plans.printing", {"price": d("0.10")}, id="c" * 24)
    by_plan = kind.charge(fee(quantity=40), ctx(live=[plan]))
    assert by_plan is not None and by_plan.amount == d("4.00")
    effect = kind.money_effect(fee(quantity=40, price=d("0.0125")), colour, ctx())
    assert effect.one_off == d("0.03") and effect.monthly_after is None


def test_a_jpy_fee_rounds_to_whole_yen() -> None:
    line = get("fees").charge(fee(quantity=3, price=d("0.5")), ctx(currency="JPY"))
    assert line is not None and line.amount == d("2")


def test_a_plan_price_change_counts_the_memberships_keeping_their_price() -> None:
    plans = get("plans")
    old = Obj("plans", "plans.desk", {"billing": "recurring", "price": d("250.00")}, id="c" * 24)
    new = Obj("plans", "plans.desk", {"billing": "recurring", "price": d("275.00")})
    keeping = membership(price=d("250.00"))
    replaced = membership("companies.b.memberships[desk@2026-12-01]", price=d("250.00"))
    ended = membership("companies.c.memberships[desk@2026-01-01]", start=date(2026, 1, 1),
                       end=date(2026, 12, 31), price=d("200.00"))
    other = membership("companies.d.memberships[office@2026-12-01]", plan="office")
    context = ctx(live=[keeping, replaced, ended, other], removed=(replaced.address,))
    effect = plans.money_effect(old, new, context)
    assert effect.effect is Effect.FUTURE
    assert effect.note == ("price 250.00 -> 275.00 EUR: new memberships only; 1 live "
                           "membership of this plan keeps its own price")
    renamed = Obj("plans", "plans.desk", {"billing": "recurring", "price": d("250.00"),
                                          "name": "Desk 2"})
    assert plans.money_effect(old, renamed, context) is NO_EFFECT


def test_a_plan_change_says_less_when_memberships_were_not_read() -> None:
    old = Obj("plans", "plans.pass", {"billing": "one_off", "price": d("0.10")}, id="c" * 24)
    new = Obj("plans", "plans.pass", {"billing": "one_off", "price": d("0.1250")})
    effect = get("plans").money_effect(old, new, ctx())
    assert effect.note == "price 0.10 -> 0.1250 EUR: new fees only"


@pytest.mark.parametrize(("before", "after", "effect"), [
    ({"automatic_payment_collection": False}, {"automatic_payment_collection": True},
     Effect.NOW),
    ({"automatic_bill_run": False, "automatic_payment_collection": True},
     {"automatic_bill_run": True}, Effect.NOW),
    ({"automatic_bill_run": False, "automatic_payment_collection": False},
     {"automatic_bill_run": True}, Effect.FUTURE),
    ({"automatic_payment_collection": True}, {"automatic_payment_collection": False},
     Effect.FUTURE),
    ({"pay_now_button": False}, {"pay_now_button": True}, Effect.FUTURE),
    ({"automatic_sending": True}, {"automatic_sending": True}, Effect.NONE),
])
def test_invoicing_moves_money_when_collection_goes_on(
    before: dict[str, bool], after: dict[str, bool], effect: Effect
) -> None:
    live = Obj("invoicing", "invoicing", before)
    wanted = Obj("invoicing", "invoicing", {**before, **after})
    assert get("invoicing").money_effect(live, wanted, ctx()).effect is effect


def test_rates_gateways_and_storefront_affect_future_sales() -> None:
    rate = Obj("rates", "rates.room", {"price": d("30.00"), "name": "Room"}, id="c" * 24)
    dearer = Obj("rates", "rates.room", {"price": d("32.00"), "name": "Room"})
    assert get("rates").money_effect(rate, dearer, ctx()).note.startswith(
        "price changed: affects future bookings")
    gateway = Obj("gateways", "gateways.s", {"provider": "stripe", "account": "a"})
    assert get("gateways").money_effect(None, gateway, ctx()).effect is Effect.FUTURE
    rotated = Obj("gateways", "gateways.s", {**gateway.fields, "secret_key": "…9999"})
    assert get("gateways").money_effect(gateway, rotated, ctx()) is NO_EFFECT
    off = Obj("storefront", "storefront", {"enabled": False})
    on = Obj("storefront", "storefront", {"enabled": True})
    assert get("storefront").money_effect(off, on, ctx()).note == (
        "non-members can buy online; affects future sales")


def test_a_kind_without_money_has_no_effect() -> None:
    company = Obj("companies", "companies.acme", {"name": "Acme"})
    assert get("companies").money_effect(None, company, ctx()) is NO_EFFECT
    assert get("locations").money_effect(company, None, ctx()) is NO_EFFECT
