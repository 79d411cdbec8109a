"""`flexctl plan` / `flexctl drift` options, formats, exit codes and secrets."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import pytest

from flexctl.cli import main
from flexctl.commands.options import use_color
from flexctl.reconcile.saved_plan import load_planfile
from tests.commands.plan_helpers import STRIPE_ENV, STRIPE_KEY, Sandbox, make_sandbox

GC_TOKEN = "gc_live_AccessTokenFromAFile_5521"


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


def add_file_secret_gateway(sandbox: Sandbox, token: str = GC_TOKEN) -> None:
    (sandbox.root / "secrets").mkdir(exist_ok=True)
    (sandbox.root / "secrets" / "gc.token").write_text(token + "\n")
    sandbox.edit("gateways.yaml", "gateways:\n", (
        "gateways:\n  gocardless:\n    provider: gocardless\n    account: CR000123\n"
        "    access_token: {file: secrets/gc.token}\n    locations: [riverside]\n"))


@pytest.mark.parametrize("option", ["--target-kinds", "--exclude-kinds"])
def test_unknown_kind_is_a_usage_error_64(sandbox: Sandbox, option: str) -> None:
    result = sandbox.run("plan", option, "plans,widgets")
    assert result.code == 64
    assert "unknown kind 'widgets'" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("option", ["--target-kinds", "--exclude-kinds"])
def test_empty_kind_list_is_a_usage_error_64(sandbox: Sandbox, option: str) -> None:
    result = sandbox.run("plan", option, "")
    assert result.code == 64
    assert "(none given)" in result.err


def test_bad_format_is_a_usage_error_64(sandbox: Sandbox) -> None:
    assert sandbox.run("plan", "--format", "yaml").code == 64
    assert sandbox.run("drift", "--bogus").code == 64


def test_target_kinds_limits_the_plan(sandbox: Sandbox) -> None:
    result = sandbox.run("plan", "--format", "json", "--target-kinds", "members")
    kinds = {c["kind"] for c in json.loads(result.out)["changes"]}
    assert kinds == {"members"}
    result = sandbox.run("plan", "--format", "json", "--exclude-kinds", "members,fees")
    kinds = {c["kind"] for c in json.loads(result.out)["changes"]}
    assert "members" not in kinds and "fees" not in kinds and "plans" in kinds


def test_json_stdout_is_only_json_and_warnings_go_to_stderr(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STRIPE_ENV)
    result = sandbox.run("plan", "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["format_version"] == "1.2"
    assert data["target"]["profile"] == "full"
    assert f"environment variable {STRIPE_ENV} is not set" in result.err


def test_markdown_format(sandbox: Sandbox) -> None:
    result = sandbox.run("plan", "--format", "markdown")
    assert result.code == 0
    assert "<details><summary><b>plans</b>: 10 create</summary>" in result.out


def test_plan_file_is_written_and_loadable(sandbox: Sandbox, tmp_path: Path) -> None:
    assert sandbox.run("plan", "-o", str(tmp_path / "harbor.plan")).code == 64
    out = tmp_path / "harbor-plan.json"
    result = sandbox.run("plan", "-o", str(out), "--format", "json", "--target-kinds", "plans")
    assert result.code == 0
    json.loads(result.out)  # stdout is still only the JSON plan
    assert f"Saved the plan to {out}" in result.err
    saved = load_planfile(out)
    assert saved.target["org"] == "harbor-works"
    assert saved.config_path == str(sandbox.root.resolve())
    assert saved.objects["plans.hot-desk"] is None  # created: must not exist at apply time
    assert saved.document["kinds"] == ["plans"]


def test_a_saved_plan_with_blocked_changes_is_not_offered_to_apply(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.edit("invoicing.yaml", "automatic_bill_run: false", "automatic_bill_run: true")
    out = tmp_path / "blocked-plan.json"
    result = sandbox.run("plan", "-o", str(out))
    assert result.code == 0 and out.exists()
    assert (f"Saved the plan to {out}; apply will refuse it while 1 change is blocked: "
            "resolve it, then make a new plan") in result.err
    assert "flexctl apply" not in result.err


def test_a_saved_plan_given_as_the_config_is_a_usage_error(sandbox: Sandbox,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert sandbox.run("plan", "-o", str(out)).code == 0
    for command in ("plan", "drift"):
        sandbox.capsys.readouterr()
        assert main([command, str(out)]) == 64
        err = sandbox.capsys.readouterr().err
        assert f"{out} is a saved plan" in err and "flexctl apply" in err
        assert "unknown key" not in err


def test_drift_exit_codes_and_wording(sandbox: Sandbox) -> None:
    result = sandbox.run("drift")
    assert result.code == 2
    assert "Drift detected: 43 to create" in result.out
    sandbox.seed()
    result = sandbox.run("drift")
    assert result.code == 0
    assert "No drift. The live organization matches the configuration." in result.out


def test_no_secret_in_any_output_file_or_debug_log(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_file_secret_gateway(sandbox)
    sandbox.seed()
    # Rotate both secrets so the plan has to show (and hide) a secret change.
    new_stripe, new_gc = "sk_live_RotatedStripeKey_1234", "gc_live_RotatedToken_7788"
    (sandbox.root / "secrets" / "gc.token").write_text(new_gc)
    monkeypatch.setenv(STRIPE_ENV, new_stripe)
    caplog.set_level(logging.DEBUG)
    outputs = []
    for fmt in ("text", "json", "markdown"):
        result = sandbox.run("--debug", "plan", "--format", fmt, "-o", str(tmp_path / "p.json"))
        assert result.code == 0, result.err
        outputs += [result.out, result.err, (tmp_path / "p.json").read_text()]
    drift = sandbox.run("--debug", "drift")
    assert any(r.name == "flexctl.http" for r in caplog.records), "no debug log captured"
    outputs += [drift.out, drift.err, caplog.text]
    text = "\n".join(outputs)
    assert "gateways.stripe-main" in text and "secret_key: (sensitive) -> (sensitive)" in text
    assert "access_token: (sensitive) -> (sensitive)" in text
    for secret in (STRIPE_KEY, GC_TOKEN, new_stripe, new_gc):
        assert secret not in text
        assert secret[:-4] not in text


def test_saved_plan_applies_then_the_plan_is_empty(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_status("active")
    out = tmp_path / "plan.json"
    assert sandbox.run("plan", "-o", str(out)).code == 0
    sandbox.capsys.readouterr()
    assert main(["apply", str(out), "--api-url", sandbox.api_url]) == 0, (
        sandbox.capsys.readouterr().err)
    result = sandbox.run("plan", "--detailed-exitcode")
    assert result.code == 0, result.out


@pytest.mark.parametrize(("tty", "no_color", "expected"),
                         [(True, None, True), (True, "1", False), (False, None, False)])
def test_colour_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, no_color: str | None, expected: bool
) -> None:
    class Stdout(io.StringIO):
        def isatty(self) -> bool:
            return tty

    monkeypatch.setattr(sys, "stdout", Stdout())
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert use_color() is expected


@pytest.mark.parametrize(("value", "reason"), [
    ("2027-02-30", "'2027-02-30' is not a calendar day"),
    ("15/01/2027", "'15/01/2027' is not a date written YYYY-MM-DD"),
])
def test_a_bad_as_of_date_is_a_usage_error_saying_why(
    sandbox: Sandbox, value: str, reason: str
) -> None:
    result = sandbox.run("plan", "--as-of", value)
    assert result.code == 64
    assert f"Invalid value for '--as-of': {reason}" in result.err
