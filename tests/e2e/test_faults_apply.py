"""Apply under injected faults, over loopback: a large generated configuration converges.

The emulator is served on a free loopback port with 10% 500s, 5% 429s (Retry-After 0) and 3%
commit-then-drop on every write. After at most three runs of `flexctl apply` the plan is empty
and the emulator holds exactly the declared objects: no duplicate, nothing missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.served import FAST, WRITE_FAULTS, Generated, assert_exactly_declared, flexctl, served


@pytest.mark.slow
def test_large_apply_under_write_faults_converges_without_duplicates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    before, after = Generated(companies=110), Generated(companies=300, updated=110)
    with served(monkeypatch) as (app, url):
        api = ("--api-url", f"{url}/api/v2", *FAST)
        root = before.write(tmp_path / "config")
        code, _, err = flexctl(capsys, "apply", str(root), "--auto-approve", *api)
        assert code == 0, err
        after.write(root)
        code, out, _ = flexctl(capsys, "plan", str(root), "--format", "json", *api)
        summary = json.loads(out)["summary"]
        assert summary["create"] >= 500 and summary["update"] >= 200, summary
        app.faults.configure({"rules": WRITE_FAULTS, "retry_after": 0, "seed": 11})
        codes = []
        for _ in range(3):
            code, out, err = flexctl(capsys, "apply", str(root), "--auto-approve", "--format",
                                     "json", *api)
            codes.append(code)
            assert code in (0, 1), err
            if code == 0:
                break
        fired = {rule.fault: 0 for rule in app.faults.rules}
        for rule in app.faults.rules:
            fired[rule.fault] += rule.fired
        assert min(fired.values()) > 0, fired  # every kind of fault really happened
        app.faults.clear()
        code, _, err = flexctl(capsys, "plan", str(root), "--detailed-exitcode", *api)
        assert code == 0, (codes, err)
        assert_exactly_declared(url, after)
