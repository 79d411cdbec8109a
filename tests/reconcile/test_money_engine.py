"""The money engine on hand-made plans: what the summary counts, the guards and their figures,
forcing them, drift, and the money date a plan file keeps for apply."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flexctl.config.types import MoneyPolicy
from flexctl.errors import PlanError
from flexctl.kinds.base import Obj, Profile
from flexctl.reconcile.diff import diff
from flexctl.reconcile.money import MoneyOptions, MoneySummary, guard_findings
from flexctl.reconcile.plan import Plan, SafetyPolicy, build_plan
from flexctl.reconcile.render import render_markdown
from flexctl.reconcile.saved_plan import load_planfile, planfile_data, write_planfile
from tests.reconcile.reconcile_fakes import KINDS, RANKS, TODAY, FakeSnapshot, d, group, live, obj

AS_OF = date(2027, 1, 15)
TARGET = {"api_url": "local:x.db", "org": "o", "profile": "full"}
ACME, BOB = "companies.acme", "companies.bob"


def plan_of(desired: dict[str, list[Obj]], current: dict[str, list[Obj]], *,
            guards: MoneyPolicy | None = None, safety: SafetyPolicy | None = None) -> Plan:
    result = diff(desired, FakeSnapshot(current), KINDS, profile=Profile.FULL,
                  prune=("memberships",), today=TODAY)
    return build_plan(result.changes, unmanaged=result.unmanaged, desired=desired,
                      live=current, ranks=RANKS, safety=safety or SafetyPolicy(), target=TARGET,
                      config_digest="sha256:x",
                      money=MoneyOptions("EUR", AS_OF, guards or MoneyPolicy()))


def desk(owner: str, start: date, price: str, *, live_one: bool = False,
         end: date | None = None) -> Obj:
    address = f"{owner}.memberships[desk@{start}]"
    if live_one:
        return live(address, owner=owner, plan="desk", start=start, end=end, price=d(price))
    return obj(address, owner=owner, plan="desk", start=start, end=end, price=d(price))


def company(key: str, *, live_one: bool = False) -> Obj:
    address = f"companies.{key}"
    if live_one:
        return live(address, name=key.title(), location="hq")
    return obj(address, name=key.title(), location="hq")


def scene() -> tuple[dict[str, list[Obj]], dict[str, list[Obj]]]:
    """Acme's desk 300.00 -> 200.00 and a new one; Bob ends his 100.00 desk; an undeclared
    customer's desk (500.00) is not in the run-rate."""
    dec, jan = date(2026, 12, 1), date(2027, 1, 1)
    desired = group(
        company("acme"), company("bob"),
        desk(ACME, dec, "200.00"), desk(ACME, jan, "50.00"),
        desk(BOB, dec, "100.00", end=date(2026, 12, 31)),
    )
    current = group(
        company("acme", live_one=True), company("bob", live_one=True),
        company("carol", live_one=True),
        desk(ACME, dec, "300.00", live_one=True), desk(BOB, dec, "100.00", live_one=True),
        desk("companies.carol", dec, "500.00", live_one=True),
    )
    return desired, current


def test_the_summary_adds_up_the_configured_customers() -> None:
    plan = plan_of(*scene())
    money = plan.money
    assert isinstance(money, MoneySummary)
    assert (money.recurring_before, money.recurring_after) == (d("400.00"), d("250.00"))
    # Largest change first: Bob's desk ends (-100.00), Acme's is cheaper but has a second one.
    assert [(c.address, c.monthly_before, c.monthly_after) for c in money.customers] == [
        (BOB, d("100.00"), Decimal(0)), (ACME, d("300.00"), d("250.00"))]
    assert money.by_plan == (("desk", d("400.00"), d("250.00")),)
    data = money.data()
    assert data["recurring_monthly"] == {"before": "400.00", "after": "250.00",
                                         "delta": "-150.00"}
    assert data["customers_affected"] == 2


def test_blocked_changes_count_for_nothing() -> None:
    desired, current = scene()
    pinned = obj(f"{ACME}.memberships[desk@2027-02-01]", id="f" * 24, owner=ACME, plan="desk",
                 start=date(2027, 2, 1), end=None, price=d("999.00"))
    desired["memberships"].append(pinned)  # a pin that does not exist: blocked
    plan = plan_of(desired, current)
    blocked = next(c for c in plan.changes if c.address == pinned.address)
    assert blocked.action == "blocked" and blocked.money is not None
    assert blocked.money.effect.value == "none"
    assert plan.money is not None and plan.money.recurring_after == d("250.00")


def test_each_guard_names_its_figures() -> None:
    money = plan_of(*scene()).money
    assert money is not None
    guards = MoneyPolicy(max_monthly_decrease=d("100.00"),
                         max_customer_change_percent=d("50"))
    assert guard_findings(money, guards) == [
        ("max_monthly_decrease", "the monthly run-rate falls by 150.00 EUR (400.00 -> 250.00 "
                                 "as of 2027-01-15), more than "
                                 "policy.money.max_monthly_decrease 100.00"),
        ("max_customer_change_percent", "1 customer's monthly run-rate changes by more than "
                                        "policy.money.max_customer_change_percent 50%: "
                                        "companies.bob 100.00 -> 0.00 (-100.0%)"),
    ]
    assert guard_findings(money, MoneyPolicy(max_monthly_decrease=d("150.00"))) == []


def test_guards_block_unless_forced_and_never_in_drift() -> None:
    guards = MoneyPolicy(max_monthly_decrease=d("100.00"))
    blocked = plan_of(*scene(), guards=guards)
    notice = next(c for c in blocked.changes if c.kind == "policy")
    assert notice.address == "policy.money.max_monthly_decrease"
    assert notice.reason.startswith("safety: the monthly run-rate falls by 150.00 EUR")
    assert blocked.exit_code() == 3
    forced = plan_of(*scene(), guards=guards, safety=SafetyPolicy(force=True))
    assert forced.exit_code() == 2
    assert any(w.endswith("; allowed by --force") for w in forced.warnings)
    drift = plan_of(*scene(), guards=guards, safety=SafetyPolicy(enabled=False))
    assert not drift.blocked and drift.money == blocked.money


def test_many_customers_over_the_percentage_are_listed_five_at_a_time() -> None:
    desired = group(*(company(f"c{i}") for i in range(7)),
                    *(desk(f"companies.c{i}", date(2026, 12, 1), "20.00") for i in range(7)))
    current = group(*(company(f"c{i}", live_one=True) for i in range(7)),
                    *(desk(f"companies.c{i}", date(2026, 12, 1), "10.00", live_one=True)
                      for i in range(7)))
    money = plan_of(desired, current).money
    assert money is not None
    ((_, text),) = guard_findings(money, MoneyPolicy(max_customer_change_percent=d("99.9")))
    assert text.startswith("7 customers' monthly run-rate changes by more than")
    assert text.endswith("companies.c4 10.00 -> 20.00 (+100.0%) and 2 more")


def test_an_unverified_check_changes_no_money() -> None:
    desired = group(obj("invoicing", automatic_payment_collection=True))
    result = diff(desired, FakeSnapshot({}, {"invoicing": "not readable"}), KINDS,
                  profile=Profile.OFFICERND, today=TODAY)
    plan = build_plan(result.changes, unmanaged={}, desired=desired, live={}, ranks=RANKS,
                      safety=SafetyPolicy(), target=TARGET, config_digest="sha256:x",
                      money=MoneyOptions("EUR", AS_OF))
    (change,) = plan.changes
    assert change.action == "manual" and change.money is not None
    assert change.money.effect.value == "none"
    assert plan.money is not None and plan.money.moves_money_now == ()


def test_a_plan_file_keeps_the_money_date_for_apply(tmp_path: Path) -> None:
    desired, current = scene()
    plan = plan_of(desired, current)
    path = tmp_path / "plan.json"
    binding = {"api": "local:/x.db", "token_host": None, "org": "o"}
    write_planfile(path, planfile_data(plan, config_path=tmp_path, binding=binding,
                                       desired=desired))
    assert load_planfile(path).as_of == AS_OF
    document = json.loads(path.read_text())
    document["money"]["as_of"] = "2027-02-30"
    path.write_text(json.dumps(document))
    with pytest.raises(PlanError, match=r"impossible money\.as_of date '2027-02-30'"):
        _ = load_planfile(path).as_of
    document["money"] = None  # a plan file of format 1.0 has none: apply uses today
    document["format_version"] = "1.0"
    path.write_text(json.dumps(document))
    assert load_planfile(path).as_of is None
    document["money"] = {"currency": "EUR", "as_of": "next week"}
    path.write_text(json.dumps(document))
    with pytest.raises(PlanError, match="edited plan file \\(money: "):
        load_planfile(path)


def test_a_big_money_plan_fits_a_pull_request_comment() -> None:
    # 300 customers with 12 new memberships each: the money section lists 20 customers and 5
    # changes under each, and shares the comment's budget with the change sections.
    owners = [f"companies.c{i:03}" for i in range(300)]
    items = [desk(owner, date(2026, 1 + m, 1), f"{100 + i}.00")
             for i, owner in enumerate(owners) for m in range(12)]
    desired = group(*(company(owner.split(".")[1]) for owner in owners), *items)
    markdown = render_markdown(plan_of(desired, {}))
    assert len(markdown) < 65_536
    assert markdown.count("| ↳ 7 more changes | | | |") == 20
    assert "*280 more customers: see `flexctl plan --format json`" in markdown
    assert markdown.index("#### Money") < markdown.index("#### Changes")
    assert "Not shown to fit a comment: changes to 3600 memberships" in markdown
