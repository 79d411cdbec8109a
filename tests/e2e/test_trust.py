"""Trust nothing the platform sends: each defect class of the trust issue, at the command line,
with its exit code and message, and a count of the writes that reached the platform.

The platform is the emulator served on 127.0.0.1 behind a WSGI wrapper that misbehaves on cue,
or a hostile server on a real socket (`tests/platform/hostile.py`); two applies at once share
one embedded sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from flexctl.cli import main
from flexctl.emulator import Emulator, create_app
from flexctl.emulator.serve import serve_background
from flexctl.platform.target import Target, open_client
from tests.platform.hostile import HostileServer, trickle

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ORG = "trust-works"
STRIPE_KEY = "sk_test_trust_KEY_4411abcd"
CLIENT_SECRET = "client-secret-trust-9876"
CONFIG = f"""\
version: 1
organization: {ORG}
currency: EUR
locations:
  main: {{name: Trust Main}}
plans:
  desk: {{name: Desk, billing: recurring, price: 100.00}}
companies:
  acme: {{name: Acme Ltd, location: main, memberships: [{{plan: desk, start: 2027-01-01}}]}}
  beta: {{name: Beta Ltd, location: main}}
  gamma: {{name: Gamma Ltd, location: main}}
policy: {{prune: [companies]}}
"""
GATEWAY = """\
gateways:
  stripe:
    provider: stripe
    account: acct_1Trust
    secret_key: {env: TRUST_STRIPE_KEY}
"""

# A changed answer: its body, or its status line and body.
Rewrite = Callable[[str, str, dict[str, Any]], dict[str, Any] | tuple[str, dict[str, Any]] | None]


class Meddling:
    """A WSGI wrapper: `rewrite(method, path, body)` may change a JSON answer."""

    def __init__(self, app: Emulator, rewrite: Rewrite) -> None:
        self.app, self.rewrite = app, rewrite
        self.writes: list[tuple[str, str]] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        if method != "GET" and "/organizations/" in path:
            self.writes.append((method, path))
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        raw = b"".join(self.app(environ, capture))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        changed = self.rewrite(method, path, body) if isinstance(body, dict) else None
        if isinstance(changed, tuple):
            captured["status"], changed = changed
        if changed is not None:
            raw = json.dumps(changed).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(raw)))])
        return [raw]

    @property
    def store(self) -> Any:  # the sandbox opener closes the store through the app
        return self.app.store


class Platform:
    """The emulator served on 127.0.0.1 behind a `Meddling` wrapper that can be swapped."""

    def __init__(self, url: str, meddling: Meddling) -> None:
        self.url, self.meddling = url, meddling

    @property
    def api(self) -> tuple[str, str]:
        return ("--api-url", f"{self.url}/api/v2")

    def meddle(self, rewrite: Rewrite) -> Meddling:
        self.meddling.rewrite = rewrite
        self.meddling.writes.clear()
        return self.meddling


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "client-1")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", CLIENT_SECRET)
    app = create_app(None, profile="full", orgs=(ORG,), client_id="client-1",
                     client_secret=CLIENT_SECRET)
    meddling = Meddling(app, untouched)
    with serve_background(meddling) as url:  # type: ignore[arg-type]
        yield Platform(url, meddling)


def untouched(method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    return None


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_TOKEN_URL", "FLEXCTL_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config"
    path.mkdir()
    (path / "flexctl.yaml").write_text(CONFIG, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err




# 1. A read that repeats an object never leads to a delete ----------------------------------


def test_a_list_that_repeats_a_company_stops_the_apply_before_any_write(
        root: Path, platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(root), "--auto-approve", *platform.api)[0] == 0
    (root / "flexctl.yaml").write_text(CONFIG.replace("  gamma: {name: Gamma Ltd, location: "
                                                      "main}\n", ""), encoding="utf-8")

    def repeat(method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if method == "GET" and path.endswith("/companies") and body.get("results"):
            return {**body, "results": [*body["results"], body["results"][0]]}
        return None

    meddling = platform.meddle(repeat)
    code, _, err = run(capsys, "apply", str(root), "--auto-approve", *platform.api)
    assert code == 1
    assert err.startswith(f"Error: GET /api/v2/organizations/{ORG}/companies: 200 the read of "
                          "companies is not consistent: page 1 repeats the _id"), err
    assert meddling.writes == []


def test_a_read_short_of_the_count_plans_no_delete(
        root: Path, platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(root), "--auto-approve", *platform.api)[0] == 0

    def lose_one(method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if method == "GET" and path.endswith("/companies") and body.get("results"):
            return {**body, "results": body["results"][1:]}
        return None

    meddling = platform.meddle(lose_one)
    # A full read (an incremental one would take the companies from the cache and the
    # count, and read no page of them with anything in it to lose).
    code, _, err = run(capsys, "apply", str(root), "--auto-approve", "--refresh",
                       *platform.api)
    assert code == 1
    assert "it found 2 objects where the platform counts 3" in err, err
    assert meddling.writes == []


def test_two_live_twins_of_one_company_are_duplicates_not_unmanaged(
        root: Path, platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(root), "--auto-approve", *platform.api)[0] == 0
    target = Target(api_url=f"{platform.url}/api/v2", org=ORG,
                    token_url=f"{platform.url}/oauth/token", client_id="client-1",
                    client_secret=CLIENT_SECRET)
    with open_client(target) as client:  # what a second, concurrent apply would have made
        location = next(iter(client.list("locations")))["_id"]
        client.create("companies", {"name": "Acme Ltd", "location": location})
    code, out, _ = run(capsys, "plan", str(root), "--detailed-exitcode", *platform.api)
    assert code == 3
    assert "a duplicate of companies.acme: the live companies" in out
    assert "Unmanaged" not in out
    code, _, _ = run(capsys, "drift", str(root), *platform.api)
    assert code == 2


# 2. A plan file is bound to the target the user configured ---------------------------------


def test_a_plan_file_is_not_applied_to_the_host_the_environment_names(
        root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        platform: Platform, hostile: HostileServer) -> None:
    planfile = root.parent / "plan.json"
    assert run(capsys, "plan", str(root), "-o", str(planfile), *platform.api)[0] == 0
    monkeypatch.setenv("FLEXCTL_API_URL", hostile.api_url)  # the environment names another
    code, _, err = run(capsys, "apply", str(planfile))
    assert code == 3
    assert "differs from the plan's target" in err and "no credential was sent" in err, err
    assert hostile.requests == []  # not even a token request
    assert platform.meddling.writes == []


# 3. Secrets the platform echoes back are never shown ---------------------------------------


def echo_secrets(
    method: str, path: str, body: dict[str, Any]
) -> dict[str, Any] | tuple[str, dict[str, Any]] | None:
    if path == "/oauth/token" and "access_token" in body:
        return {**body, "note": f"issued for client_secret={CLIENT_SECRET}"}
    if method == "POST" and path.endswith("/payment-gateways"):
        return "400 Bad Request", {"statusCode": 400, "error": "Bad Request",
                                   "message": [f"secret {STRIPE_KEY} was refused"]}
    return None


def test_secrets_the_platform_echoes_are_redacted_everywhere(
        root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        platform: Platform) -> None:
    (root / "gateways.yaml").write_text(GATEWAY, encoding="utf-8")
    monkeypatch.setenv("TRUST_STRIPE_KEY", STRIPE_KEY)
    platform.meddle(echo_secrets)
    code, out, err = run(capsys, "--debug", "apply", str(root), "--auto-approve",
                         "--format", "json", *platform.api)
    assert code == 1  # the gateway failed
    journals = list((root / ".flexctl" / "journals").glob("*.jsonl"))
    texts = [out, err, *(p.read_text(encoding="utf-8") for p in journals)]
    for text in texts:
        assert STRIPE_KEY not in text and CLIENT_SECRET not in text
        assert "Bearer ey" not in text
    assert "…abcd was refused" in out  # the fingerprint stands in for the key


# 4. Two applies at once ----------------------------------------------------------------------


@pytest.mark.slow
def test_two_applies_at_once_give_one_success_one_lock_error_and_no_duplicate(
        root: Path) -> None:
    more = "".join(f"  c{i:03d}: {{name: Company {i:03d}, location: main}}\n" for i in range(150))
    text = CONFIG.replace("policy: {prune: [companies]}\n", "").replace(
        "  gamma: {name: Gamma Ltd, location: main}\n",
        "  gamma: {name: Gamma Ltd, location: main}\n" + more)
    (root / "flexctl.yaml").write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLEXCTL_") or k == "FLEXCTL_CACHE_DIR"}  # the test's cache
    command = [sys.executable, "-m", "flexctl", "apply", str(root), "--auto-approve"]
    # The first apply is paced (5 writes a second after a burst of 75) so that it still holds
    # the lock some 15 s later, and the second starts only once the first has applied a change:
    # the race does not depend on how loaded the machine is.
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**env, "FLEXCTL_WRITE_RATE": "5/s"})
    assert first.stderr is not None
    seen = []
    for line in first.stderr:
        seen.append(line)
        if "applied" in line:
            break
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)
    results = [(child.wait(timeout=120), *child.communicate()) for child in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(err for code, _, err in results if code == 1)
    assert "another flexctl is writing to trust-works" in loser and "pid " in loser
    db = root / ".flexctl" / "sandbox.db"
    app = create_app(str(db), profile="full", orgs=(ORG,))
    try:
        target = Target(api_url=f"local:{db}", org=ORG, sandbox_db=db)
        with open_client(target, app=app) as client:
            names = Counter(c["name"] for c in client.list("companies"))
    finally:
        app.store.close()
    assert len(names) == 153 and set(names.values()) == {1}


# 5. A trickling answer ends at the deadline, naming the host --------------------------------


def test_a_trickling_platform_fails_at_the_deadline_naming_the_host(
        root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        hostile: HostileServer) -> None:
    hostile.on("GET", r".*", trickle(b'{"results": []}' * 50, every=0.5))
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "client-1")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("FLEXCTL_TIMEOUT", "1")
    monkeypatch.setenv("FLEXCTL_RETRY_BUDGET", "2")
    started = time.monotonic()
    code, _, err = run(capsys, "plan", str(root), "--api-url", hostile.api_url)
    assert code == 1
    assert time.monotonic() - started < 8
    assert "127.0.0.1" in err and "Traceback" not in err, err


# 6./7. Terminal escapes and malformed data ---------------------------------------------------


def test_escapes_in_platform_names_never_reach_the_terminal_or_the_comment(
        root: Path, platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(root), "--auto-approve", *platform.api)[0] == 0
    evil = "Evil\x1b]0;pwned\x07 \u202egnp.exe [click](http://x) <img src=x>\x85"

    def rename(method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if method == "GET" and path.endswith("/companies"):
            return {**body, "results": [{**c, "name": evil} if c["name"] == "Beta Ltd" else c
                                        for c in body.get("results", [])]}
        return None

    platform.meddle(rename)
    for fmt in ("text", "markdown"):
        code, out, _ = run(capsys, "plan", str(root), "--format", fmt, *platform.api)
        assert code == 0
        for raw in ("\x1b", "\x07", "\u202e", "\x85"):
            assert raw not in out, (fmt, raw)
        if fmt == "markdown":
            outside_code = "".join(out.split("```")[::2])
            assert "](http" not in outside_code and "<img" not in outside_code


def test_a_price_that_is_not_a_number_is_a_located_error_and_nothing_is_written(
        root: Path, platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(root), "--auto-approve", *platform.api)[0] == 0

    def bad_price(method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if method == "GET" and path.endswith("/plans"):
            return {**body, "results": [{**p, "price": "abc"} for p in body.get("results", [])]}
        return None

    (root / "flexctl.yaml").write_text(CONFIG.replace("Beta Ltd", "Beta Limited"),
                                       encoding="utf-8")
    meddling = platform.meddle(bad_price)
    code, _, err = run(capsys, "apply", str(root), "--auto-approve", *platform.api)
    assert code == 1
    assert err.startswith("Error: GET plans: 200 plan "), err
    assert err.rstrip().endswith("price 'abc' is not an amount"), err
    assert meddling.writes == []


# 10. A secret that cannot be read blocks the plan --------------------------------------------


def test_a_missing_secret_blocks_the_plan_in_every_format_and_apply_writes_nothing(
        root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        platform: Platform) -> None:
    (root / "gateways.yaml").write_text(GATEWAY, encoding="utf-8")
    monkeypatch.delenv("TRUST_STRIPE_KEY", raising=False)
    why = "gateways.stripe.secret_key: environment variable TRUST_STRIPE_KEY is not set"
    for fmt in ("text", "markdown", "json"):
        code, out, _ = run(capsys, "plan", str(root), "--format", fmt, "--detailed-exitcode",
                           *platform.api)
        assert code == 3, fmt
        shown = out if fmt != "markdown" else out.replace("\\_", "_")
        assert why in shown, (fmt, out)
    code, _, err = run(capsys, "apply", str(root), "--auto-approve", *platform.api)
    assert code == 3 and "gateways.stripe" in err
    assert platform.meddling.writes == []

