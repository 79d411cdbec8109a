"""`--target-kinds` / `--exclude-kinds` end to end on the embedded sandbox: a change that refers
to an object neither on the target nor created by the plan (its kind left out) is blocked by
`plan`, refused by `apply` and by `apply PLANFILE` before anything is written; one whose
references are live, or created by the same plan, stays an ordinary change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flexctl.cli import main
from tests.commands.plan_helpers import Result, Sandbox, make_sandbox, plan_json

MEMBERSHIPS = ("--target-kinds", "memberships")
NEW_COMPANY = ("  tidewater:\n",
               "  harbour-lights:\n    name: Harbour Lights\n    email: hi@lights.example\n"
               "    location: downtown\n  tidewater:\n")


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


def by_address(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in data["changes"]}


def memberships(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sandbox.live("memberships")


def test_the_tryout_plan_and_apply_in_a_fresh_directory_refuse_with_exit_3(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """The reported steps: a fresh copy, its own sandbox (.flexctl/), memberships alone."""
    root = str(sandbox.root)
    assert main(["plan", "--detailed-exitcode", *MEMBERSHIPS, root]) == 3
    out = capsys.readouterr().out
    assert "6 blocked." in out and "0 to create" in out
    assert main(["apply", "--auto-approve", *MEMBERSHIPS, root]) == 3
    captured = capsys.readouterr()
    assert "nothing was applied" in captured.err
    assert "failed" not in captured.out + captured.err


def test_a_reference_to_a_kind_left_out_is_blocked_with_how_to_fix(sandbox: Sandbox) -> None:
    code, data = plan_json(sandbox, *MEMBERSHIPS)
    assert code == 3
    changes = by_address(data)
    assert {c["action"] for c in changes.values()} == {"blocked"}
    assert data["summary"]["blocked"] == 6 and data["summary"]["create"] == 0
    acme = changes["companies.acme.memberships[private-office-4@2026-12-01]"]["reason"]
    # The customer, the plan and the location a create sends (the customer's, by default).
    assert ("companies.acme, locations.downtown and plans.private-office-4 are not on the "
            "target and this plan does not create them") in acme
    assert "(companies, locations, plans left out by --target-kinds/--exclude-kinds)" in acme
    assert "or apply without --target-kinds/--exclude-kinds first" in acme
    text = sandbox.run("plan", *MEMBERSHIPS).out
    assert "x   companies.acme.memberships[private-office-4@2026-12-01]" in text


def test_apply_refuses_it_before_writing_anything(sandbox: Sandbox) -> None:
    result = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS)
    assert result.code == 3, result.out + result.err
    assert "nothing was applied" in result.err
    assert "Apply:" not in result.out  # refused as a whole, not failed change by change
    assert not memberships(sandbox) and not sandbox.live("companies")


def test_a_saved_plan_with_such_a_change_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    planfile = tmp_path / "memberships-plan.json"
    saved = sandbox.run("plan", "-o", str(planfile), "--detailed-exitcode", *MEMBERSHIPS)
    assert saved.code == 3, saved.err
    sandbox.capsys.readouterr()
    code = main(["apply", str(planfile), "--api-url", sandbox.api_url])
    captured = sandbox.capsys.readouterr()
    assert code == 3, captured.out + captured.err
    assert "nothing was applied" in captured.err
    assert not memberships(sandbox)


def test_exclude_kinds_blocks_what_refers_to_the_excluded_kind(sandbox: Sandbox) -> None:
    code, data = plan_json(sandbox, "--exclude-kinds", "plans")
    assert code == 3
    changes = by_address(data)
    fee = changes["members.liam-walsh.fees[colour-printing@2026-12-04]"]
    assert fee["action"] == "blocked"
    assert "plans.colour-printing is not on the target" in fee["reason"]
    assert "this plan does not create it (plans left out" in fee["reason"]
    # Its customer is created by the same plan: not a missing reference.
    assert "members.liam-walsh is" not in fee["reason"]
    assert changes["members.liam-walsh"]["action"] == "create"
    assert changes["companies.acme"]["action"] == "create"
    assert sandbox.run("apply", "--auto-approve", "--exclude-kinds", "plans").code == 3
    assert not sandbox.live("companies")


def test_references_that_are_live_or_created_by_the_plan_stay_creates(sandbox: Sandbox) -> None:
    # Customers, plans and locations are created in the same run as the members' references.
    result = sandbox.run("apply", "--auto-approve", "--exclude-kinds", "memberships")
    assert result.code == 0, result.out + result.err
    assert "0 failed" in result.out
    code, data = plan_json(sandbox, *MEMBERSHIPS)
    assert code == 2
    assert data["summary"]["create"] == 6 and data["summary"]["blocked"] == 0
    result = sandbox.run("apply", "--auto-approve", *MEMBERSHIPS)
    assert result.code == 0, result.out + result.err
    assert "Apply: 6 applied, 0 failed, 0 skipped, 0 manual." in result.out
    assert sandbox.run("plan", "--detailed-exitcode").code == 0


def test_a_saved_plan_whose_references_are_live_applies(sandbox: Sandbox, tmp_path: Path) -> None:
    """`apply PLANFILE` checks the saved plan against what it touches (no full read): it must
    know the ids of everything the creates send, the customers' locations included."""
    assert sandbox.run("apply", "--auto-approve", "--exclude-kinds", "memberships").code == 0
    planfile = tmp_path / "memberships-plan.json"
    assert sandbox.run("plan", "-o", str(planfile), *MEMBERSHIPS).code == 0
    sandbox.capsys.readouterr()
    code = main(["apply", str(planfile), "--api-url", sandbox.api_url])
    out = sandbox.capsys.readouterr().out
    assert code == 0, out
    assert "Apply: 6 applied, 0 failed, 0 skipped, 0 manual." in out
    assert len(memberships(sandbox)) == 6


def test_an_update_to_a_reference_outside_the_selection_is_blocked(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("customers/companies.yaml", *NEW_COMPANY)
    sandbox.edit("customers/members.yaml", "    company: acme\n    location: downtown\n  aoife",
                 "    company: harbour-lights\n    location: downtown\n  aoife")
    code, data = plan_json(sandbox, "--target-kinds", "members")
    assert code == 3
    omar = by_address(data)["members.omar-haddad"]
    assert (omar["action"], omar["changed_paths"]) == ("blocked", ["company"])
    assert "companies.harbour-lights is not on the target" in omar["reason"]
    assert "(companies left out by --target-kinds/--exclude-kinds)" in omar["reason"]
    # With the company in the run, it is created first and the member then moves to it.
    code, data = plan_json(sandbox, "--target-kinds", "companies,members")
    assert code == 2
    changes = by_address(data)
    assert changes["companies.harbour-lights"]["action"] == "create"
    assert changes["members.omar-haddad"]["action"] == "update"
    result: Result = sandbox.run("apply", "--auto-approve", "--target-kinds", "companies,members")
    assert result.code == 0, result.out + result.err
