"""The client against every variant of the platform's uncertain behaviours (issue 15's "done
when"): on an in-process `officernd` emulator playing one variant at a time, with the catalogue
made in the admin portal, apply creates the customers, memberships and fees, a second plan is
empty, an update of a membership's price and a fee's quantity converges too, and an export
plans empty. Also: an apply interrupted between a membership's create and its price update
shows the price on the next plan and converges on the next apply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flexctl.cli import main
from flexctl.emulator import Dialect, Emulator, create_app
from flexctl.platform import target as target_module
from tests.e2e.portal import seed_catalogue

ORG = "tiny-space"
CONFIG = f"""\
version: 1
organization: {ORG}
currency: EUR
locations:
  main: {{name: Tiny Space Main Street}}
plans:
  desk: {{name: Desk, billing: recurring, price: 200.00}}
  pass: {{name: Day Pass, billing: one_off, price: 25.00}}
companies:
  acme:
    name: Acme Ltd
    location: main
    start: 2026-12-01
    memberships:
      - {{plan: desk, start: 2026-12-01}}
members:
  jane:
    name: Jane Doe
    email: jane@acme.example
    company: acme
    location: main
    memberships:
      - {{plan: desk, start: 2026-12-01, price: 180.00}}
    fees:
      - {{plan: pass, date: 2026-12-05}}
"""
VARIANTS = [("default", Dialect.for_profile("officernd")),
            *Dialect.for_profile("officernd").every_variant()]


@dataclass
class Space:
    root: Path
    db: Path
    capsys: pytest.CaptureFixture[str]
    apps: list[Emulator]

    def run(self, *args: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = main([*args, "--api-url", f"local:{self.db}"])
        captured = self.capsys.readouterr()
        return code, captured.out + captured.err

    def edit(self, old: str, new: str) -> None:
        path = self.root / "flexctl.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def space(tmp_path: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Space]:
    dialect: Dialect = request.param
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "flexctl.yaml").write_text(CONFIG, encoding="utf-8")
    db = tmp_path / "sandbox.db"
    seed_catalogue(db, root)
    apps: list[Emulator] = []

    def sandbox_app(target: Any) -> Emulator:
        app = create_app(str(target.sandbox_db), profile="officernd", orgs=(target.org,),
                         dialect=dialect, rate_limit="reads=100000/min,writes=100000/min")
        apps.append(app)
        return app

    monkeypatch.setattr(target_module, "_sandbox_app", sandbox_app)
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(root)
    yield Space(root, db, capsys, apps)


@pytest.mark.parametrize("space", [d for _, d in VARIANTS], ids=[n for n, _ in VARIANTS],
                         indirect=True)
def test_apply_then_plan_is_empty(space: Space, tmp_path: Path) -> None:
    code, text = space.run("apply", "--auto-approve", "--detailed-exitcode")
    assert code == 0, text
    code, text = space.run("plan", "--detailed-exitcode")
    assert code == 0, text

    space.edit("price: 180.00", "price: 190.00")
    space.edit("{plan: pass, date: 2026-12-05}", "{plan: pass, date: 2026-12-05, quantity: 2}")
    code, text = space.run("apply", "--auto-approve", "--detailed-exitcode")
    assert code == 0, text
    code, text = space.run("plan", "--detailed-exitcode")
    assert code == 0, text

    out = tmp_path / "exported"
    code, text = space.run("export", "-o", str(out), "--org", ORG)  # currency: the config
    assert code == 0, text
    code, text = space.run("plan", str(out), "--detailed-exitcode")
    assert code == 0, text


@pytest.mark.parametrize("space", [Dialect.for_profile("officernd").with_settings(
    {"membership_price": "reject"})], ids=["membership_price=reject"], indirect=True)
def test_an_interruption_between_create_and_price_converges(space: Space) -> None:
    faults = [{"fault": "500", "method": "PUT", "path": "/memberships/", "count": 3}]

    def with_faults(target: Any) -> Emulator:
        app = create_app(str(target.sandbox_db), profile="officernd", orgs=(target.org,),
                         dialect="membership_price=reject")
        app.faults.configure(faults)
        return app

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(target_module, "_sandbox_app", with_faults)
        code, text = space.run("apply", "--auto-approve", "--format", "json")
    assert code == 1, text
    journal = json.loads(text[text.index("{"):text.rindex("}") + 1])
    failed = [e for e in journal["changes"] if e["status"] == "failed"]
    assert len(failed) == 2  # both memberships: created, but their price never set
    assert all("without its price" in e["message"] for e in failed)

    code, text = space.run("plan", "--format", "json", "--detailed-exitcode")
    assert code == 2
    changes = {c["address"]: c for c in json.loads(text[text.index("{"):])["changes"]}
    assert {a: (c["action"], c["before"], c["after"]) for a, c in changes.items()} == {
        "companies.acme.memberships[desk@2026-12-01]": ("update", {"price": "0.00"},
                                                        {"price": "200.00"}),
        "members.jane.memberships[desk@2026-12-01]": ("update", {"price": "0.00"},
                                                      {"price": "180.00"}),
    }
    code, text = space.run("apply", "--auto-approve", "--detailed-exitcode")
    assert code == 0, text
    assert space.run("plan", "--detailed-exitcode")[0] == 0
