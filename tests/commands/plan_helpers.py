"""Helpers for the end-to-end plan/drift tests: a copy of the example config, a sandbox
emulator database per test, seeding it with the config's objects, and running the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from flexctl.cli import main
from flexctl.config.secrets import SecretResolver
from flexctl.emulator import Emulator, create_app
from flexctl.kinds import registry
from flexctl.kinds.base import Kind, Obj, Profile
from flexctl.kinds.configuration import load_config
from flexctl.kinds.refs import RefMap
from flexctl.platform import target as target_module
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client, resolve_target
from flexctl.state.desired import desired_state

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
ORG = "harbor-works"
STRIPE_ENV = "HARBOR_STRIPE_SECRET_KEY"
STRIPE_KEY = "sk_live_51HarborWorksSuperSecret9876"


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Sandbox:
    """A copy of examples/harbor-works and its own emulator database."""

    root: Path
    db: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def api_url(self) -> str:
        return f"local:{self.db}"

    def run(self, *args: str) -> Result:
        self.capsys.readouterr()
        code = main([*args, str(self.root), "--api-url", self.api_url])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def edit(self, file: str, old: str, new: str) -> None:
        path = self.root / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    @contextmanager
    def client(self, profile: str = "full") -> Iterator[FlexClient]:
        app = create_app(str(self.db), profile=profile, orgs=(ORG,))
        app.store.ensure_org(ORG)
        target = resolve_target(self.api_url, None, None, ORG, self.root)
        try:
            scopes = profile_scopes(Profile(profile))
            with open_client(target, app=app, scopes=scopes) as client:
                yield client
        finally:
            app.store.close()

    def harness(self, method: str, path: str, json: Any) -> Any:
        """Call the emulator's test-harness endpoints (`/_emulator/...`)."""
        app = create_app(str(self.db), profile="full", orgs=(ORG,))
        try:
            with httpx.Client(transport=httpx.WSGITransport(app=app),
                              base_url="http://emulator") as http:
                response = http.request(method, f"/_emulator/{path}", json=json)
                response.raise_for_status()
                return response.json()
        finally:
            app.store.close()

    def set_status(self, status: str) -> None:
        self.harness("PUT", f"organizations/{ORG}/account", {"status": status})

    def invoice(self, memberships: Iterable[str] = (), fees: Iterable[str] = (),
                company: str | None = None) -> None:
        """Invoice them, addressed to their first one's customer or to `company`."""
        body: dict[str, Any] = {"memberships": list(memberships), "fees": list(fees)}
        if company:
            body["company"] = company
        self.harness("POST", f"organizations/{ORG}/invoices", body)

    def seed(self) -> None:
        """Create every object of the config on the emulator, as apply would (account active)."""
        self.set_status("active")
        loaded = load_config(self.root)
        secrets = SecretResolver(self.root)
        desired = desired_state(loaded, secrets)
        refs = RefMap()
        with self.client() as client:
            for kind in registry():
                path = kind.api_path or kind.name
                for obj in desired.get(kind.name, []):
                    if kind.singleton:
                        client.put_singleton(path, kind.update_body(obj, set(obj.fields), refs,
                                                                    secrets))
                        continue
                    doc = _upsert(client, kind, obj, refs, secrets, path)
                    if not kind.owned:
                        refs.add(kind.name, str(obj.meta["key"]), str(doc["_id"]))

    def live(self, path: str) -> list[dict[str, Any]]:
        with self.client() as client:
            return list(client.list(path))


def _upsert(client: FlexClient, kind: Kind, obj: Obj, refs: RefMap, secrets: SecretResolver,
            path: str) -> dict[str, Any]:
    # The sandbox starts with built-in revenue accounts: bind to those rather than duplicate.
    if not kind.owned:
        for doc in client.find(path, kind.lookup_filters(obj, refs)):
            if kind.matches(obj, doc, refs):
                body = kind.update_body(obj, set(obj.fields) & kind.updatable, refs, secrets)
                return client.update(path, str(doc["_id"]), body) if body else doc
    return client.create(path, kind.create_body(obj, refs, secrets))


def make_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch, profile: str = "full") -> Sandbox:
    root = tmp_path / "harbor-works"
    shutil.copytree(EXAMPLE, root)
    monkeypatch.setenv(STRIPE_ENV, STRIPE_KEY)
    monkeypatch.setenv("NO_COLOR", "1")
    # Client-side pacing protects the real platform; the in-process sandbox needs none.
    monkeypatch.setenv("FLEXCTL_READ_RATE", "100000/s")
    monkeypatch.setenv("FLEXCTL_WRITE_RATE", "100000/s")
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)
    if profile != "full":
        use_profile(monkeypatch, profile)
    return Sandbox(root, tmp_path / "sandbox.db", capsys)


def use_profile(monkeypatch: pytest.MonkeyPatch, profile: str) -> None:
    """Make the CLI's embedded sandbox serve another profile (the test seam of target.py)."""

    def sandbox_app(target: Target) -> Emulator:
        app = create_app(str(target.sandbox_db), profile=profile, orgs=(target.org,))
        app.store.ensure_org(target.org)
        return app

    monkeypatch.setattr(target_module, "_sandbox_app", sandbox_app)


def with_faults(monkeypatch: pytest.MonkeyPatch, *rules: dict[str, Any]) -> None:
    """The CLI's embedded sandbox with injected fault rules (the test seam of target.py)."""

    def sandbox_app(target: Target) -> Emulator:
        app = create_app(str(target.sandbox_db), profile="full", orgs=(target.org,))
        app.store.ensure_org(target.org)
        app.faults.configure(list(rules))
        return app

    monkeypatch.setattr(target_module, "_sandbox_app", sandbox_app)


def recording_apps(monkeypatch: pytest.MonkeyPatch) -> list[Emulator]:
    """Every embedded emulator the CLI opens from now on, to count its requests."""
    opened: list[Emulator] = []
    make = target_module._sandbox_app

    def sandbox_app(target: Target) -> Emulator:
        opened.append(make(target))
        return opened[-1]

    monkeypatch.setattr(target_module, "_sandbox_app", sandbox_app)
    return opened


def plan_json(sandbox: Sandbox, *args: str) -> tuple[int, dict[str, Any]]:
    """`plan --format json --detailed-exitcode` of the sandbox: its exit code and document."""
    result = sandbox.run("plan", "--format", "json", "--detailed-exitcode", *args)
    assert result.code != 1, result.err
    return result.code, json.loads(result.out)
