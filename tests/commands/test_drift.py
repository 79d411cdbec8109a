"""`flexctl drift`: the plan engine worded as drift; exit 0 in sync, 2 drift, never 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands.plan_helpers import Sandbox, make_sandbox


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    sandbox.seed()
    return sandbox


def test_in_sync(sandbox: Sandbox) -> None:
    result = sandbox.run("drift")
    assert result.code == 0
    assert "No drift. The live organization matches the configuration." in result.out


def test_deleted_in_the_emulator_is_drift_to_create(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        fee = next(f for f in client.list("fees") if f["quantity"] == 120)
        client.delete("fees", fee["_id"])
    result = sandbox.run("drift", "--format", "json")
    assert result.code == 2
    changes = json.loads(result.out)["changes"]
    assert [(c["address"], c["action"]) for c in changes] == [
        ("companies.acme.fees[printing@2026-12-03]", "create")]


def test_blocked_changes_are_drift_not_exit_3(sandbox: Sandbox) -> None:
    sandbox.set_status("onboarding")
    sandbox.edit("invoicing.yaml", "automatic_bill_run: false", "automatic_bill_run: true")
    result = sandbox.run("drift")
    assert result.code == 2
    assert "x   invoicing" in result.out
    assert "Drift detected: 0 to create, 0 to update, 0 to delete, 0 to replace, 0 manual, " \
           "1 blocked." in result.out


def test_drift_does_not_apply_the_safety_ratio(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        plans = list(client.list("plans"))
        assert len(plans) == 10
        for doc in plans[:5]:  # 5 of 10: above max_change_ratio 0.3
            client.update("plans", doc["_id"], {"price": 1})
    plan = sandbox.run("plan", "--format", "json", "--detailed-exitcode")
    assert plan.code == 3  # plan blocks it ...
    result = sandbox.run("drift", "--format", "json")
    assert result.code == 2  # ... drift only reports it
    actions = [c["action"] for c in json.loads(result.out)["changes"]]
    assert actions == ["update"] * 5


def test_drift_markdown(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        member = next(m for m in client.list("members") if m["email"] == "omar@acme.example")
        client.update("members", member["_id"], {"name": "Omar H."})
    result = sandbox.run("drift", "--format", "markdown")
    assert result.code == 2
    assert result.out.startswith("### Drift check for organization harbor-works")
    assert "**Drift detected: 0 to create, 1 to update" in result.out
