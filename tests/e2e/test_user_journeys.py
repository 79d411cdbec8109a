"""A new operator's journeys, end to end, as the README tells them: a small coworking space
configured from the format docs, applied to a served emulator with credentials from the
environment, secrets kept out of every output; JSON output that scripts can parse; usage
errors and unreachable servers answered with one clean line. Each journey runs in seconds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from flexctl.cli import main
from flexctl.emulator import create_app
from flexctl.emulator.serve import serve_background
from flexctl.platform import target as target_module
from flexctl.platform.client import FlexClient
from flexctl.platform.http import RetryPolicy, Timeouts
from flexctl.platform.target import Target

ORG = "little-desk"
STRIPE_KEY = "sk_test_journey_SECRET_9911"
GOCARDLESS_TOKEN = "live_gc_journey_TOKEN_5522"
CLIENT_SECRET = "client-secret-journey-7733"
SECRETS = (STRIPE_KEY, GOCARDLESS_TOKEN, CLIENT_SECRET, STRIPE_KEY[-12:], GOCARDLESS_TOKEN[-12:])

CONFIG = f"""\
# yaml-language-server: $schema=flexctl.schema.json
version: 1
organization: {ORG}
currency: EUR
locations:
  main: {{name: Little Desk Canal Street}}
gateways:
  stripe:
    provider: stripe
    account: acct_1LittleDesk
    secret_key: {{env: LITTLE_STRIPE_KEY}}
    default: true
  direct-debit:
    provider: gocardless
    account: gc_little
    access_token: {{file: secrets/gocardless.txt}}
plans:
  hot-desk: {{name: Hot Desk, billing: recurring, price: 180.00}}
  printing: {{name: Printing, billing: one_off, price: 0.0125}}
rates:
  meeting-room: {{name: Meeting Room, unit: hour, price: 25.00, off_hours_price: 15.00}}
companies:
  canal:
    name: Canal Studio
    email: billing@canal.example
    location: main
    memberships:
      - {{plan: hot-desk, start: 2027-02-01, price: 170.00}}
members:
  ada:
    name: Ada Quay
    email: ada@canal.example
    company: canal
    location: main
    billing_person: true
    fees:
      - {{plan: printing, date: 2027-02-03, quantity: 400}}
invoicing:
  automatic_bill_run: true
  automatic_sending: true
storefront:
  enabled: true
  plans: [printing]
  rates: [meeting-room]
"""


def write_config(root: Path) -> Path:
    (root / "secrets").mkdir(parents=True)
    (root / "secrets" / "gocardless.txt").write_text(GOCARDLESS_TOKEN + "\n", encoding="utf-8")
    (root / "flexctl.yaml").write_text(CONFIG, encoding="utf-8")
    return root


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLEXCTL_") or k == "FLEXCTL_CACHE_DIR"}  # the test's cache
    env.pop("NO_COLOR", None)
    return {**env, "LITTLE_STRIPE_KEY": STRIPE_KEY, **extra}


def cli(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """flexctl in a child process, as a user runs it: (exit code, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "flexctl", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret[:6]}... leaked"


def assert_one_clean_line(err: str) -> None:
    assert "Traceback" not in err and "Internal error" not in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_served_emulator_journey_keeps_secrets_and_converges(tmp_path: Path) -> None:
    """validate → plan -o → apply PLANFILE → apply (no-op) → plan and drift clean, over HTTP
    with the client credentials from the environment, --debug logging every request."""
    root = write_config(tmp_path / "little-desk")
    app = create_app(None, profile="full", orgs=(ORG,), client_secret=CLIENT_SECRET)
    app.store.set_account_status(ORG, "active")
    with serve_background(app) as url:
        env = clean_env(FLEXCTL_API_URL=f"{url}/api/v2", FLEXCTL_CLIENT_ID="emulator",
                        FLEXCTL_CLIENT_SECRET=CLIENT_SECRET, HOME=str(tmp_path / "home"))
        outputs: list[str] = []

        def run(*args: str) -> tuple[int, str, str]:
            code, out, err = cli(root, env, "--debug", *args)
            outputs.extend((out, err))
            return code, out, err

        assert cli(root, env, "validate")[0] == 0
        code, out, err = run("plan", "-o", "plan.json")
        assert code == 0, err
        assert "(sensitive)" in out and "Plan: 10 to create, 2 to update" in out, out
        plan_file = (root / "plan.json").read_text(encoding="utf-8")
        outputs.append(plan_file)
        code, out, err = run("apply", "plan.json", "--format", "json")
        assert code == 0, err
        journal = json.loads(out)
        assert journal["ok"] and journal["summary"]["failed"] == 0, out
        assert journal["summary"]["applied"] == 12, out
        code, _, err = run("apply", "plan.json")
        assert code == 3 and "already applied" in err, err
        code, out, err = run("apply", "--auto-approve")
        assert code == 0 and "No changes." in out, out + err
        code, out, err = run("plan", "--detailed-exitcode")
        assert code == 0, out + err
        code, out, err = run("drift")
        assert code == 0 and "No drift." in out, out + err
    assert any("client_secret=(redacted)" in text for text in outputs)  # --debug did log
    assert_no_secret(*outputs)
    assert (tmp_path / "home" / ".flexctl" / "applied-plans").is_file()
    stored = [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*")
              if p.is_file() and p.name != "gocardless.txt"]
    assert_no_secret(*stored)


def test_json_output_is_pure_json_with_warnings_on_stderr(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripts pipe stdout into jq: with --format json nothing else may be on it, even when the
    Stripe key's variable is missing (a warning) and NO_COLOR is unset."""
    root = write_config(tmp_path / "little-desk")
    env = clean_env()
    del env["LITTLE_STRIPE_KEY"]
    for args, want in [
        (("validate", "--format", "json"), 0),
        (("plan", "--format", "json", "--detailed-exitcode"), 3),  # bill run while onboarding
        (("drift", "--format", "json"), 2),
        (("check", "--format", "json"), 2),
        # a new gateway whose key cannot be read is blocked, so nothing is written
        (("apply", "--auto-approve", "--format", "json", "--exclude-kinds", "invoicing"), 3),
    ]:
        code, out, err = cli(root, env, *args)
        assert code == want, (args, code, err)
        json.loads(out)  # the whole of stdout is one JSON document
        assert "\x1b[" not in out + err
        if args[0] != "validate":
            assert "LITTLE_STRIPE_KEY is not set" in err, err


@pytest.mark.parametrize("args", [
    ("plan", "--format", "yaml"),
    ("plan", "--target-kinds", "plan"),
    ("drift", "--exclude-kinds", "customers"),
    ("plan", "--read-rate", "fast"),
    ("plan", "-o", "plan.txt"),
    ("apply", "--parallelism", "0"),
    ("check", "--amount", "500"),
    ("validate", "--pedantic"),
])
def test_usage_errors_exit_64_never_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    root = write_config(tmp_path / "little-desk")
    assert main([*args, str(root)]) == 64
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Error:" in err, err


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("server", ["nothing listening", "never answers"])
def test_unreachable_server_is_one_line_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    """The retries are made time-free and the timeouts short; what is checked is what the user
    sees once they are spent: one line naming the request, exit 1, no traceback."""
    root = write_config(tmp_path / "little-desk")
    real_open = target_module.open_client

    def quick(target: Target, **kwargs: Any) -> FlexClient:
        return real_open(target, timeouts=Timeouts(connect=0.5, read=0.5),
                         retry=RetryPolicy(attempts=2), sleep=lambda _s: None, **kwargs)

    monkeypatch.setattr(target_module, "open_client", quick)
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "emulator")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("LITTLE_STRIPE_KEY", STRIPE_KEY)
    with silent_server() as silent:
        port = free_port() if server == "nothing listening" else silent
        code = main(["plan", str(root), "--api-url", f"http://127.0.0.1:{port}/api/v2"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert_one_clean_line(err)
    assert err.startswith("Error: POST /oauth/token: "), err
    assert_no_secret(err)


# Findings of the user's-eye audit, each fixed since: kept so they stay fixed.


def test_ctrl_c_during_plan_exits_130(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_config(tmp_path / "little-desk")

    def interrupted(*_args: object, **_kwargs: object) -> NoReturn:
        raise KeyboardInterrupt

    monkeypatch.setattr("flexctl.session.make_plan", interrupted)
    monkeypatch.setenv("LITTLE_STRIPE_KEY", STRIPE_KEY)
    assert main(["plan", str(root)]) == 130


def test_emulator_serve_on_a_busy_port_is_a_usage_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        code: int | str | None  # main's exit code, or SystemExit's
        try:
            code = main(["emulator", "serve", "--port", str(busy.getsockname()[1])])
        except SystemExit as exc:
            code = exc.code
    assert code == 64
    assert_one_clean_line(capsys.readouterr().err)


def test_malformed_api_url_is_a_clean_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_config(tmp_path / "little-desk")
    code = main(["plan", str(root), "--api-url", "http://[::1/api/v2"])
    assert code in (1, 64)
    assert_one_clean_line(capsys.readouterr().err)


def test_export_next_step_hint_plans_empty_on_the_sandbox(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    space = write_config(tmp_path / "little-desk")
    monkeypatch.setenv("LITTLE_STRIPE_KEY", STRIPE_KEY)
    monkeypatch.chdir(space)
    assert main(["apply", "--auto-approve", "--exclude-kinds", "invoicing"]) == 0
    capsys.readouterr()
    assert main(["export", "--org", ORG, "-o", str(tmp_path / "exported")]) == 0
    hint = capsys.readouterr().err.split("Next: ")[1].split(" (expect")[0]
    plan_args = hint.split(" && ")[1].split()[1:]  # "flexctl plan OUT ..."
    assert main([*plan_args, "--detailed-exitcode"]) == 0, capsys.readouterr().out


def test_impossible_date_names_its_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_config(tmp_path / "little-desk")
    config = root / "flexctl.yaml"
    config.write_text(CONFIG.replace("start: 2027-02-01", "start: 2027-02-30"), encoding="utf-8")
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert "flexctl.yaml:28:" in err and "companies.canal.memberships[0].start:" in err, err
