"""`flexctl apply` end to end: examples/harbor-works on the embedded sandbox (`local:FILE`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flexctl.cli import main
from flexctl.emulator import Emulator
from flexctl.kinds.base import Profile
from flexctl.platform.scopes import profile_scopes
from tests.commands.plan_helpers import (
    ORG,
    STRIPE_KEY,
    Result,
    Sandbox,
    make_sandbox,
    recording_apps,
    with_faults,
)


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


def run(sandbox: Sandbox, *args: str) -> Result:
    """The CLI with exactly these arguments (no PATH or target added)."""
    sandbox.capsys.readouterr()
    code = main(list(args))
    captured = sandbox.capsys.readouterr()
    return Result(code, captured.out, captured.err)


def state(sandbox: Sandbox) -> dict[str, list[dict[str, Any]]]:
    """Every object of the organization, for "nothing was written" comparisons."""
    paths = ("plans", "resource-rates", "companies", "members", "memberships", "fees",
             "payment-gateways", "locations", "tax-rates", "revenue-accounts")
    with sandbox.client() as client:
        return {p: list(client.list(p)) for p in paths}


def writes(apps: list[Emulator]) -> int:
    return sum(app.stats.writes for app in apps)


def test_apply_example_then_plan_is_empty(sandbox: Sandbox) -> None:
    result = sandbox.run("apply", "--auto-approve")
    assert result.code == 0, result.err
    assert "Plan: 43 to create, 5 to update, 0 to delete" in result.out
    assert "Apply: 48 applied, 0 failed, 0 skipped, 0 manual." in result.out
    assert "  applied  +   plans.hot-desk" in result.out
    assert "[48/48]" in result.err  # one progress line per change when stderr is no terminal
    assert sandbox.run("plan", "--detailed-exitcode").code == 0
    again = sandbox.run("apply", "--auto-approve")
    assert again.code == 0 and "No changes." in again.out
    assert STRIPE_KEY not in result.out + result.err + again.out + again.err


def test_without_a_terminal_apply_needs_auto_approve(sandbox: Sandbox) -> None:
    result = sandbox.run("apply")
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert "Plan: 43 to create" in result.out  # shown for review, but nothing applied
    assert sandbox.run("plan", "--detailed-exitcode").code == 2
    assert all(not docs for docs in (state(sandbox)["companies"], state(sandbox)["plans"]))


def test_json_journal_on_stdout_plan_on_stderr(sandbox: Sandbox) -> None:
    result = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert "Plan: 43 to create" in result.err
    assert data["ok"] is True
    assert data["summary"] == {"applied": 48, "failed": 0, "skipped": 0, "manual": 0}
    assert data["target"]["org"] == ORG
    first = data["changes"][0]
    assert first["address"] == "locations.downtown" and first["status"] == "applied"
    assert len(first["id"]) == 24


def test_blocked_change_refuses_everything_with_exit_3(sandbox: Sandbox) -> None:
    sandbox.edit("invoicing.yaml", "automatic_bill_run: false", "automatic_bill_run: true")
    result = sandbox.run("apply", "--auto-approve")
    assert result.code == 3
    assert "invoicing" in result.err and "nothing was applied" in result.err
    assert not state(sandbox)["companies"]
    as_json = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert as_json.code == 3
    data = json.loads(as_json.out)  # one document, saying nothing was applied and why
    assert data["ok"] is False and data["changes"] == []
    assert [b["address"] for b in data["blocked"]] == ["invoicing"]
    assert not state(sandbox)["companies"]


def test_invoiced_membership_plan_change_is_blocked_with_instructions(sandbox: Sandbox) -> None:
    sandbox.seed()
    liam = next(m for m in sandbox.live("members") if m["email"] == "liam.walsh@example.org")
    old = next(m for m in sandbox.live("memberships") if m.get("member") == liam["_id"])
    sandbox.invoice(memberships=[old["_id"]])
    sandbox.edit("customers/members.yaml", "- {plan: hot-desk, start: 2026-12-01}",
                 "- {plan: dedicated-desk, start: 2026-12-01}")
    before = state(sandbox)
    result = sandbox.run("apply", "--auto-approve")
    assert result.code == 3
    assert "has invoices" in result.out and "(plan hot-desk) with `end: " in result.out
    assert "nothing was applied" in result.err
    assert state(sandbox) == before, "the invoiced membership is neither ended nor replaced"


def test_a_failing_change_skips_only_its_dependents(sandbox: Sandbox,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with_faults(monkeypatch, {"fault": "500", "method": "POST", "path": "/plans$"})
    result = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert result.code == 1
    data = json.loads(result.out)
    entries = {c["address"]: c for c in data["changes"]}
    failed = {a for a, c in entries.items() if c["status"] == "failed"}
    assert failed == {a for a in entries if a.startswith("plans.")}
    hot = entries["plans.hot-desk"]["error"]
    assert hot == {"method": "POST", "path": f"/api/v2/organizations/{ORG}/plans",
                   "status": 500, "message": "Internal server error (injected fault)"}
    fee = entries["companies.acme.fees[printing@2026-12-03]"]
    assert fee["status"] == "skipped" and fee["waits_for"] == "plans.printing"
    assert entries["companies.acme"]["status"] == "applied"
    assert entries["rates.meeting-room"]["status"] == "applied"
    assert not data["ok"]


def test_invoicing_waits_for_the_gateways(sandbox: Sandbox,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Automatic payment collection must not be turned on before the gateway it collects
    # through exists: when the gateways cannot be created, the settings are not applied.
    with_faults(monkeypatch, {"fault": "500", "method": "POST", "path": "/payment-gateways$"})
    result = sandbox.run("apply", "--auto-approve", "--format", "json")
    assert result.code == 1
    entries = {c["address"]: c for c in json.loads(result.out)["changes"]}
    assert entries["invoicing"]["status"] == "skipped"
    assert entries["invoicing"]["waits_for"].startswith("gateways.")


def test_failure_text_names_address_method_path_status_and_message(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    with_faults(monkeypatch, {"fault": "500", "method": "POST", "path": "/plans$"})
    result = sandbox.run("apply", "--auto-approve")
    assert result.code == 1
    line = next(x for x in result.out.splitlines() if "failed   +   plans.day-pass" in x)
    assert line.endswith(f"POST /api/v2/organizations/{ORG}/plans: 500 "
                         "Internal server error (injected fault)")
    skipped = next(x for x in result.out.splitlines()
                   if x.startswith("  skipped") and "members.chen-wei.fees" in x)
    assert skipped.endswith("its dependency plans.day-pass failed")
    assert "Traceback" not in result.err


def test_missing_scope_is_named(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    scopes = [s for s in profile_scopes(Profile.FULL) if s != "flex.community.fees.create"]
    monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(scopes))
    result = sandbox.run("apply", "--auto-approve")
    assert result.code == 1
    fee_lines = [x for x in result.out.splitlines() if x.startswith("  failed") and ".fees[" in x]
    assert len(fee_lines) == 7
    assert all(": 401 " in x and "flex.community.fees.create" in x for x in fee_lines)


# --- saved plans -------------------------------------------------------------------------------


def save_plan(sandbox: Sandbox) -> Path:
    planfile = sandbox.root.parent / "plan.json"
    result = sandbox.run("plan", "-o", str(planfile))
    assert result.code == 0, result.err
    return planfile


def test_apply_planfile_applies_it_once(sandbox: Sandbox,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    planfile = save_plan(sandbox)
    result = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url)
    assert result.code == 0, result.err
    assert "Apply: 48 applied, 0 failed, 0 skipped, 0 manual." in result.out
    assert sandbox.run("plan", "--detailed-exitcode").code == 0
    sandbox.edit("services.yaml", "price: 390.00", "price: 410.00")
    apps = recording_apps(monkeypatch)
    again = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url)
    assert again.code == 3 and "already applied" in again.err
    assert writes(apps) == 0


def test_stale_planfile_is_refused_and_nothing_is_written(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.seed()
    sandbox.edit("services.yaml", "price: 390.00", "price: 410.00")
    planfile = save_plan(sandbox)
    with sandbox.client() as client:  # someone changes a planned object on the platform
        desk = next(p for p in client.list("plans") if p["name"] == "Dedicated Desk")
        client.update("plans", desk["_id"], {"price": 400})
    before = state(sandbox)
    apps = recording_apps(monkeypatch)
    result = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url,
                 "--format", "json")
    assert result.code == 3
    assert "plans.dedicated-desk changed on the target since the plan was made" in result.err
    assert "nothing was applied" in result.err and result.out == ""
    assert apps and writes(apps) == 0
    assert state(sandbox) == before


def test_planfile_is_stale_when_the_config_changed(sandbox: Sandbox,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    planfile = save_plan(sandbox)
    sandbox.edit("services.yaml", "price: 390.00", "price: 410.00")
    apps = recording_apps(monkeypatch)
    result = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url)
    assert result.code == 3
    assert "the configuration changed since the plan was made" in result.err
    assert apps and writes(apps) == 0
    assert not state(sandbox)["plans"]


def test_planfile_refuses_another_target(sandbox: Sandbox) -> None:
    planfile = save_plan(sandbox)
    result = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url,
                 "--org", "other-org")
    assert result.code == 3 and "differs from the plan's target" in result.err
    other = sandbox.root.parent / "other.db"
    result = run(sandbox, "apply", str(planfile), "--api-url", f"local:{other}")
    assert result.code == 3
    assert not other.exists()


def test_planfile_with_config_elsewhere(sandbox: Sandbox) -> None:
    planfile = save_plan(sandbox)
    moved = sandbox.root.parent / "moved"
    sandbox.root.rename(moved)
    result = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url)
    assert result.code == 1 and "pass its new location with --config PATH" in result.err
    result = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url,
                 "--config", str(moved))
    assert result.code == 0, result.err


def test_a_plan_of_the_sandbox_inside_a_moved_directory_asks_for_a_new_plan(
    sandbox: Sandbox,
) -> None:
    # The default target is the sandbox inside the configuration's directory: moved with it,
    # it is another target, so --config cannot help; a new plan where it is now does.
    planfile = sandbox.root.parent / "inside.json"
    assert run(sandbox, "plan", str(sandbox.root), "-o", str(planfile)).code == 0
    moved = sandbox.root.parent / "moved"
    sandbox.root.rename(moved)
    result = run(sandbox, "apply", str(planfile))
    assert result.code == 1
    assert ("nor the sandbox inside it the plan was made against; make a new plan where it is "
            "now: flexctl plan NEW-PATH -o FILE") in result.err
    assert "--config" not in result.err


def test_a_json_file_that_is_not_a_plan_is_a_clear_error(sandbox: Sandbox) -> None:
    bogus = sandbox.root.parent / "bogus.json"
    bogus.write_text('{"hello": 1}', encoding="utf-8")
    result = run(sandbox, "apply", str(bogus))
    assert result.code == 1 and "not a flexctl plan file" in result.err


def test_planfile_limited_to_some_kinds_applies_only_those(sandbox: Sandbox) -> None:
    planfile = sandbox.root.parent / "plan.json"
    result = sandbox.run("plan", "-o", str(planfile), "--target-kinds", "locations,tax_rates")
    assert result.code == 0, result.err
    result = run(sandbox, "apply", str(planfile), "--api-url", sandbox.api_url)
    assert result.code == 0, result.err
    assert "Apply: 4 applied, 0 failed, 0 skipped, 0 manual." in result.out
    live = state(sandbox)
    assert len(live["locations"]) == 2 and len(live["tax-rates"]) == 2
    assert not live["plans"] and not live["companies"]
