"""`flexctl check` end to end on the in-process emulator: the six readiness steps for a fresh,
a half-configured and a complete organization on the full and officernd profiles, and the
smoke test (a good card, a declining card, failures, unsupported targets), asserting through
the API that it leaves nothing behind."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import pytest

from flexctl.cli import main
from flexctl.commands import check as check_command
from flexctl.emulator import create_app
from flexctl.kinds.base import Profile
from flexctl.platform import target as target_module
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, activation_step, open_client, resolve_target
from flexctl.readiness.checklist import Readiness, Step
from flexctl.readiness.smoke import SMOKE_SCOPES, Outcome, SmokeResult, SmokeStep
from tests.commands.plan_helpers import ORG, Sandbox, make_sandbox, use_profile, with_faults

STEPS = ("gateway", "services", "customers", "bill_run", "automation", "storefront")


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


def check(sandbox: Sandbox, *args: str) -> tuple[int, dict[str, Any]]:
    result = sandbox.run("check", "--format", "json", *args)
    assert result.code != 1 or "smoke" in " ".join(args), result.err
    return result.code, json.loads(result.out)


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["status"] for step in data["steps"]}


def step(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["steps"] if s["name"] == name)


@contextmanager
def billing_client(sandbox: Sandbox) -> Iterator[FlexClient]:
    """A client allowed to read payment details and charges too."""
    app = create_app(str(sandbox.db), profile="full", orgs=(ORG,))
    target = resolve_target(sandbox.api_url, None, None, ORG, sandbox.root)
    try:
        scopes = (*profile_scopes(Profile.FULL), *SMOKE_SCOPES)
        with open_client(target, app=app, scopes=scopes) as client:
            yield client
    finally:
        app.store.close()


def live_counts(sandbox: Sandbox) -> dict[str, int]:
    with billing_client(sandbox) as client:
        counts = {k: len(list(client.list(k))) for k in ("members", "fees", "payments", "charges")}
        counts["smoke_members"] = len(client.find("members", {"properties[flexctl]": "smoke-test"}))
        counts["cards"] = sum(
            len(client.find("payment-details", {"member": m["_id"]}))
            for m in client.list("members")
        )
    return counts


# --- the checklist ---------------------------------------------------------------------------


def test_fresh_org_is_not_ready_and_says_to_apply(sandbox: Sandbox) -> None:
    code, data = check(sandbox)
    assert code == 2 and data["ready"] is False
    assert statuses(data) == {
        "gateway": "not_ready", "services": "not_ready", "customers": "not_ready",
        "bill_run": "ready",  # the example turns the bill run off until activation
        "automation": "not_ready", "storefront": "not_ready",
    }
    gateway = step(data, "gateway")
    assert "no payment gateway is connected" in gateway["missing"]
    assert gateway["fixes"] == ["run `flexctl apply`"]
    assert any(m.startswith("10 plans in the configuration not on the platform: plans.")
               for m in step(data, "services")["missing"])
    text = sandbox.run("check")
    assert text.code == 2
    assert "1. A payment gateway is connected" in text.out and "NOT READY" in text.out
    assert "Ready: 1 of 6 steps; 5 not ready." in text.out


def test_onboarding_account_is_the_bill_run_blocker(sandbox: Sandbox) -> None:
    sandbox.edit("invoicing.yaml", "automatic_bill_run: false", "automatic_bill_run: true")
    code, data = check(sandbox)
    assert code == 2
    bill_run = step(data, "bill_run")
    assert bill_run["status"] == "not_ready"
    assert bill_run["missing"] == [
        "the account status is Onboarding: the automatic bill run can only be enabled once "
        "the account is Active"]
    # On the sandbox the fix names the sandbox's own command, and that command works.
    (fix,) = bill_run["fixes"]
    assert fix.startswith("activate the sandbox's account with `flexctl emulator account "
                          "--status active ") and fix.endswith(", then run `flexctl apply`")
    assert "OfficeRnD" not in fix
    command = shlex.split(fix.split("`")[1])
    assert command[:5] == ["flexctl", "emulator", "account", "--status", "active"]
    assert main(command[1:]) == 0
    _, data = check(sandbox)
    assert step(data, "bill_run")["missing"] == ["the automatic bill run is off"]


def test_on_the_platform_the_bill_run_fix_is_onboarding_with_officernd() -> None:
    target = Target(api_url="https://app.officernd.com/api/v2", org=ORG,
                    profile=Profile.OFFICERND)
    assert activation_step(target, None) == (
        "finish onboarding with OfficeRnD so the account becomes Active")
    served = Target(api_url="http://127.0.0.1:8765/api/v2", org=ORG, profile=Profile.FULL)
    assert activation_step(served, None) == (
        "activate the emulator's account with `curl -X PUT "
        f"http://127.0.0.1:8765/_emulator/organizations/{ORG}/account "
        "-H 'Content-Type: application/json' -d '{\"status\": \"active\"}'`")


def test_half_configured_org(sandbox: Sandbox) -> None:
    sandbox.seed()
    with sandbox.client() as client:
        for gateway in client.list("payment-gateways"):
            client.delete("payment-gateways", gateway["_id"])
        client.put_singleton("storefront", {"enabled": False})
        client.put_singleton("invoicing-settings", {"automaticSending": False})
    code, data = check(sandbox)
    assert code == 2
    assert statuses(data) == {
        "gateway": "not_ready", "services": "ready", "customers": "ready", "bill_run": "ready",
        "automation": "not_ready", "storefront": "not_ready",
    }
    assert step(data, "automation")["missing"] == [
        "automatic sending of invoices is off, should be on"]
    assert "the storefront differs from the configuration" in step(data, "storefront")["missing"]


def test_complete_org_is_ready(sandbox: Sandbox) -> None:
    sandbox.seed()
    code, data = check(sandbox)
    assert code == 0, data
    assert set(statuses(data).values()) == {"ready"} and data["ready"] is True
    assert step(data, "gateway")["found"] == [
        "stripe-main (stripe, default; connected)", "bank-transfer (bank_transfer; connected)"]
    assert "Ready: 6 of 6 steps." in sandbox.run("check").out


def test_without_a_config_the_generic_fix_is_given(sandbox: Sandbox) -> None:
    for name in ("gateways.yaml", "invoicing.yaml", "storefront.yaml"):
        (sandbox.root / name).unlink()
    _, data = check(sandbox)
    assert step(data, "gateway")["fixes"][0].startswith("add one under `gateways:`")
    assert "set `invoicing.automatic_sending: true` and run `flexctl apply`" in (
        step(data, "automation")["fixes"])
    assert step(data, "storefront")["fixes"][0].startswith("add `storefront: {enabled: true")


def test_officernd_profile_cannot_verify_what_it_does_not_expose(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.seed()
    use_profile(monkeypatch, "officernd")
    code, data = check(sandbox)
    assert code == 0, data  # what cannot be verified does not count as not ready
    assert statuses(data) == {
        "gateway": "cannot_verify", "services": "ready", "customers": "ready",
        "bill_run": "cannot_verify", "automation": "cannot_verify", "storefront": "cannot_verify",
    }
    gateway = step(data, "gateway")
    assert gateway["why"] == "the OfficeRnD public API does not expose payment gateways"
    assert gateway["where"] == "Settings > Integrations > Payment Gateways"
    assert step(data, "storefront")["where"] == "Growth Hub > Settings"
    assert "Ready: 2 of 6 steps; 4 cannot be verified on this target." in sandbox.run("check").out


def test_officernd_half_configured_org(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.seed()
    with sandbox.client() as client:  # full profile: what an admin did in the portal
        day_pass = next(p for p in client.list("plans") if p["name"] == "Day Pass")
        for fee in client.find("fees", {"plan": day_pass["_id"]}):
            client.delete("fees", fee["_id"])
        client.delete("plans", day_pass["_id"])
    use_profile(monkeypatch, "officernd")
    code, data = check(sandbox)
    assert code == 2
    assert statuses(data) == {
        "gateway": "cannot_verify", "services": "not_ready", "customers": "not_ready",
        "bill_run": "cannot_verify", "automation": "cannot_verify", "storefront": "cannot_verify",
    }
    services = step(data, "services")
    assert services["missing"] == [
        "1 plan in the configuration not on the platform: plans.day-pass"]
    assert services["fixes"] == [
        "create them in the admin portal (Billing > Plans); the public API cannot create them"]
    customers = step(data, "customers")
    assert [m.split(":")[0] for m in customers["missing"]] == [
        "1 fee in the configuration not on the platform"]
    assert customers["fixes"] == ["run `flexctl apply`"]


def test_officernd_fresh_org_says_where_plans_are_created(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_profile(monkeypatch, "officernd")
    code, data = check(sandbox)
    assert code == 2
    services = step(data, "services")
    assert services["status"] == "not_ready"
    assert services["fixes"] == [
        "create them in the admin portal (Billing > Plans); the public API cannot create them",
        "create them in the admin portal (Billing > Resource Rates); the public API cannot "
        "create them"]
    assert step(data, "customers")["fixes"] == ["run `flexctl apply`"]


# --- the smoke test --------------------------------------------------------------------------


def test_smoke_test_with_a_good_card_passes_and_leaves_nothing(sandbox: Sandbox) -> None:
    sandbox.seed()
    before = live_counts(sandbox)
    code, data = check(sandbox, "--smoke-test", "--amount", "1.50")
    assert code == 0, data
    smoke = data["smoke_test"]
    assert smoke["outcome"] == "passed" and smoke["left_behind"] == []
    assert [s["name"] for s in smoke["steps"]] == ["member", "card", "fee", "invoice", "payment"]
    assert "1.50 EUR" in smoke["steps"][2]["message"]
    assert smoke["steps"][4]["message"].startswith("collected 1.50 EUR through stripe acct_1")
    assert [s["ok"] for s in smoke["cleanup"]] == [True] * 4
    assert live_counts(sandbox) == before


def test_smoke_test_with_a_declining_card_reports_it_and_leaves_nothing(
    sandbox: Sandbox,
) -> None:
    sandbox.seed()
    before = live_counts(sandbox)
    result = sandbox.run("check", "--smoke-test", "--card", "tok_chargeDeclined")
    assert result.code == 2
    assert ("FAILED: the payment through stripe acct_1HarborWorks was declined: "
            "Your card was declined.") in result.out
    assert "Smoke test: the payment was declined: Your card was declined. Nothing was left " \
           "behind." in result.out
    assert live_counts(sandbox) == before
    _, data = check(sandbox, "--smoke-test", "--card", "tok_insufficientFunds")
    assert data["smoke_test"]["reason"] == (
        "the payment was declined: Your card has insufficient funds.")
    assert live_counts(sandbox) == before


def test_smoke_test_cleans_up_after_a_failing_step(sandbox: Sandbox) -> None:
    sandbox.seed()
    before = live_counts(sandbox)
    code, data = check(sandbox, "--smoke-test", "--card", "tok_bogus")
    assert code == 1
    smoke = data["smoke_test"]
    assert smoke["outcome"] == "failed" and "No such token: 'tok_bogus'" in smoke["reason"]
    assert [s["message"] for s in smoke["cleanup"]][-1].startswith("removed the test member")
    assert live_counts(sandbox) == before


def test_smoke_test_cleans_up_after_a_failure_once_the_invoice_exists(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.seed()
    before = live_counts(sandbox)
    with_faults(monkeypatch, {"fault": "500", "method": "POST", "path": "/collect$"})
    result = sandbox.run("check", "--smoke-test")
    assert result.code == 1
    assert "  ok: issued invoice INV-" in result.out
    assert "/collect: 500 Internal server error (injected fault). Nothing was left behind." \
        in result.out
    assert "cleanup ok: voided the invoice INV-" in result.out
    monkeypatch.undo()
    assert live_counts(sandbox) == before


def test_smoke_test_names_what_it_could_not_remove_and_fails(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.seed()
    before = live_counts(sandbox)
    with_faults(monkeypatch, {"fault": "500", "method": "DELETE", "path": "/members/"})
    code, data = check(sandbox, "--smoke-test")
    smoke = data["smoke_test"]
    assert smoke["outcome"] == "passed"
    assert code == 1, "a test member left on the live organization is not a clean pass"
    [left] = smoke["left_behind"]
    assert [s["ok"] for s in smoke["cleanup"]] == [True, True, True, False]
    monkeypatch.undo()
    with billing_client(sandbox) as client:
        [member] = client.find("members", {"properties[flexctl]": "smoke-test"})
    assert left == f"members/{member['_id']}"
    assert live_counts(sandbox) == {**before, "members": before["members"] + 1,
                                    "smoke_members": 1}


def test_smoke_test_interrupted_cleans_up_and_says_so(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.seed()
    before = live_counts(sandbox)

    def sandbox_app(target: Target) -> WSGIApplication:
        app = create_app(str(target.sandbox_db), profile="full", orgs=(target.org,))

        def interrupted_at_collect(
            environ: WSGIEnvironment, start_response: StartResponse
        ) -> Iterable[bytes]:
            if environ["PATH_INFO"].endswith("/collect"):
                raise KeyboardInterrupt  # Ctrl-C while the payment is being collected
            return app(environ, start_response)

        return interrupted_at_collect

    monkeypatch.setattr(target_module, "_sandbox_app", sandbox_app)
    result = sandbox.run("check", "--smoke-test")
    assert result.code != 0  # click turns Ctrl-C into an abort, whatever the command
    # The report never reaches stdout; each step, cleanup included, was shown as it happened.
    assert "smoke test: issued invoice INV-" in result.err
    assert "smoke test: cleanup: voided the invoice INV-" in result.err
    assert "smoke test: cleanup: removed the test member smoke-test+" in result.err
    monkeypatch.undo()
    assert live_counts(sandbox) == before


def test_smoke_test_is_not_run_without_a_stripe_gateway(sandbox: Sandbox) -> None:
    sandbox.seed()
    with sandbox.client() as client:
        for gateway in client.list("payment-gateways"):
            client.delete("payment-gateways", gateway["_id"])
    before = live_counts(sandbox)
    code, data = check(sandbox, "--smoke-test")
    assert code == 2  # the gateway step is not ready
    assert data["smoke_test"]["outcome"] == "not_run"
    assert "no default Stripe gateway is connected" in data["smoke_test"]["reason"]
    assert live_counts(sandbox) == before


def test_smoke_test_on_officernd_says_why_and_writes_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.seed()
    before = live_counts(sandbox)
    use_profile(monkeypatch, "officernd")
    result = sandbox.run("check", "--smoke-test")
    assert result.code == 0, result.err
    assert ("Smoke test not run: the OfficeRnD public API cannot create an invoice for a "
            "one-off charge") in result.out
    assert "Nothing was written." in result.out
    assert live_counts(sandbox) == before


def test_platform_text_in_the_report_cannot_drive_the_terminal() -> None:
    smoke = SmokeResult(Outcome.DECLINED, "the payment was declined: \x1b[2Jno",
                        steps=[SmokeStep("payment", False, "declined: \x1b[2Jno")])
    steps = [Step(1, "gateway", "A payment gateway is connected",
                  found=["stripe-x (\x1b[31mstripe; connected)"])]
    text = check_command.render_text(Readiness({"org": "x"}, steps), smoke)
    assert "\x1b" not in text and text.count(r"\x1b[2Jno") == 2 and r"\x1b[31mstripe" in text


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "1000", "1.001"])
def test_bad_amounts_are_usage_errors(sandbox: Sandbox, amount: str) -> None:
    sandbox.seed()
    result = sandbox.run("check", "--smoke-test", "--amount", amount)
    assert result.code == 64, result.err
