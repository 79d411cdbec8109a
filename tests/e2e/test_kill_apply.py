"""SIGKILL in the middle of a large `flexctl apply`, then run it again: it converges, and no
object exists twice (a kill can land between a write's commit and its answer)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_faults_apply import FAST, Generated, assert_exactly_declared, flexctl, served


@pytest.mark.slow
def test_apply_killed_midway_converges_on_the_next_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = Generated(companies=150)
    root = config.write(tmp_path / "config")
    # Slow writes a little so that the kill lands while many are in flight.
    with served(monkeypatch) as (app, url):
        app.faults.configure([{"fault": "latency", "latency_ms": 30, "method": "POST"}])
        api = ("--api-url", f"{url}/api/v2", *FAST)
        child = subprocess.Popen(
            [sys.executable, "-m", "flexctl", "apply", str(root), "--auto-approve", *api],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ),
        )
        try:
            deadline = time.monotonic() + 30
            while app.stats.writes < 150 and child.poll() is None:
                assert time.monotonic() < deadline, "the apply never got going"
                time.sleep(0.005)
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=10) == -signal.SIGKILL, "apply finished before the kill"
        finally:
            if child.poll() is None:
                child.kill()
        written = app.stats.writes
        assert 150 <= written < 3 * config.companies, written
        app.faults.clear()
        code, _, err = flexctl(capsys, "apply", str(root), "--auto-approve", *api)
        assert code == 0, err
        code, _, err = flexctl(capsys, "plan", str(root), "--detailed-exitcode", *api)
        assert code == 0, err
        assert_exactly_declared(url, config)
