"""`apply PLANFILE` checks the saved plan by reading what it touches, not the organization."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from flexctl.cli import main
from flexctl.emulator import Emulator
from flexctl.platform import target as target_module
from flexctl.platform.target import Target
from tests.commands.plan_helpers import Sandbox, make_sandbox


class Recorder:
    """The sandbox's emulator, noting every request (method, path, query) in order."""

    def __init__(self, app: Emulator, seen: list[tuple[str, str, str]]) -> None:
        self.app = app
        self.seen = seen

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"],
                          environ.get("QUERY_STRING", "")))
        return self.app(environ, start)


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    sandbox.seed()
    sandbox.edit("customers/companies.yaml", "price: 1750.00", "price: 1790.00")
    sandbox.edit("customers/companies.yaml", "quantity: 120", "quantity: 130")
    sandbox.edit("customers/companies.yaml", "email: hello@quaystudio.example",
                 "email: studio@quaystudio.example")
    return sandbox


def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    seen: list[tuple[str, str, str]] = []
    make = target_module._sandbox_app

    def sandbox_app(target: Target) -> Any:
        return Recorder(make(target), seen)

    monkeypatch.setattr(target_module, "_sandbox_app", sandbox_app)
    return seen


def apply(sandbox: Sandbox, planfile: Path) -> tuple[int, str, str]:
    sandbox.capsys.readouterr()
    code = main(["apply", str(planfile), "--api-url", sandbox.api_url])
    captured = sandbox.capsys.readouterr()
    return code, captured.out, captured.err


def reads_before_writing(seen: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    api = [r for r in seen if "/api/v2/" in r[1]]
    first = next((i for i, r in enumerate(api) if r[0] != "GET"), len(api))
    return api[:first]


def test_a_saved_plan_is_applied_after_reading_only_what_it_touches(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    planfile = sandbox.root.parent / "plan.json"
    assert sandbox.run("plan", "-o", str(planfile)).code == 0
    seen = recorded(monkeypatch)
    code, out, err = apply(sandbox, planfile)
    assert code == 0, err
    assert "Apply: 3 applied, 0 failed" in out
    # The money figures are the saved plan's (they need the whole organization).
    assert "monthly run-rate" in out and "1750.00 -> 1790.00" in out
    reads = reads_before_writing(seen)
    # By id: the touched membership, fee and company and the plans and locations they refer
    # to; the invoices changed since the plan; the account. No whole collection.
    assert all("_id%5B%24in%5D" in q or "modifiedAt" in q or not p.endswith(("fees",
               "memberships", "companies", "members")) for _, p, q in reads), reads
    assert len(reads) <= 10, "\n".join(f"{p} {q}" for _, p, q in reads)
    assert sandbox.run("plan", "--detailed-exitcode").code == 0


def test_a_touched_object_changed_since_makes_the_saved_plan_stale(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    planfile = sandbox.root.parent / "plan.json"
    assert sandbox.run("plan", "-o", str(planfile)).code == 0
    with sandbox.client() as client:
        quay = next(c for c in client.list("companies") if c["name"] == "Quay Studio")
        client.update("companies", quay["_id"], {"email": "someone@else.example"})
    seen = recorded(monkeypatch)
    code, _, err = apply(sandbox, planfile)
    assert code == 3, err
    assert "companies.quay-studio changed on the target since the plan was made" in err
    assert not [r for r in seen if r[0] != "GET" and "/api/v2/" in r[1]]


def test_a_twin_created_since_makes_the_saved_plan_stale(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.edit("customers/companies.yaml", "  tidewater:\n", "  harbour-ink:\n"
                 "    name: Harbour Ink\n    location: downtown\n  tidewater:\n")
    planfile = sandbox.root.parent / "plan.json"
    assert sandbox.run("plan", "-o", str(planfile)).code == 0
    with sandbox.client() as client:
        location = next(iter(client.list("locations")))["_id"]
        client.create("companies", {"name": "Harbour Ink", "location": location})
    code, _, err = apply(sandbox, planfile)
    assert code == 3, err
    assert "stale" in err


def test_the_check_knows_the_location_a_create_sends_by_default(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """A membership with no location of its own is created at its customer's: the saved plan
    keeps that location's id too (Sofia Rossi's riverside, which nothing else refers to)."""
    sandbox.edit("customers/members.yaml", "{plan: hot-desk, start: 2026-12-01, price: 225.00}\n",
                 "{plan: hot-desk, start: 2026-12-01, price: 225.00}\n"
                 "      - {plan: dedicated-desk, start: 2027-03-01}\n")
    planfile = sandbox.root.parent / "plan.json"
    assert sandbox.run("plan", "-o", str(planfile)).code == 0
    seen = recorded(monkeypatch)
    code, out, err = apply(sandbox, planfile)
    assert code == 0, out + err
    assert "Apply: 4 applied, 0 failed" in out
    reads = reads_before_writing(seen)
    # Checked by id (and the new membership looked up by its member), not read again in full.
    assert all("_id%5B%24in%5D" in q or "modifiedAt" in q or "member=" in q
               or not p.endswith("memberships") for _, p, q in reads), reads
