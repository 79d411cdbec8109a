"""A served emulator for end-to-end runs over loopback, a generated configuration, and counts of
what the emulator holds (through its API)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from flexctl.cli import main
from flexctl.emulator import Emulator, create_app
from flexctl.emulator.serve import serve_background

ORG = "faulty-works"
FAST = ("--read-rate", "100000/min", "--write-rate", "100000/min")
WRITE_FAULTS = [
    {"fault": fault, "rate": rate, "method": method}
    for method in ("POST", "PUT", "DELETE")
    for fault, rate in (("500", 0.10), ("429", 0.05), ("drop", 0.03))
]


@dataclass(frozen=True)
class Generated:
    """A configuration of `companies` companies (one membership each) and as many members;
    the first `updated` of each have a changed email / name (updates once applied)."""

    companies: int
    updated: int = 0

    def yaml(self) -> str:
        lines = [
            "version: 1", f"organization: {ORG}", "currency: EUR",
            "policy: {max_change_ratio: 1}",
            "locations:", "  hq: {name: Generated HQ}",
            "plans:",
            "  desk: {name: Generated Desk, billing: recurring, price: 200.00}",
            "companies:",
        ]
        for i in range(self.companies):
            email = f"{'billing' if i < self.updated else 'c'}-{i:04d}@example.test"
            lines += [
                f"  c{i:04d}:", f"    name: Company {i:04d}", f"    email: {email}",
                "    location: hq", "    memberships:",
                f"      - {{plan: desk, start: 2026-12-{1 + i % 28:02d}}}",
            ]
        lines.append("members:")
        for i in range(self.companies):
            name = f"Member {i:04d} Renamed" if i < self.updated else f"Member {i:04d}"
            lines.append(f"  m{i:04d}: {{name: {name}, email: m{i:04d}@example.test, "
                         f"company: c{i:04d}, location: hq}}")
        return "\n".join(lines) + "\n"

    def write(self, root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        (root / "flexctl.yaml").write_text(self.yaml(), encoding="utf-8")
        return root


@contextmanager
def served(monkeypatch: pytest.MonkeyPatch, **options: Any) -> Iterator[tuple[Emulator, str]]:
    """A served emulator and its API URL; credentials in the environment for the CLI."""
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "emulator")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", "emulator")
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_TOKEN_URL", "FLEXCTL_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(None, profile="full", orgs=(ORG,), **options)
    with serve_background(app) as url:
        yield app, url


def flexctl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def live(url: str, path: str) -> list[dict[str, Any]]:
    """Every object of a collection, counted through the API (cursor pages of 50)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        token = http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": "emulator",
            "client_secret": "emulator"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"$limit": "50"}
        while True:
            page = http.get(f"/api/v2/organizations/{ORG}/{path}", params=params,
                            headers=headers).json()
            found += page["results"]
            if not page.get("cursorNext"):
                return found
            params["$cursorNext"] = page["cursorNext"]


def assert_exactly_declared(url: str, config: Generated) -> None:
    companies = Counter(c["name"] for c in live(url, "companies"))
    assert companies == Counter(f"Company {i:04d}" for i in range(config.companies))
    members = Counter(m["email"] for m in live(url, "members"))
    assert members == Counter(f"m{i:04d}@example.test" for i in range(config.companies))
    memberships = Counter(m["company"] for m in live(url, "memberships"))
    assert len(memberships) == config.companies and set(memberships.values()) == {1}
    assert len(live(url, "plans")) == 1 and len(live(url, "locations")) == 1
    renamed = [m for m in live(url, "members") if m["name"].endswith("Renamed")]
    assert len(renamed) == config.updated
