"""`flexctl cohorts` end to end on the emulator: harbor-works seeded, plus memberships the
configuration does not declare (an older grandfathered price, one that ended, one that starts
later), reported exactly (golden files for text, markdown and JSON) on both profiles, and its
errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flexctl.kinds.base import Profile
from flexctl.platform.scopes import profile_scopes
from tests.commands.plan_helpers import Sandbox, make_sandbox
from tests.commands.test_money_e2e import check_golden, stable

AS_OF = ("--as-of", "2027-01-15")


def by_name(sandbox: Sandbox, path: str, name: str) -> str:
    return str(next(d["_id"] for d in sandbox.live(path) if d["name"] == name))


def seeded(sandbox: Sandbox) -> None:
    """harbor-works as configured, and three memberships outside the configuration: Nora Quinn
    (not declared) on hot desk at the old 225.00 since 2025-06-01, Tidewater's hot desk that
    ended on 2026-12-31, and Quay Studio's dedicated desk from 2027-03-01; then a hot desk
    campaign that excepts Sofia Rossi (225.00) is added to the configuration."""
    sandbox.seed()
    hot_desk = by_name(sandbox, "plans", "Hot Desk")
    desk = by_name(sandbox, "plans", "Dedicated Desk")
    downtown = by_name(sandbox, "locations", "Harbor Works Downtown")
    tidewater = by_name(sandbox, "companies", "Tidewater Consulting")
    quay = by_name(sandbox, "companies", "Quay Studio")
    with sandbox.client() as client:
        nora = client.create("members", {"name": "Nora Quinn", "email": "nora@example.org",
                                         "location": downtown})
        for body in (
            {"name": "Hot Desk", "plan": hot_desk, "location": downtown, "member": nora["_id"],
             "isPersonal": True, "startDate": "2025-06-01", "price": 225},
            {"name": "Hot Desk", "plan": hot_desk, "location": downtown, "company": tidewater,
             "startDate": "2026-11-01", "endDate": "2026-12-31", "price": 250},
            {"name": "Dedicated Desk", "plan": desk, "location": downtown, "company": quay,
             "startDate": "2027-03-01", "price": 390},
        ):
            client.create("memberships", body)
    # A campaign the configuration declares (not applied): Sofia Rossi keeps her price.
    with (sandbox.root / "repricing.yaml").open("w", encoding="utf-8") as out:
        out.write("repricing:\n  hot-desk-2027:\n    plan: hot-desk\n    from: 2027-02-01\n"
                  "    price: 270.00\n    notice_days: 30\n    except: [members.sofia-rossi]\n")


def outputs(sandbox: Sandbox) -> tuple[str, str, dict[str, Any]]:
    runs = [sandbox.run("cohorts", *AS_OF, "-f", fmt) for fmt in ("text", "markdown", "json")]
    assert [r.code for r in runs] == [0, 0, 0], [r.err for r in runs]
    text, markdown, raw = (stable(sandbox, r.out) for r in runs)
    return text, markdown, json.loads(raw)


@pytest.fixture
def full(tmp_path: Path, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


@pytest.mark.slow
def test_the_cohorts_of_a_seeded_organization(full: Sandbox) -> None:
    seeded(full)
    text, markdown, data = outputs(full)
    check_golden("cohorts.txt", text)
    check_golden("cohorts.md", markdown)
    check_golden("cohorts.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    assert (data["count"], data["monthly_revenue"]) == (7, "3275.00")
    hot_desk = next(p for p in data["by_plan"] if p["plan"] == "hot-desk")
    assert (hot_desk["catalogue_price"], hot_desk["ended"], hot_desk["future"]) == \
        ("250.00", 1, 0)
    assert [(c["monthly_price"], c["catalogue"], c["count"], c["monthly_revenue"],
             c["oldest_start"], c["declared"], c["undeclared"], c["excepted"])
            for c in hot_desk["cohorts"]] == [
        ("250.00", True, 1, "250.00", "2026-12-01", 1, [], {}),
        ("225.00", False, 2, "450.00", "2025-06-01", 1,
         ["members.nora-quinn.memberships[hot-desk@2025-06-01]"],
         {"hot-desk-2027": ["members.sofia-rossi.memberships[hot-desk@2026-12-01]"]}),
    ]
    desk = next(p for p in data["by_plan"] if p["plan"] == "dedicated-desk")
    assert (desk["count"], desk["future"]) == (2, 1)


@pytest.mark.slow
def test_the_same_cohorts_on_the_officernd_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalogue is read-only there but readable: the same report, from read scopes."""
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    seeded(sandbox)  # seeded through the full profile, as an organization's history would be
    monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(profile_scopes(Profile.OFFICERND)))
    from tests.commands.plan_helpers import use_profile
    use_profile(monkeypatch, "officernd")
    text, _, data = outputs(sandbox)
    assert data["target"]["profile"] == "officernd"
    assert text.replace("profile officernd", "profile full") == \
        (Path(__file__).parents[1] / "golden" / "cohorts.txt").read_text(encoding="utf-8")


def test_a_fresh_organization_has_no_cohorts_and_o_writes_the_file(
    full: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "cohorts.md"
    result = full.run("cohorts", "-f", "markdown", "-o", str(out))
    assert (result.code, result.out) == (0, "")
    assert f"Wrote the cohorts report to {out}" in result.err
    text = out.read_text(encoding="utf-8")
    assert "No recurring memberships on the target." in text
    assert "### Cohorts for organization harbor-works" in text


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--as-of", "15/01/2027"), 64, "Invalid value for '--as-of'"),
    (("-f", "html"), 64, "Invalid value for '-f' / '--format'"),
    (("-o", "/nonexistent/dir/cohorts.txt"), 1, "Error: cannot write the report"),
])
def test_usage_and_output_errors(full: Sandbox, args: tuple[str, ...], code: int,
                                 message: str) -> None:
    result = full.run("cohorts", *args)
    assert result.code == code, result.err
    assert message in result.err and "Traceback" not in result.err


def test_an_invalid_configuration_is_located_and_reads_nothing(full: Sandbox) -> None:
    full.edit("services.yaml", "price: 250.00", "price: 250.001")
    result = full.run("cohorts")
    assert result.code == 1
    assert "services.yaml:" in result.err and "price" in result.err
    assert not full.db.exists()  # the sandbox was never opened


@pytest.mark.slow
def test_a_campaign_in_a_plan_names_its_cohorts_and_the_excepted_one(full: Sandbox) -> None:
    """Liam Walsh's hot desk (250.00) is repriced to 270.00 from 2027-02-01; Sofia Rossi
    (225.00) is excepted; Nora Quinn (225.00, not declared) is not reached."""
    seeded(full)
    full.edit("repricing.yaml", "notice_days: 30", "notice_days: 0")
    result = full.run("plan", "--format", "json", *AS_OF)
    assert result.code == 0, result.err
    cohorts = json.loads(result.out)["money"]["cohorts"]
    assert cohorts == [
        {"plan": "hot-desk", "monthly_price": "270.00", "catalogue": False, "count": 0,
         "changed": 0, "joining": 1, "campaigns": ["hot-desk-2027"], "excepted": {}},
        {"plan": "hot-desk", "monthly_price": "250.00", "catalogue": True, "count": 1,
         "changed": 1, "joining": 0, "campaigns": [], "excepted": {}},
        {"plan": "hot-desk", "monthly_price": "225.00", "catalogue": False, "count": 2,
         "changed": 0, "joining": 0, "campaigns": [], "excepted": {"hot-desk-2027": 1}},
    ]
    text = full.run("plan", *AS_OF).out
    assert "    hot-desk at 270.00: 0 memberships, 1 joining (campaign hot-desk-2027)\n" in text
    assert ("    hot-desk at 225.00: 2 memberships, 1 excepted by campaign hot-desk-2027 "
            "(keeping this price)\n") in text
    markdown = full.run("plan", "--format", "markdown", *AS_OF).out
    assert "- hot-desk at 250.00 (catalogue): 1 membership, 1 changed by this plan\n" in markdown
