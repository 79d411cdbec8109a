"""Interrupting a large `flexctl apply` midway, then running it again: it converges, and no
object exists twice. SIGKILL can land between a write's commit and its answer; Ctrl-C (SIGINT)
lets the writes in flight finish, prints the journal and exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flexctl.emulator import Emulator
from tests.e2e.served import FAST, Generated, assert_exactly_declared, flexctl, served

CONFIG = Generated(companies=150)  # 450 creates: 150 companies, members and memberships
MIDWAY = 150  # writes made before the signal


def interrupt_midway(
    app: Emulator, url: str, root: Path, signum: int, log: Path
) -> subprocess.Popen[str]:
    """Run `flexctl apply --format json` in a child process and send it `signum` once it
    has made MIDWAY writes; returns the finished child (its stdout not yet read). Its stderr
    (the plan, then progress) goes to `log`: a pipe nobody reads while it runs would fill up
    and stop it before its first write."""
    # Slow writes a little so that the signal lands while many are in flight.
    app.faults.configure([{"fault": "latency", "latency_ms": 30, "method": "POST"}])
    with log.open("w", encoding="utf-8") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "flexctl", "apply", str(root), "--auto-approve",
             "--format", "json", "--api-url", f"{url}/api/v2", *FAST],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=dict(os.environ),
            # A shell running pytest in the background ignores SIGINT; children inherit that.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        deadline = time.monotonic() + 30
        while app.stats.writes < MIDWAY and child.poll() is None:
            assert time.monotonic() < deadline, "the apply never got going"
            time.sleep(0.005)
        assert child.poll() is None, "apply finished before the signal"
        child.send_signal(signum)
    except BaseException:
        child.kill()
        raise
    return child


def rerun_converges(
    capsys: pytest.CaptureFixture[str], app: Emulator, url: str, root: Path
) -> None:
    app.faults.clear()
    api = ("--api-url", f"{url}/api/v2", *FAST)
    code, _, err = flexctl(capsys, "apply", str(root), "--auto-approve", *api)
    assert code == 0, err
    code, _, err = flexctl(capsys, "plan", str(root), "--detailed-exitcode", *api)
    assert code == 0, err
    assert_exactly_declared(url, CONFIG)


@pytest.mark.slow
def test_apply_killed_midway_converges_on_the_next_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = CONFIG.write(tmp_path / "config")
    with served(monkeypatch) as (app, url):
        child = interrupt_midway(app, url, root, signal.SIGKILL, tmp_path / "stderr")
        child.communicate(timeout=10)
        assert child.returncode == -signal.SIGKILL
        written = app.stats.writes
        assert MIDWAY <= written < 3 * CONFIG.companies, written
        rerun_converges(capsys, app, url, root)


@pytest.mark.slow
def test_apply_interrupted_with_ctrl_c_reports_and_converges_on_the_next_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = CONFIG.write(tmp_path / "config")
    with served(monkeypatch) as (app, url):
        child = interrupt_midway(app, url, root, signal.SIGINT, tmp_path / "stderr")
        out, _ = child.communicate(timeout=30)
        err = (tmp_path / "stderr").read_text(encoding="utf-8")
        assert child.returncode == 130, err
        assert "Traceback" not in err
        assert "Interrupted: run apply again to finish" in err
        journal = json.loads(out)  # stdout is the journal alone, even when interrupted
        written = app.stats.writes
        assert MIDWAY <= written < 3 * CONFIG.companies, written
        counts = journal["summary"]
        assert counts["applied"] == written and counts["failed"] == 0
        not_started = [c for c in journal["changes"]
                       if c["message"] == "not started: apply was interrupted"]
        assert len(not_started) == counts["skipped"] == 3 * CONFIG.companies + 2 - written
        rerun_converges(capsys, app, url, root)
