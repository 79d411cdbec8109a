"""`flexctl doctor`: it passes on the emulator's `officernd` and `full` profiles, and each check
reports the failure the emulator is set to show (credentials, scopes, organization, region,
lists, paging, `$select`, fields, filters, rate limits, account, clock) with the exit code it
deserves: 0 all good, 2 a warning, 1 a failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flexctl.cli import main
from flexctl.emulator import Emulator, create_app
from flexctl.emulator.resources import all_scopes
from flexctl.emulator.seed import apply_seed
from flexctl.platform import target as target_module
from tests.e2e.portal import seed_catalogue
from tests.platform.hostile import closed_port

ORG = "harbor-works"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
Setup = Callable[[Emulator], None]


@dataclass
class Doctor:
    """The CLI's sandbox target on a database of its own, emulated as each test needs."""

    db: Path
    capsys: pytest.CaptureFixture[str]
    profile: str = "officernd"
    options: dict[str, Any] = field(default_factory=dict)
    setups: list[Setup] = field(default_factory=list)

    def app(self, target: Any) -> Emulator:
        app = create_app(str(target.sandbox_db), profile=self.profile, orgs=(ORG,),
                         **self.options)
        for setup in self.setups:
            setup(app)
        return app

    def run(self, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
        self.capsys.readouterr()
        code = main(["doctor", str(EXAMPLE), "--format", "json", "--api-url",
                     f"local:{self.db}", *args])
        out = self.capsys.readouterr().out
        checks = {c["name"]: c for c in json.loads(out)["checks"]} if out else {}
        return code, checks


@pytest.fixture
def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> Doctor:
    db = tmp_path / "sandbox.db"
    seed_catalogue(db, EXAMPLE)  # the catalogue made in the admin portal
    companies = [{"name": f"Company {i:02d}"} for i in range(60)]  # two pages
    app = create_app(str(db), profile="full", orgs=(ORG,))
    try:
        apply_seed(app, {ORG: {"companies": companies}}, only_new=False)
    finally:
        app.store.close()
    doctor = Doctor(db, capsys)
    monkeypatch.setattr(target_module, "_sandbox_app", doctor.app)
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    return doctor


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: check["status"] for name, check in checks.items()}


def details(check: dict[str, Any]) -> str:
    return "\n".join(check["details"])


@pytest.mark.parametrize("profile", ["officernd", "full"])
def test_it_passes_on_both_profiles(doctor: Doctor, profile: str) -> None:
    doctor.profile = profile
    doctor.options = {"rate_limit": "reads=10000/min,reads=100000/day"}
    doctor.setups.append(lambda app: app.store.set_account_status(ORG, "active"))
    code, checks = doctor.run()
    assert code == 0, statuses(checks)
    assert "companies: 60 objects" in details(checks["lists"])
    assert "the second page holds 10 other objects" in details(checks["paging"])
    assert "read-minute: " in details(checks["rate_limits"]) and "read-day: " in details(
        checks["rate_limits"])
    expected_account = "skipped" if profile == "officernd" else "ok"
    assert checks["account"]["status"] == expected_account
    assert "filtered by modifiedAt: companies, members, fees" in details(
        checks["modified_filters"])
    assert "memberships" in details(checks["modified_filters"]).split("whole every time: ")[1]


def test_bad_credentials_fail_the_token(doctor: Doctor) -> None:
    doctor.setups.append(lambda app: app.auth.register_client("emulator", "other", ()))
    code, checks = doctor.run()
    assert code == 1
    assert checks["token"]["status"] == "failure"
    assert "Invalid client credentials" in details(checks["token"])
    assert checks["token"]["fix"].startswith("check FLEXCTL_CLIENT_ID and FLEXCTL_CLIENT_SECRET")
    assert checks["clock"]["status"] == checks["rate_limits"]["status"] == "skipped"
    assert all(checks[n]["status"] == "skipped" for n in ("scopes", "organization", "lists"))


def test_scopes_apply_lacks_warn_and_plan_lacks_fail(doctor: Doctor) -> None:
    def read_only(app: Emulator) -> None:
        scopes = [s for s in all_scopes("officernd") if s.endswith(".read")]
        app.auth.register_client("emulator", "emulator", scopes)

    doctor.setups.append(read_only)
    code, checks = doctor.run()
    assert code == 2 and checks["scopes"]["status"] == "warning"
    assert "apply: not granted flex.community.companies.create" in details(checks["scopes"])
    assert "plan: all " in details(checks["scopes"])

    def no_plans(app: Emulator) -> None:
        scopes = [s for s in all_scopes("officernd") if s != "flex.billing.plans.read"]
        app.auth.register_client("emulator", "emulator", scopes)

    doctor.setups[-1] = no_plans
    code, checks = doctor.run()
    assert code == 1 and checks["scopes"]["status"] == "failure"
    assert "plan: not granted flex.billing.plans.read" in details(checks["scopes"])


def test_an_unknown_organization_fails(doctor: Doctor) -> None:
    code, checks = doctor.run("--org", "nobody-here")
    assert code == 1 and checks["organization"]["status"] == "failure"
    assert "Organization not found" in details(checks["organization"])
    assert checks["organization"]["fix"].startswith("check the slug")
    assert checks["lists"]["status"] == checks["paging"]["status"] == "skipped"


def test_a_regional_host_is_a_warning(doctor: Doctor) -> None:
    doctor.options = {"dialect": "region=elsewhere"}
    code, checks = doctor.run()
    assert code == 2 and checks["organization"]["status"] == "warning"
    assert checks["organization"]["fix"] == "use --api-url https://eu1.officernd.example/api/v2"
    doctor.options = {"dialect": "region=same"}
    assert doctor.run()[1]["organization"]["status"] == "ok"


@pytest.mark.parametrize(("fault", "check", "status", "code"), [
    ({"fault": "400", "method": "GET", "path": "/plans$"}, "lists", "failure", 1),
    ({"fault": "short_page", "path": "/companies$"}, "paging", "warning", 2),
    ({"fault": "repeat_page", "path": "/companies$"}, "paging", "failure", 1),
    ({"fault": "ignore_select"}, "select", "warning", 2),
    ({"fault": "omit_field", "field": "price", "path": "/plans$"}, "fields", "warning", 2),
    ({"fault": "401", "query": "modifiedAt"}, "modified_filters", "warning", 2),
])
def test_each_injected_failure_is_reported(
    doctor: Doctor, fault: dict[str, str], check: str, status: str, code: int
) -> None:
    doctor.setups.append(lambda app: app.faults.configure([fault]))
    got, checks = doctor.run()
    assert (got, checks[check]["status"]) == (code, status), checks[check]
    others = {n: s for n, s in statuses(checks).items() if n != check}
    assert set(others.values()) <= {"ok", "skipped"}, others


def test_a_low_rate_limit_budget_is_a_warning(doctor: Doctor) -> None:
    doctor.options = {"rate_limit": "reads=1000/day"}
    left = int(details(doctor.run()[1]["rate_limits"]).split()[1])  # "read-day: N of 1000 left"
    doctor.options = {"rate_limit": f"reads={1000 - left + 2}/day"}  # 2 left at the end
    code, checks = doctor.run()
    assert code == 2 and checks["rate_limits"]["status"] == "warning"
    assert "wait for the read-day budget to reset" in checks["rate_limits"]["fix"]


def test_an_onboarding_account_is_a_warning_on_the_full_profile(doctor: Doctor) -> None:
    doctor.profile = "full"
    code, checks = doctor.run()
    assert code == 2 and checks["account"]["status"] == "warning"
    assert details(checks["account"]) == "status: onboarding"


def test_clock_skew_is_a_warning(doctor: Doctor) -> None:
    doctor.setups.append(lambda app: app.clock.advance(600))
    code, checks = doctor.run()
    assert code == 2 and checks["clock"]["status"] == "warning"
    assert "s behind the platform" in details(checks["clock"])


def test_the_variants_reading_can_tell(doctor: Doctor) -> None:
    app = create_app(str(doctor.db), profile="full", orgs=(ORG,))
    try:  # an open-ended membership, for the single GET
        plan = app.store.find(ORG, "plans", "name", "Hot Desk")[0]["_id"]
        company = app.store.find(ORG, "companies", "name", "Company 00")[0]["_id"]
        location = app.store.find(ORG, "locations", "name", "Harbor Works Downtown")[0]["_id"]
        apply_seed(app, {ORG: {"memberships": [
            {"name": "Hot Desk", "plan": plan, "company": company, "location": location,
             "startDate": "2026-12-01", "price": Decimal(250)}]}}, only_new=False)
    finally:
        app.store.close()
    found = details(doctor.run()[1]["variants"])
    assert "a first page's missing cursorPrev: absent" in found
    assert "a single GET's empty fields: endDate absent, properties absent" in found
    assert "billing settings: not readable with these scopes" in found
    assert "invoices by customer: 50 customers a request" in found
    doctor.options = {"dialect": "no_cursor=null,single_get=null,customer_in=reject"}
    found = details(doctor.run()[1]["variants"])
    assert "cursorPrev: null" in found and "endDate null, properties null" in found
    assert "invoices by customer: one customer a request" in found


def test_the_single_get_is_described_as_the_platform_wrote_it(doctor: Doctor) -> None:
    """On the `full` profile an empty end date and properties come back as `null` and `{}`;
    a membership whose properties hold something (flexctl's mark) tells nothing of them."""
    app = create_app(str(doctor.db), profile="full", orgs=(ORG,))
    try:
        plan = app.store.find(ORG, "plans", "name", "Hot Desk")[0]["_id"]
        company = app.store.find(ORG, "companies", "name", "Company 00")[0]["_id"]
        location = app.store.find(ORG, "locations", "name", "Harbor Works Downtown")[0]["_id"]
        apply_seed(app, {ORG: {"memberships": [
            {"name": "Hot Desk", "plan": plan, "company": company, "location": location,
             "startDate": "2026-12-01", "price": Decimal(250),
             "properties": {"flexctl": "companies.company-00.memberships[hot-desk@2026-12-01]"}},
        ]}}, only_new=False)
    finally:
        app.store.close()
    doctor.profile = "full"
    found = details(doctor.run()[1]["variants"])
    assert ("a single GET's empty fields: endDate null, properties cannot tell (not empty on "
            "this one)") in found
    app = create_app(str(doctor.db), profile="full", orgs=(ORG,))
    try:
        apply_seed(app, {ORG: {"memberships": [
            {"name": "Hot Desk", "plan": plan, "company": company, "location": location,
             "startDate": "2026-12-02", "price": Decimal(250)}]}}, only_new=False)
    finally:
        app.store.close()
    found = details(doctor.run()[1]["variants"])
    assert "a single GET's empty fields: endDate null, properties {}" in found
    assert "None" not in found


def test_a_token_host_that_does_not_answer_blames_the_network_not_the_credentials(
    doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "someone")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", "not-the-secret")
    port = closed_port()
    doctor.capsys.readouterr()
    code = main(["doctor", str(EXAMPLE), "--format", "json", "--api-url",
                 f"http://127.0.0.1:{port}/api/v2", "--token-url",
                 f"http://127.0.0.1:{port}/oauth/token"])
    document = json.loads(doctor.capsys.readouterr().out)
    checks = {c["name"]: c for c in document["checks"]}
    assert code == 1 and checks["token"]["status"] == "failure"
    assert "Connection refused" in details(checks["token"])
    assert checks["token"]["fix"].startswith("nothing answered: check --token-url")
    assert "FLEXCTL_CLIENT_SECRET" not in checks["token"]["fix"]
    # Nothing answered: no profile was told, and no check claims what an answer showed.
    assert document["target"]["profile"] is None
    for name in ("rate_limits", "clock"):
        assert checks[name]["status"] == "skipped"
        assert details(checks[name]) == "no token with read scopes"
    # The text says so too.
    main(["doctor", str(EXAMPLE), "--api-url", f"http://127.0.0.1:{port}/api/v2",
          "--token-url", f"http://127.0.0.1:{port}/oauth/token"])
    assert "(profile unknown: no answer told it)" in doctor.capsys.readouterr().out
