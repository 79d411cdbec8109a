"""The real platform's manual steps, end to end (issue 15's "done when"): on a served
`officernd` emulator whose catalogue was made in the admin portal, apply creates the customers,
exits 2 with `--detailed-exitcode` and lists what is left with a `flexctl confirm` command
each; once confirmed, drift and plan are clean and check shows who confirmed what; a changed
gateway brings its manual step back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.portal import portal

UNREADABLE = ["gateways.bank-transfer", "gateways.stripe-main", "invoicing", "storefront"]
pytestmark = pytest.mark.slow


def test_manual_steps_are_confirmed_and_come_back_when_the_configuration_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with portal(tmp_path, capsys, monkeypatch) as p:
        root = str(p.root)
        code, out, err = p.run("apply", root, "--auto-approve", "--detailed-exitcode")
        assert code == 2, err
        left = out[out.index("Left to do by hand (4 manual steps):"):]
        for address in UNREADABLE:
            assert f"then record it: flexctl confirm {address} --config {root}" in left
        assert "Apply: 23 applied, 0 failed, 0 skipped, 4 manual." in out

        code, out, err = p.run("plan", root, "--detailed-exitcode", "--format", "markdown")
        assert code == 2, err
        tasks = [line for line in out.splitlines() if line.startswith("- [ ] ")]
        assert len(tasks) == 4
        assert tasks[1].startswith("- [ ] 2. `gateways.stripe-main`: In the admin portal, "
                                   "Settings \\> Integrations \\> Payment Gateways: ")
        assert tasks[1].endswith(f"Then: `flexctl confirm gateways.stripe-main --config {root}`")

        code, out, err = p.run("confirm", "--all", "--config", root, target=False)
        assert code == 0, err
        assert "gateways.stripe-main: confirmed by Jane Doe <jane@example.com> on " in out

        code, out, err = p.run("drift", root)
        assert code == 0, out + err
        assert "No drift." in out and "gateways.stripe-main: confirmed by Jane Doe" in out
        code, out, err = p.run("plan", root, "--detailed-exitcode", "--format", "json")
        assert code == 0, err
        assert [c["address"] for c in json.loads(out)["confirmed"]] == UNREADABLE

        code, out, err = p.run("check", root, "--format", "json")
        steps = {s["name"]: s for s in json.loads(out)["steps"]}
        assert code == 0, out + err
        assert all(steps[n]["status"] == "ready" for n in ("gateway", "automation", "storefront"))
        assert any("stripe-main (stripe, default; confirmed by Jane Doe <jane@example.com> on "
                   in line for line in steps["gateway"]["found"])

        p.edit("gateways.yaml", "quoting the invoice number.", "quoting the invoice.")
        code, out, err = p.run("drift", root, "--format", "json")
        assert code == 2, err
        changes = json.loads(out)["changes"]
        assert [(c["address"], c["action"]) for c in changes] == [
            ("gateways.bank-transfer", "manual")]
        assert "confirmed by Jane Doe <jane@example.com> on " in changes[0]["reason"]
        assert "for an earlier configuration: it changed since" in changes[0]["reason"]
        code, out, err = p.run("check", root)
        assert "1. A payment gateway is connected" in out and "CANNOT VERIFY" in out
