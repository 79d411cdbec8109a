"""Ctrl-C during a paced run: the first press says within a second what apply waits for and
starts nothing new; a second stops at once, and the journal file holds every outcome known;
a paced plan stops at once too."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.served import Generated, served

CONFIG = Generated(companies=40)  # 120 creates
# A burst of 15 writes, then one a second: the workers wait on the pacer when Ctrl-C comes.
PACED = ("--read-rate", "100000/min", "--write-rate", "1/s")


def start(args: list[str]) -> tuple[subprocess.Popen[str], queue.Queue[tuple[float, str]]]:
    """The CLI in a child process; its stderr lines arrive on a queue with their time."""
    child = subprocess.Popen(
        [sys.executable, "-m", "flexctl", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        # A shell running pytest in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            lines.put((time.monotonic(), line))

    threading.Thread(target=read, daemon=True).start()
    return child, lines


def wait_for(lines: queue.Queue[tuple[float, str]], text: str, timeout: float) -> float:
    """When a stderr line containing `text` arrived."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no line with {text!r} within {timeout} s"
        try:
            when, line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if text in line:
            return when


def writes_reach(app: Any, count: int, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while app.stats.writes < count:
        assert child.poll() is None, "apply ended before the interrupt"
        assert time.monotonic() < deadline, "the apply never got going"
        time.sleep(0.01)


@pytest.mark.slow
def test_first_ctrl_c_says_what_it_waits_for_and_a_second_stops_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = CONFIG.write(tmp_path / "config")
    with served(monkeypatch) as (app, url):
        child, lines = start(["apply", str(root), "--auto-approve", "--format", "json",
                              "--api-url", f"{url}/api/v2", *PACED])
        writes_reach(app, 16, child)
        pressed = time.monotonic()
        child.send_signal(signal.SIGINT)
        said = wait_for(lines, "Interrupted: starting nothing new", timeout=5)
        assert said - pressed < 1.0, said - pressed
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=5)
        stopped = time.monotonic()
        assert child.returncode == 130
        assert stopped - pressed < 3.0, stopped - pressed
        written = app.stats.writes
        assert written < 3 * CONFIG.companies
    journals = list((root / ".flexctl" / "journals").glob("apply-*.jsonl"))
    assert len(journals) == 1
    entries = [json.loads(line) for line in journals[0].read_text(encoding="utf-8").splitlines()]
    applied = [e for e in entries if e["status"] == "applied"]
    # Every write the server made is either journaled as applied or was in flight when the
    # second Ctrl-C left it behind (at most the workers' number).
    assert written - 8 <= len(applied) <= written


@pytest.mark.slow
def test_ctrl_c_during_a_paced_plan_exits_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = CONFIG.write(tmp_path / "config")
    with served(monkeypatch) as (app, url):
        app.faults.configure([])
        child, _ = start(["plan", str(root), "--api-url", f"{url}/api/v2",
                          "--read-rate", "1/s"])
        deadline = time.monotonic() + 30
        while app.stats.reads < 2:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.01)
        pressed = time.monotonic()
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=10)
        assert child.returncode == 130
        assert time.monotonic() - pressed < 2.0
