"""An `officernd` emulator whose catalogue was made "in the admin portal": the objects of the
kinds the public API can read but not write (locations, tax rates, revenue accounts, plans,
rates) are created through the `full` profile on the same database, as an administrator would
create them by hand; everything else is left to flexctl."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flexctl.cli import main
from flexctl.config.secrets import SecretResolver
from flexctl.emulator import Emulator, create_app
from flexctl.emulator.serve import serve_background
from flexctl.kinds import registry
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import load_config
from flexctl.kinds.refs import RefMap
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import open_client, resolve_target
from flexctl.state.desired import desired_state

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
ORG = "harbor-works"
STRIPE_ENV = "HARBOR_STRIPE_SECRET_KEY"


def portal_made(kind: Any) -> bool:
    """Kinds the public API reads but cannot create: made by hand in the admin portal."""
    officernd = kind.capability(Profile.OFFICERND)
    return officernd.read and not officernd.create


def seed_catalogue(db: Path, root: Path) -> None:
    """Create the configuration's portal-made objects on the emulator database `db`."""
    loaded = load_config(root)
    org = loaded.config.organization
    secrets = SecretResolver.for_config(loaded, environ={})
    desired = desired_state(loaded, secrets)
    app = create_app(str(db), profile="full", orgs=(org,))
    refs = RefMap()
    target = resolve_target(f"local:{db}", None, None, org, root)
    try:
        with open_client(target, app=app, scopes=profile_scopes(Profile.FULL)) as client:
            for kind in filter(portal_made, registry()):
                path = kind.api_path or kind.name
                for obj in desired.get(kind.name, []):
                    found = [d for d in client.find(path, kind.lookup_filters(obj, refs))
                             if kind.matches(obj, d, refs)]
                    if found:  # a built-in revenue account: set up as configured
                        body = kind.update_body(obj, set(obj.fields) & kind.updatable, refs,
                                                secrets)
                        doc = client.update(path, str(found[0]["_id"]), body)
                    else:
                        doc = client.create(path, kind.create_body(obj, refs, secrets))
                    refs.add(kind.name, str(obj.meta["key"]), str(doc["_id"]))
    finally:
        app.store.close()


@dataclass
class Portal:
    """A served `officernd` emulator over a copy of examples/harbor-works."""

    root: Path
    app: Emulator
    url: str
    capsys: pytest.CaptureFixture[str]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v2"

    def run(self, *args: str, target: bool = True) -> tuple[int, str, str]:
        """`flexctl ARGS` (with `--api-url` unless `target` is false)."""
        self.capsys.readouterr()
        code = main([*args, *(("--api-url", self.api_url) if target else ())])
        out, err = self.capsys.readouterr()
        return code, out, err

    def edit(self, file: str, old: str, new: str) -> None:
        path = self.root / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


@contextmanager
def portal(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    **options: Any,
) -> Iterator[Portal]:
    """A served `officernd` emulator with the example's catalogue made by hand, and the
    environment of a user: credentials, the Stripe key, a git identity, fast pacing."""
    root = tmp_path / "harbor-works"
    shutil.copytree(EXAMPLE, root)
    db = tmp_path / "portal.db"
    seed_catalogue(db, root)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Jane Doe\n\temail = jane@example.com\n",
                         encoding="utf-8")
    environ = {
        "FLEXCTL_CLIENT_ID": "emulator", "FLEXCTL_CLIENT_SECRET": "emulator",
        STRIPE_ENV: "sk_live_portal_0123456789", "NO_COLOR": "1",
        "FLEXCTL_READ_RATE": "100000/s", "FLEXCTL_WRITE_RATE": "100000/s",
        "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_TOKEN_URL", "FLEXCTL_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(str(db), profile="officernd", orgs=(ORG,), **options)
    try:
        with serve_background(app) as url:
            yield Portal(root, app, url, capsys)
    finally:
        app.store.close()
