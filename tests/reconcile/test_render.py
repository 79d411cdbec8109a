"""The three renderings of a plan: golden files for one rich plan, and their rules."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from flexctl.kinds.base import Profile
from flexctl.reconcile.diff import diff
from flexctl.reconcile.money import MoneyOptions
from flexctl.reconcile.plan import Plan, SafetyPolicy, build_plan
from flexctl.reconcile.render import render_json, render_markdown, render_text
from tests.reconcile.reconcile_fakes import (
    KINDS,
    RANKS,
    TODAY,
    FakeSnapshot,
    group,
    live,
    obj,
    rich_plan_inputs,
)

GOLDEN = Path(__file__).parent.parent / "golden"
AS_OF = date(2027, 1, 15)  # the money summary's date: both acme memberships have started
TARGET = {"api_url": "local:.flexctl/sandbox.db", "org": "harbor-works", "profile": "officernd"}


def rich() -> Plan:
    desired, snapshot = rich_plan_inputs()
    result = diff(desired, snapshot, KINDS, profile=Profile.OFFICERND, prune=("fees",),
                  today=TODAY)
    return build_plan(result.changes, unmanaged=result.unmanaged, desired=desired,
                      live=snapshot.objects, ranks=RANKS, safety=SafetyPolicy(), target=TARGET,
                      config_digest="sha256:" + "c" * 64, money=MoneyOptions("EUR", AS_OF))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("FLEXCTL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (FLEXCTL_UPDATE_GOLDEN=1)"


def test_text_golden() -> None:
    check_golden("plan.txt", render_text(rich()))


def test_markdown_golden() -> None:
    check_golden("plan.md", render_markdown(rich()))


def test_json_golden() -> None:
    # The live digest depends on generated ids; pin it so the file is stable.
    data = json.loads(render_json(rich()))
    assert data["live_digest"].startswith("sha256:")
    data["live_digest"] = "sha256:live"
    check_golden("plan.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def test_json_follows_the_spec_shape() -> None:
    data = json.loads(render_json(rich()))
    assert list(data) == ["format_version", "flexctl_version", "target", "config_digest",
                          "live_digest", "summary", "money", "changes", "confirmed",
                          "notes"]
    assert data["format_version"] == "1.2"
    assert data["summary"]["unmanaged"] == {"members": 2}
    assert list(data["money"]) == ["currency", "as_of", "recurring_monthly", "one_off",
                                   "customers_affected", "customers", "cohorts",
                                   "timeline"]
    for change in data["changes"]:
        assert list(change) == ["address", "kind", "action", "reason", "changed_paths",
                                "before", "after", "instructions", "money"]
        assert list(change["money"]) == ["effect", "monthly_before", "monthly_after", "one_off",
                                         "retroactive", "note"]
    hot_desk = next(c for c in data["changes"] if c["address"] == "plans.hot-desk")
    assert hot_desk["before"] == {"price": "250.00"} and hot_desk["after"] == {"price": "230.00"}


def test_text_rules() -> None:
    text = render_text(rich())
    assert "price: 250.00 -> 230.00" in text
    assert "(1 unchanged field hidden)" in text or "unchanged fields hidden" in text
    assert "secret_key: (sensitive)" in text
    assert "4242" not in text
    summary = "Plan: 2 to create, 1 to update, 1 to delete, 1 to replace, 3 manual, 2 blocked."
    # The money block comes right after the summary line, and ends the text with the price
    # cohorts the plan touches.
    assert f"\n{summary}\n\nMoney (EUR, run-rate of memberships active on 2027-01-15):\n" in text
    assert "companies.acme  monthly 630.00 -> 780.00 (+150.00), one-off -4.00\n" in text
    assert text.rstrip().endswith(
        "  cohorts touched (plan at the monthly price paid; flexctl cohorts shows them all):\n"
        "    dedicated-desk at 400.00: 0 memberships, 1 joining\n"
        "    hot-desk at 250.00 (catalogue): 1 membership, 1 changed by this plan\n"
        "    hot-desk at 230.00: 0 memberships, 1 joining")
    assert "Unmanaged (not in the configuration, left untouched): 2 members." in text
    assert "\x1b[" not in text
    assert "\x1b[" in render_text(rich(), color=True)


def test_empty_plan_says_no_changes() -> None:
    snapshot = FakeSnapshot()
    result = diff({}, snapshot, KINDS, profile=Profile.FULL, today=TODAY)
    plan = build_plan(result.changes, unmanaged={}, desired={}, live={}, ranks=RANKS,
                      safety=SafetyPolicy(), target=TARGET, config_digest="sha256:x")
    assert "No changes. The live organization matches the configuration." in render_text(plan)
    assert "Plan:" not in render_text(plan)
    assert "No drift." in render_text(plan, drift=True)
    assert "No changes." in render_markdown(plan)


def test_drift_wording() -> None:
    text = render_text(rich(), drift=True)
    assert "Drift detected: 2 to create" in text
    assert "Plan:" not in text


def test_markdown_has_a_table_and_a_section_per_kind() -> None:
    md = render_markdown(rich())
    assert "| create | update | delete | replace | manual | blocked | unmanaged |" in md
    assert "| 2 | 1 | 1 | 1 | 3 | 2 | 2 |" in md
    for kind in ("gateways", "plans", "companies", "members", "memberships", "fees",
                 "invoicing"):
        assert f"<details><summary><b>{kind}</b>" in md
    assert md.count("<details>") == md.count("</details>") == 7
    assert "- [ ] 1. `gateways.stripe-main`: In the admin portal" in md


def test_create_shows_every_field() -> None:
    plan = build_plan(
        diff(group(obj("companies.acme", name="Acme", location="downtown")), FakeSnapshot(),
             KINDS, profile=Profile.FULL, today=TODAY).changes,
        unmanaged={}, desired={}, live={}, ranks=RANKS, safety=SafetyPolicy(), target=TARGET,
        config_digest="sha256:x")
    text = render_text(plan)
    assert '+   companies.acme\n        name: "Acme"\n        location: "downtown"' in text


def test_markdown_stays_within_a_pull_request_comment() -> None:
    members = [obj(f"members.m{i}", name=f"Member {i} " + "x" * 80, email=f"m{i}@x.example")
               for i in range(2000)]
    plans = [obj("plans.p", name="P <b>bold</b>")]
    desired = group(*members, *plans)
    result = diff(desired, FakeSnapshot(), KINDS, profile=Profile.OFFICERND, today=TODAY)
    plan = build_plan(result.changes, unmanaged={}, desired=desired, live={}, ranks=RANKS,
                      safety=SafetyPolicy(), target=TARGET, config_digest="sha256:x")
    md = render_markdown(plan)
    assert len(md) < 65_536
    assert "Not shown to fit a comment: changes to 2000 members" in md
    assert "create plan 'P \\<b\\>bold\\</b\\>'" in md  # shown, not rendered as HTML
    outside_code = md.split("```")[::2]  # text outside the code fences is rendered
    assert not any("<b>bold" in part for part in outside_code)


def test_control_characters_from_the_platform_are_not_printed() -> None:
    have = live("plans.p", name="Plan P", price=Decimal("1.00"))
    renamed = obj("plans.p", name="\x1b[31mRed", price=Decimal("2.00"))
    result = diff(group(renamed), FakeSnapshot(group(have)), KINDS, profile=Profile.OFFICERND,
                  today=TODAY)
    plan = build_plan(result.changes, unmanaged={}, desired={}, live={}, ranks=RANKS,
                      safety=SafetyPolicy(), target=TARGET, config_digest="sha256:x")
    text, md = render_text(plan), render_markdown(plan)
    assert "\x1b" not in text + md
    assert "\\x1b[31mRed" in text
    assert "\\\\x1b\\[31mRed" in md  # also inert as markdown: the backslash is escaped
