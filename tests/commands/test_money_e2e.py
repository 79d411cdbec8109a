"""Money in a plan, end to end on the emulator: the rich plan of `money_scenario` (every kind
of money change) with its exact figures as golden files (text, markdown, JSON) on the `full`
and the `officernd` profile."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from flexctl.kinds.base import Profile
from flexctl.platform.scopes import profile_scopes
from flexctl.sanitize import for_markdown
from tests.commands.money_scenario import AS_OF, rich
from tests.commands.plan_helpers import Sandbox, make_sandbox

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("FLEXCTL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (FLEXCTL_UPDATE_GOLDEN=1)"


def stable(sandbox: Sandbox, text: str) -> str:
    """The sandbox's path differs per run: name it once (as text, and as markdown shows it);
    so does the configuration's, in the confirm commands of manual steps."""
    for shown in (sandbox.api_url, for_markdown(sandbox.api_url)):
        text = text.replace(shown, "local:SANDBOX")
    return text.replace(str(sandbox.root), "CONFIG")


def plan_outputs(sandbox: Sandbox) -> tuple[int, str, str, dict[str, Any]]:
    text = sandbox.run("plan", "--detailed-exitcode", *AS_OF)
    markdown = sandbox.run("plan", "--format", "markdown", *AS_OF)
    raw = sandbox.run("plan", "--format", "json", *AS_OF)
    assert markdown.code == raw.code == 0, markdown.err + raw.err
    data = json.loads(stable(sandbox, raw.out))
    data["live_digest"] = "sha256:live"  # ids and timestamps differ per run
    return text.code, stable(sandbox, text.out), stable(sandbox, markdown.out), data


@pytest.fixture
def full(tmp_path: Path, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


@pytest.fixture
def officernd(tmp_path: Path, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(profile_scopes(Profile.OFFICERND)))
    return make_sandbox(tmp_path, capsys, monkeypatch, profile="officernd")


def money_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changes = data["changes"]
    assert isinstance(changes, list)
    return {c["address"]: c["money"] for c in changes}


@pytest.mark.slow
def test_rich_plan_on_the_full_profile(full: Sandbox) -> None:
    rich(full)
    code, text, markdown, data = plan_outputs(full)
    check_golden("money-full.txt", text)
    check_golden("money-full.md", markdown)
    check_golden("money-full.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    assert code == 3  # turning on payment collection moves money: blocked by default
    timeline = data["money"].pop("timeline")
    # Quay Studio's line ends 2027-11-30: 45.00 a month before, 275.00 after the plan
    assert [(m["month"], m["before"], m["after"]) for m in timeline
            if m["after"] != "3260.00"] == [("2027-12", "3005.00", "2985.00")]
    assert data["money"] == {
        "currency": "EUR", "as_of": "2027-01-15",
        "recurring_monthly": {"before": "3050.00", "after": "3260.00", "delta": "+210.00"},
        "one_off": {"added": "11.19", "removed": "15.00"},
        "customers_affected": 6,
        "customers": [
            {"address": "companies.acme", "monthly_before": "1750.00",
             "monthly_after": "420.00", "one_off": "0.00"},
            {"address": "companies.lighthouse-labs", "monthly_before": "780.00",
             "monthly_after": "1850.00", "one_off": "0.00"},
            {"address": "members.chen-wei", "monthly_before": "0.00", "monthly_after": "240.00",
             "one_off": "+11.16"},
            {"address": "companies.quay-studio", "monthly_before": "45.00",
             "monthly_after": "275.00", "one_off": "0.00"},
            {"address": "companies.tidewater", "monthly_before": "0.00",
             "monthly_after": "0.00", "one_off": "-15.00"},
            {"address": "members.liam-walsh", "monthly_before": "250.00",
             "monthly_after": "250.00", "one_off": "+0.03"},
        ],
        # The price cohorts the plan touches: live ones with how many of theirs it changes,
        # and the prices it brings memberships to (hot desk at the new plan price 275.00).
        "cohorts": [
            {"plan": plan, "monthly_price": price, "catalogue": catalogue, "count": count,
             "changed": changed, "joining": joining, "campaigns": [], "excepted": {}}
            for plan, price, catalogue, count, changed, joining in [
                ("dedicated-desk", "420.00", False, 0, 0, 1),
                ("dedicated-desk", "390.00", True, 2, 2, 0),
                ("hot-desk", "275.00", False, 0, 0, 1),
                ("hot-desk", "240.00", False, 0, 0, 1),
                ("private-office-4", "1850.00", True, 0, 0, 1),
                ("private-office-4", "1750.00", False, 1, 1, 0),
                ("virtual-office", "45.00", True, 1, 1, 0),
            ]
        ],
    }
    money = money_of(data)
    assert money["invoicing"]["effect"] == "moves_money_now"
    assert money["plans.hot-desk"]["note"] == (
        "price 250.00 -> 275.00 EUR: new memberships only; 2 live memberships of this plan "
        "keep their own price")
    assert money["members.chen-wei.memberships[hot-desk@2026-10-01]"]["retroactive"] == "+960.00"
    assert money["members.liam-walsh.fees[colour-printing@2026-12-04]"]["one_off"] == "+0.03"
    assert "x   policy.money.allow_money_movement" in text
    assert "Money (EUR, run-rate of memberships active on 2027-01-15):" in text


@pytest.mark.slow
def test_rich_plan_on_the_officernd_profile(officernd: Sandbox) -> None:
    rich(officernd)
    code, text, markdown, data = plan_outputs(officernd)
    check_golden("money-officernd.txt", text)
    check_golden("money-officernd.md", markdown)
    check_golden("money-officernd.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    assert code == 2  # the invoicing settings cannot be read there: a manual check, no block
    money = money_of(data)
    hot_desk = next(c for c in data["changes"]
                    if c["address"] == "plans.hot-desk")
    assert hot_desk["action"] == "manual"
    assert money["plans.hot-desk"]["note"].endswith(
        "2 live memberships of this plan keep their own price")
    assert money["invoicing"]["effect"] == "none"
    assert data["money"]["recurring_monthly"] == {
        "before": "3050.00", "after": "3260.00", "delta": "+210.00"}
