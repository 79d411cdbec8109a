"""The money guards of `policy.money`, end to end on the emulator: each blocks a plan (exit 3
with --detailed-exitcode) with the figures that tripped it, `--force` passes it, `apply` refuses
it and shows the money summary before it asks, and `drift` reports the same figures unguarded.

harbor-works is seeded as configured; as of 2026-12-15 its run-rate is 2660.00 EUR (Acme
1750.00, Lighthouse 390.00, Quay Studio 45.00, Liam 250.00, Sofia 225.00)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flexctl.cli import main
from tests.commands.plan_helpers import Result, Sandbox, make_sandbox

AS_OF = ("--as-of", "2026-12-15")
POLICY = "  money:\n"


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


def guard(sandbox: Sandbox, line: str) -> None:
    """Seed the organization as configured, then add a line to `policy.money`."""
    sandbox.seed()
    sandbox.edit("organization.yaml", POLICY, f"{POLICY}    {line}\n")


def plan(sandbox: Sandbox, *args: str) -> Result:
    return sandbox.run("plan", "--detailed-exitcode", *AS_OF, *args)


def test_max_monthly_decrease_blocks_with_the_figures(sandbox: Sandbox) -> None:
    guard(sandbox, "max_monthly_decrease: 100.00")
    sandbox.edit("customers/companies.yaml", "price: 1750.00", "price: 1500.00")
    result = plan(sandbox)
    assert result.code == 3, result.out + result.err
    assert ("x   policy.money.max_monthly_decrease\n        # safety: the monthly run-rate falls "
            "by 250.00 EUR (2660.00 -> 2410.00 as of 2026-12-15), more than "
            "policy.money.max_monthly_decrease 100.00; review it, then re-run with --force"
            ) in result.out
    forced = plan(sandbox, "--force")
    assert forced.code == 2
    assert "policy.money" not in forced.out
    assert ("Warning: the monthly run-rate falls by 250.00 EUR (2660.00 -> 2410.00 as of "
            "2026-12-15), more than policy.money.max_monthly_decrease 100.00; allowed by "
            "--force") in forced.err


def test_a_decrease_within_the_limit_passes(sandbox: Sandbox) -> None:
    guard(sandbox, "max_monthly_decrease: 250.00")
    sandbox.edit("customers/companies.yaml", "price: 1750.00", "price: 1500.00")
    assert plan(sandbox).code == 2


def test_max_customer_change_percent_blocks_with_the_figures(sandbox: Sandbox) -> None:
    guard(sandbox, "max_customer_change_percent: 10")
    sandbox.edit("customers/members.yaml", "price: 225.00", "price: 250.00")
    result = plan(sandbox)
    assert result.code == 3
    assert ("# safety: 1 customer's monthly run-rate changes by more than "
            "policy.money.max_customer_change_percent 10%: members.sofia-rossi 225.00 -> "
            "250.00 (+11.1%); review it, then re-run with --force") in result.out
    assert plan(sandbox, "--force").code == 2


def test_a_new_customer_has_no_percentage_to_exceed(sandbox: Sandbox) -> None:
    guard(sandbox, "max_customer_change_percent: 10")
    sandbox.edit("customers/members.yaml", "    fees:\n      - {plan: day-pass",
                 "    memberships:\n      - {plan: hot-desk, start: 2026-12-01}\n"
                 "    fees:\n      - {plan: day-pass")
    assert plan(sandbox).code == 2


def test_money_movement_is_blocked_unless_allowed(sandbox: Sandbox) -> None:
    sandbox.edit("invoicing.yaml", "automatic_payment_collection: true",
                 "automatic_payment_collection: false")
    sandbox.seed()  # collection off
    sandbox.edit("invoicing.yaml", "automatic_payment_collection: false",
                 "automatic_payment_collection: true")
    allowed = plan(sandbox)  # harbor-works allows it
    assert allowed.code == 2 and "MOVES MONEY NOW" in allowed.out, allowed.out
    sandbox.edit("organization.yaml", "allow_money_movement: true", "allow_money_movement: false")
    result = plan(sandbox)
    assert result.code == 3
    assert ("# safety: invoicing would move money now, and "
            "policy.money.allow_money_movement is false") in result.out
    data = json.loads(sandbox.run("plan", "--format", "json", *AS_OF).out)
    assert data["money"]["customers_affected"] == 0
    assert plan(sandbox, "--force").code == 2
    refused = sandbox.run("apply", "--auto-approve", *AS_OF)
    assert refused.code == 3 and "policy.money.allow_money_movement" in refused.err
    assert sandbox.run("apply", "--auto-approve", "--force", *AS_OF).code == 0
    assert plan(sandbox).code == 0


def test_apply_shows_the_money_before_it_asks(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("customers/members.yaml", "price: 225.00", "price: 230.00")
    result = sandbox.run("apply", *AS_OF)  # no terminal to ask on: refused after the plan
    assert result.code == 1
    money = result.out.index("Money (EUR, run-rate of memberships active on 2026-12-15):")
    assert "  monthly run-rate  2660.00 -> 2665.00 (+5.00)" in result.out[money:]
    assert "apply needs confirmation" in result.err


def test_drift_reports_the_same_figures_unguarded(sandbox: Sandbox) -> None:
    guard(sandbox, "max_monthly_decrease: 1.00")
    sandbox.edit("customers/companies.yaml", "price: 1750.00", "price: 1500.00")
    result = sandbox.run("drift", *AS_OF)
    assert result.code == 2
    assert "policy.money" not in result.out
    assert "  monthly run-rate  2660.00 -> 2410.00 (-250.00)" in result.out
    assert "companies.acme  monthly 1750.00 -> 1500.00 (-250.00)" in result.out


def test_a_saved_plan_keeps_its_money_date(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("customers/members.yaml", "price: 225.00", "price: 230.00")
    planfile = sandbox.root.parent / "plan.json"
    assert sandbox.run("plan", "-o", str(planfile), *AS_OF).code == 0
    assert json.loads(planfile.read_text())["money"]["as_of"] == "2026-12-15"
    apply = ("apply", str(planfile), "--api-url", sandbox.api_url)
    assert cli(sandbox, *apply, "--as-of", "2027-01-01").code == 64
    result = cli(sandbox, *apply)
    assert result.code == 0, result.err
    assert "Money (EUR, run-rate of memberships active on 2026-12-15):" in result.out


def cli(sandbox: Sandbox, *args: str) -> Result:
    """The CLI with exactly these arguments (no PATH or target added)."""
    sandbox.capsys.readouterr()
    code = main(list(args))
    captured = sandbox.capsys.readouterr()
    return Result(code, captured.out, captured.err)


def test_a_bad_as_of_date_is_a_usage_error(sandbox: Sandbox) -> None:
    result = sandbox.run("plan", "--as-of", "2027-02-30")
    assert result.code == 64 and "--as-of" in result.err
