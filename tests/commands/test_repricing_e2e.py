"""Repricing end to end on the emulator, on both profiles: a line's `changes` entry and a
campaign over the example organization apply as split memberships (the old one ended the day
before, a new one from the date), the next plan and export -> plan are empty, `except` keeps
a customer's price, `increase: 8%` rounds half up to cents, and an apply stopped between
ending a membership and creating its successor converges on the next run."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flexctl import session
from flexctl.cli import main
from flexctl.emulator import Emulator, create_app
from flexctl.kinds.base import Profile
from flexctl.platform import target as target_module
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target
from tests.commands.plan_helpers import Sandbox, make_sandbox

TODAY = date(2026, 12, 2)
AS_OF = ("--as-of", "2026-12-15")
MEMBERSHIPS = ("--target-kinds", "memberships")
CAMPAIGN = """
repricing:
  hot-desk-2027:
    plan: hot-desk
    from: 2027-02-01
    increase: 8%
    notice_days: 30
    except: [members.sofia-rossi]
"""


@pytest.fixture(params=["full", "officernd"])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path,
            capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    profile = str(request.param)
    if profile == "officernd":
        monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(profile_scopes(Profile.OFFICERND)))
    # The scenario's dates are fixed: so is the day its notice periods count from.
    monkeypatch.setattr(session, "utc_today", lambda: TODAY)
    box = make_sandbox(tmp_path, capsys, monkeypatch, profile=profile)
    box.seed()
    return box


def reprice(sandbox: Sandbox, hot_desk_price: str = "250") -> None:
    """Acme's office from 1750.00 to 1900.00 on 2027-01-01; Hot Desk +8% from February
    (Liam Walsh pays the plan's price; Sofia Rossi is excepted)."""
    sandbox.edit("customers/companies.yaml", "        price: 1750.00          # negotiated: "
                 "overrides the plan's 1850.00\n",
                 "        price: 1750.00\n        changes:\n"
                 "          - {from: 2027-01-01, price: 1900.00}\n")
    if hot_desk_price != "250":
        sandbox.edit("customers/members.yaml", "      - {plan: hot-desk, start: 2026-12-01}",
                     f"      - {{plan: hot-desk, start: 2026-12-01, price: {hot_desk_price}}}")
    with (sandbox.root / "organization.yaml").open("a", encoding="utf-8") as out:
        out.write(CAMPAIGN)


def memberships(sandbox: Sandbox) -> list[tuple[str, str, str | None, Decimal]]:
    """(customer name, start, end, price) of every live membership, sorted."""
    names = {d["_id"]: d["name"] for path in ("companies", "members")
             for d in sandbox.live(path)}
    out = []
    for doc in sandbox.live("memberships"):
        owner = doc.get("member") if doc.get("isPersonal") else doc.get("company")
        out.append((names[owner], str(doc["startDate"])[:10],
                    str(doc["endDate"])[:10] if doc.get("endDate") else None,
                    Decimal(str(doc["price"]))))
    return sorted(out)


SPLIT = [
    ("Acme Ltd", "2026-12-01", "2026-12-31", Decimal("1750")),
    ("Acme Ltd", "2027-01-01", None, Decimal("1900")),
    ("Lighthouse Labs", "2026-12-01", None, Decimal("390")),
    ("Lighthouse Labs", "2027-01-04", None, Decimal("390")),
    ("Liam Walsh", "2026-12-01", "2027-01-31", Decimal("250")),
    ("Liam Walsh", "2027-02-01", None, Decimal("270")),
    ("Quay Studio", "2026-12-01", "2027-11-30", Decimal("45")),
    ("Sofia Rossi", "2026-12-01", None, Decimal("225")),
]


def plan_json(sandbox: Sandbox, *extra: str) -> tuple[int, dict[str, Any]]:
    result = sandbox.run("plan", "--format", "json", "--detailed-exitcode", *MEMBERSHIPS,
                         *AS_OF, *extra)
    assert result.code != 1, result.err
    return result.code, json.loads(result.out)


def test_a_change_and_a_campaign_apply_as_split_memberships(sandbox: Sandbox) -> None:
    reprice(sandbox)
    text = sandbox.run("plan", *MEMBERSHIPS, *AS_OF)
    assert text.code == 0, text.err
    assert "# price 1750.00 -> 1900.00 from 2027-01-01 (+150.00 a month)" in text.out
    assert ("# price 250.00 -> 270.00 from 2027-02-01 (+20.00 a month), campaign "
            "hot-desk-2027") in text.out
    assert ("campaign hot-desk-2027: plan hot-desk from 2027-02-01 (increase 8%, notice 30 "
            "days): 1 membership, +20.00 a month") in text.out
    assert "    members.liam-walsh: 250.00 -> 270.00 from 2027-02-01" in text.out
    assert "    members.sofia-rossi: excepted, keeps its price" in text.out
    assert "  monthly run-rate  2660.00 -> 2660.00 (0.00)\n" in text.out
    assert ("                    from 2027-01: +150.00 a month\n"
            "                    from 2027-02: +170.00 a month\n") in text.out
    code, data = plan_json(sandbox)
    assert code == 2
    assert data["format_version"] == "1.2"
    assert data["notes"][1:] == ["  members.liam-walsh: 250.00 -> 270.00 from 2027-02-01",
                                 "  members.sofia-rossi: excepted, keeps its price"]
    timeline = [(m["month"], m["before"], m["after"]) for m in data["money"]["timeline"]]
    assert timeline[:3] == [("2026-12", "2660.00", "2660.00"), ("2027-01", "2660.00", "2810.00"),
                            ("2027-02", "3050.00", "3220.00")]
    assert len(timeline) == 12 and timeline[-1][0] == "2027-11"
    assert sorted((c["action"], c["address"]) for c in data["changes"]) == [
        ("create", "companies.acme.memberships[private-office-4@2027-01-01]"),
        ("create", "members.liam-walsh.memberships[hot-desk@2027-02-01]"),
        ("update", "companies.acme.memberships[private-office-4@2026-12-01]"),
        ("update", "members.liam-walsh.memberships[hot-desk@2026-12-01]"),
    ]
    saved = sandbox.root.parent / "plan.json"
    assert sandbox.run("plan", "-o", str(saved), *MEMBERSHIPS, *AS_OF).code == 0
    order = {c["address"]: c.get("depends_on") for c in
             json.loads(saved.read_text(encoding="utf-8"))["changes"]}
    assert order["members.liam-walsh.memberships[hot-desk@2027-02-01]"] == [
        "members.liam-walsh.memberships[hot-desk@2026-12-01]"]  # created once that one ends
    applied = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF)
    assert applied.code == 0, applied.out + applied.err
    assert memberships(sandbox) == sorted(SPLIT)
    assert plan_json(sandbox)[0] == 0
    after = sandbox.run("plan", *MEMBERSHIPS, *AS_OF).out
    assert ("campaign hot-desk-2027: plan hot-desk from 2027-02-01 (increase 8%, notice 30 "
            "days): 1 membership, +20.00 a month (in place on the platform)") in after


def test_export_folds_the_split_back_into_a_line_with_changes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    reprice(sandbox)
    assert sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF).code == 0
    out = tmp_path / "exported"
    shutil.rmtree(out, ignore_errors=True)
    sandbox.capsys.readouterr()
    assert main(["export", "-o", str(out), "--api-url", sandbox.api_url, "--org",
                 "harbor-works", "--currency", "EUR"]) == 0
    members = (out / "customers" / "members.yaml").read_text(encoding="utf-8")
    assert "changes: [{from: 2027-02-01, price: 270.00}]" in members
    companies = (out / "customers" / "companies.yaml").read_text(encoding="utf-8")
    assert "changes: [{from: 2027-01-01, price: 1900.00}]" in companies
    sandbox.capsys.readouterr()
    code = main(["plan", str(out), "--api-url", sandbox.api_url, "--detailed-exitcode",
                 *MEMBERSHIPS, *AS_OF])
    assert code == 0, sandbox.capsys.readouterr().out


def test_increase_rounds_half_up_to_the_currency(sandbox: Sandbox) -> None:
    reprice(sandbox, hot_desk_price="45.50")  # + 8% = 49.14; and 12.35 + 8% = 13.338 -> 13.34
    sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF)
    liam = [m for m in memberships(sandbox) if m[0] == "Liam Walsh"]
    assert liam == [("Liam Walsh", "2026-12-01", "2027-01-31", Decimal("45.5")),
                    ("Liam Walsh", "2027-02-01", None, Decimal("49.14"))]


@pytest.mark.parametrize("fault", ["503", "drop"])
def test_an_apply_stopped_between_ending_and_creating_converges(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """503: the successor's create failed after its predecessor ended (no gap once the next
    run is done); drop: it was made but apply never heard of it (recovery finds it by its
    marker before sending it again: no duplicate)."""
    reprice(sandbox)
    profile = "officernd" if "FLEXCTL_SCOPES" in os.environ else "full"
    with monkeypatch.context() as faulty:
        faulty.setattr(target_module, "_sandbox_app", _faulty(profile, fault))
        stopped = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF)
    live = memberships(sandbox)
    assert ("Liam Walsh", "2026-12-01", "2027-01-31", Decimal("250")) in live  # ended first
    created = [m for m in live if m[1] in ("2027-01-01", "2027-02-01")]
    if fault == "drop":
        assert stopped.code == 0, stopped.out + stopped.err
        assert live == sorted(SPLIT)
    else:
        assert stopped.code == 1, stopped.out + stopped.err
        assert created == []
        assert "members.liam-walsh.memberships[hot-desk@2027-02-01]" in stopped.out
    again = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF)
    assert again.code == 0, again.out + again.err
    assert memberships(sandbox) == sorted(SPLIT)
    assert plan_json(sandbox)[0] == 0


def _faulty(profile: str, fault: str) -> Callable[[Target], Emulator]:
    def sandbox_app(target: Target) -> Emulator:
        app = create_app(str(target.sandbox_db), profile=profile, orgs=(target.org,))
        app.store.ensure_org(target.org)
        app.faults.configure([{"fault": fault, "method": "POST", "path": "memberships"}])
        return app

    return sandbox_app


def test_a_campaign_inside_its_notice_period_is_blocked_with_the_earliest_date(
    sandbox: Sandbox,
) -> None:
    reprice(sandbox)
    late = ("--as-of", "2027-01-10")  # 30 days' notice from then: 2027-02-09 at the earliest
    result = sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *late)
    assert result.code == 3, result.out + result.err
    assert ("campaign hot-desk-2027 needs 30 days' notice: 2027-02-01 is sooner than 30 days "
            "after 2027-01-10; the earliest compliant date is 2027-02-09") in result.out
    refused = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *late)
    assert refused.code == 3, refused.out + refused.err
    assert len(memberships(sandbox)) == 6  # nothing written
    sandbox.edit("organization.yaml", "from: 2027-02-01", "from: 2027-02-09")
    assert sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *late).code == 2


def test_an_earlier_as_of_never_lifts_a_notice_block(sandbox: Sandbox) -> None:
    # Notice cannot be given in the past: an --as-of before today moves the run-rate's date,
    # while the notice still counts from today, and apply refuses the rise as without it.
    reprice(sandbox)
    sandbox.edit("organization.yaml", "from: 2027-02-01", "from: 2026-12-20")
    earlier = ("--as-of", "2026-11-01")
    result = sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *earlier)
    assert result.code == 3, result.out + result.err
    assert ("campaign hot-desk-2027 needs 30 days' notice: 2026-12-20 is sooner than 30 days "
            "after 2026-12-02; the earliest compliant date is 2027-01-01") in result.out
    refused = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *earlier)
    assert refused.code == 3, refused.out + refused.err
    assert len(memberships(sandbox)) == 6  # nothing written


def test_a_line_price_rise_needs_the_policy_notice(sandbox: Sandbox) -> None:
    reprice(sandbox)
    sandbox.edit("organization.yaml", "  max_change_ratio: 0.3\n",
                 "  max_change_ratio: 0.3\n  notice_days: 30\n")
    result = sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *AS_OF)
    assert result.code == 3, result.out + result.err
    assert ("policy.notice_days needs 30 days' notice: 2027-01-01 is sooner than 30 days "
            "after 2026-12-15; the earliest compliant date is 2027-01-14") in result.out


def test_an_invoiced_membership_is_split_by_ending_it(sandbox: Sandbox) -> None:
    reprice(sandbox)
    liam = next(d for d in sandbox.live("memberships") if d.get("isPersonal")
                and str(d["startDate"]).startswith("2026-12-01") and d["price"] == 250)
    sandbox.invoice(memberships=[str(liam["_id"])])
    applied = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF)
    assert applied.code == 0, applied.out + applied.err
    assert memberships(sandbox) == sorted(SPLIT)


def test_notices_csv_has_one_row_per_repriced_membership(sandbox: Sandbox) -> None:
    reprice(sandbox)
    sandbox.edit("customers/members.yaml", "    name: Liam Walsh", "    name: =HYPERLINK(x)")
    sandbox.edit("customers/members.yaml", "      - {plan: hot-desk, start: 2026-12-01}",
                 "      - {plan: hot-desk, start: 2026-12-01}\n"
                 "      - {plan: hot-desk, start: 2025-01-01, end: 2026-11-30}")
    out = sandbox.root.parent / "notices.csv"
    sandbox.capsys.readouterr()
    assert main(["notices", "hot-desk-2027", str(sandbox.root), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == (
        "customer,customer_name,billing_contact,billing_email,membership,plan,"
        "old_monthly_price,new_monthly_price,currency,effective_date\n"
        "members.liam-walsh,'=HYPERLINK(x),'=HYPERLINK(x),liam.walsh@example.org,"
        "members.liam-walsh.memberships[hot-desk@2026-12-01],Hot Desk,250.00,270.00,EUR,"
        "2027-02-01\n")
    assert "Wrote " in sandbox.capsys.readouterr().err
    assert main(["notices", "nope", str(sandbox.root)]) == 1


def lock(sandbox: Sandbox, day: str) -> None:
    sandbox.edit("organization.yaml", "  max_change_ratio: 0.3\n",
                 f"  max_change_ratio: 0.3\n  lock_date: {day}\n")


def test_a_change_inside_the_closed_period_is_blocked(sandbox: Sandbox) -> None:
    lock(sandbox, "2026-12-20")
    sandbox.edit("customers/companies.yaml", "        price: 1750.00          # negotiated: "
                 "overrides the plan's 1850.00\n",
                 "        price: 1750.00\n        changes: [{from: 2026-12-15, price: 1900}]\n")
    sandbox.edit("customers/members.yaml", "      - {plan: key-card, date: 2026-12-02}",
                 "      - {plan: key-card, date: 2026-12-02}\n"
                 "      - {plan: key-card, date: 2026-12-10}")
    result = sandbox.run("plan", "--detailed-exitcode", *AS_OF)
    assert result.code == 3, result.out + result.err
    closed = "inside the closed billing period (up to and including 2026-12-20, policy.lock_date)"
    assert f"{closed}: the membership, open-ended, would end on 2026-12-14" in result.out
    assert f"{closed}: a membership dated 2026-12-15 would be created" in result.out
    assert f"{closed}: a fee dated 2026-12-10 would be created" in result.out
    assert sandbox.run("apply", "--auto-approve", *AS_OF).code == 3


def test_a_split_after_the_lock_date_and_a_retroactive_start_are_allowed(
    sandbox: Sandbox,
) -> None:
    lock(sandbox, "2026-11-30")
    reprice(sandbox)
    sandbox.edit("customers/members.yaml", "      - {plan: day-pass, date: 2026-12-05, "
                 "quantity: 3}", "      - {plan: day-pass, date: 2026-12-05, quantity: 3}\n"
                 "    memberships:\n      - {plan: hot-desk, start: 2026-12-01}")
    result = sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *AS_OF)
    assert result.code == 2, result.out + result.err
    assert "RETROACTIVE +250.00 EUR" in result.out  # Chen Wei from 2026-12-01, flagged
    assert "closed billing period" not in result.out


def test_live_memberships_the_config_does_not_declare_are_named_not_reached(
    sandbox: Sandbox,
) -> None:
    reprice(sandbox)
    sandbox.edit("customers/members.yaml", "    memberships:\n      - {plan: hot-desk, "
                 "start: 2026-12-01, price: 225.00}\n", "")  # Sofia Rossi's is undeclared now
    sofia = next(d["_id"] for d in sandbox.live("memberships") if d.get("price") == 225)
    markdown = sandbox.run("plan", "--format", "markdown", *MEMBERSHIPS, *AS_OF)
    assert markdown.code == 0, markdown.err
    assert "#### Repricing" in markdown.out
    assert ("  not reached (live, not declared in the configuration, left untouched): 1 "
            f"membership: members.sofia-rossi.memberships[hot-desk@2026-12-01] (id {sofia})"
            ) in markdown.out
    sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF)
    assert ("Sofia Rossi", "2026-12-01", None, Decimal("225")) in memberships(sandbox)


def test_removing_an_applied_campaign_is_blocked_rather_than_billing_twice(
    sandbox: Sandbox,
) -> None:
    reprice(sandbox)
    assert sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF).code == 0
    assert memberships(sandbox) == sorted(SPLIT)
    # The campaign goes: Liam Walsh's line would run open-ended again, over the period from
    # 2027-02-01 that the campaign created and the configuration no longer declares.
    sandbox.edit("organization.yaml", CAMPAIGN, "\n")
    result = sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *AS_OF)
    assert result.code == 3, result.out + result.err
    assert ("it would overlap members.liam-walsh.memberships[hot-desk@2027-02-01] (2027-02-01 "
            ".. open-ended), a membership of the same plan the configuration does not declare: "
            "the customer would pay twice from 2027-02-01 on") in result.out
    refused = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF)
    assert refused.code == 3 and memberships(sandbox) == sorted(SPLIT)  # nothing written
    # Declaring the live period's end on the line (the campaign's effect, by hand) is fine.
    sandbox.edit("customers/members.yaml", "      - {plan: hot-desk, start: 2026-12-01}",
                 "      - {plan: hot-desk, start: 2026-12-01, end: 2027-01-31}")
    assert sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *AS_OF).code == 0


def test_raising_a_created_period_again_inside_its_notice_is_blocked(sandbox: Sandbox) -> None:
    reprice(sandbox)
    assert sandbox.run("apply", "--auto-approve", *MEMBERSHIPS, *AS_OF).code == 0
    # The campaign's period from 2027-02-01 exists; raising it further on 2027-01-10 gives its
    # customers less than the campaign's 30 days' notice.
    sandbox.edit("organization.yaml", "increase: 8%", "increase: 20%")
    late = ("--as-of", "2027-01-10")
    result = sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *late)
    assert result.code == 3, result.out + result.err
    assert "the earliest compliant date is 2027-02-09" in result.out
    # A cut in price needs no notice.
    sandbox.edit("organization.yaml", "increase: 20%", "price: 260.00")
    assert sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *late).code == 2


def test_a_change_that_breaks_the_notice_and_the_lock_date_gives_both_reasons(
    sandbox: Sandbox,
) -> None:
    # Lifting the notice (a later date) must not be the first a reviewer hears of the lock.
    reprice(sandbox)
    lock(sandbox, "2027-02-05")
    late = ("--as-of", "2027-01-10")
    result = sandbox.run("plan", "--detailed-exitcode", *MEMBERSHIPS, *late)
    assert result.code == 3, result.out + result.err
    assert ("campaign hot-desk-2027 needs 30 days' notice: 2027-02-01 is sooner than 30 days "
            "after 2027-01-10; the earliest compliant date is 2027-02-09; and inside the closed "
            "billing period (up to and including 2027-02-05, policy.lock_date): ") in result.out
