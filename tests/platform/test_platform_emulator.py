"""The client against the real emulator, in-process (WSGI) and over loopback HTTP.

Every test in the first part runs on both transports with the same assertions. Time is
free: retries sleep through a recorder, and token expiry moves the emulator's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from flexctl.emulator import Emulator, create_app
from flexctl.emulator.serve import serve_background
from flexctl.errors import AuthError, ServerError, TargetError, TransportError, ValidationError
from flexctl.kinds.base import Profile
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client, resolve_target
from tests.platform.platform_fakes import RecordingSleep
from tests.platform.roundtrip import FAST

ORG = "harbor-works"
Connect = Callable[..., FlexClient]


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture(params=["wsgi", "http"])
def connect(request: pytest.FixtureRequest, sleeper: RecordingSleep) -> Iterator[Connect]:
    """`connect(app, **open_client options)`: a client on `app` over the parametrized transport."""
    with ExitStack() as stack:

        def build(app: Emulator, **options: Any) -> FlexClient:
            extra: dict[str, Any]  # passed through to open_client, like `options`
            if request.param == "wsgi":
                origin, extra = "http://emulator.test", {"app": app}
            else:
                origin, extra = stack.enter_context(serve_background(app)), {}
            target = Target(api_url=f"{origin}/api/v2", org=ORG,
                            token_url=f"{origin}/oauth/token",
                            client_id="emulator", client_secret="emulator")
            options = {**FAST, "sleep": sleeper, **options}
            client = open_client(target, **extra, **options)
            stack.callback(client.close)
            return client

        yield build


def make_app(**options: Any) -> Emulator:
    app = create_app(orgs=(ORG,), **options)
    app.store.ensure_org(ORG)
    return app


@pytest.fixture
def app() -> Emulator:
    return make_app()


def seed_companies(app: Emulator, count: int) -> None:
    for i in range(count):
        app.store.insert(ORG, "companies", {"name": f"Company {i:03d}", "status": "active"})


# --- both transports ----------------------------------------------------------------------------


def test_pagination_across_many_pages(connect: Connect, app: Emulator) -> None:
    seed_companies(app, 260)
    client = connect(app)
    companies = list(client.list("companies", select=("name",)))
    assert len(companies) == 260
    assert len({c["_id"] for c in companies}) == 260
    assert {c["name"] for c in companies} == {f"Company {i:03d}" for i in range(260)}
    assert client.stats.reads == 6
    assert all(set(c) <= {"_id", "name"} for c in companies)  # $select was honoured


def test_natural_key_lookup(connect: Connect, app: Emulator) -> None:
    seed_companies(app, 3)
    client = connect(app)
    found = client.find("companies", {"name": "Company 001"}, select=("name",))
    assert [c["name"] for c in found] == ["Company 001"]


def test_profile_is_detected(connect: Connect, app: Emulator) -> None:
    assert connect(app).profile is Profile.FULL
    assert connect(make_app(profile="officernd")).profile is Profile.OFFICERND


def test_officernd_profile_is_asked_only_for_public_scopes(connect: Connect) -> None:
    client = connect(make_app(profile="officernd"), scopes=None)  # the default scope choice
    assert list(client.list("plans")) == []
    assert client.scopes == profile_scopes(Profile.OFFICERND)


def test_token_is_renewed_before_expiry(connect: Connect, app: Emulator) -> None:
    client = connect(app, clock=app.clock.now)  # the client and the emulator share one clock
    list(client.list("companies"))
    app.clock.advance(3599 - 30)  # half a minute left: renewed before use
    list(client.list("companies"))
    assert client.stats.token_requests == 2
    assert client.stats.reads == 2  # no request was rejected


def test_expired_token_is_renewed_once_after_a_401(connect: Connect, app: Emulator) -> None:
    client = connect(app)  # the client's own clock: it does not know the token expired
    list(client.list("companies"))
    app.clock.advance(3600)
    assert list(client.list("companies")) == []
    assert client.stats.token_requests == 2
    assert client.stats.reads == 3  # the rejected request and its repeat


def test_missing_scope_is_explained(connect: Connect, app: Emulator) -> None:
    client = connect(app, scopes=("flex.community.companies.read",))
    list(client.list("companies"))
    with pytest.raises(AuthError) as info:
        list(client.list("plans"))
    assert info.value.status == 401
    assert "flex.billing.plans.read" in str(info.value)
    assert str(info.value).startswith(f"GET /api/v2/organizations/{ORG}/plans: 401")


def test_429_honours_retry_after(connect: Connect, app: Emulator,
                                 sleeper: RecordingSleep) -> None:
    app.faults.configure({"rules": [{"fault": "429", "method": "GET", "path": "/companies",
                                     "count": 1}], "retry_after": 3})
    client = connect(app)
    assert list(client.list("companies")) == []
    assert sleeper.calls == [3.0]


def test_5xx_is_retried_on_reads(connect: Connect, app: Emulator,
                                 sleeper: RecordingSleep) -> None:
    seed_companies(app, 2)
    app.faults.configure([{"fault": "503", "method": "GET", "path": "/companies", "count": 2}])
    client = connect(app)
    assert len(list(client.list("companies"))) == 2
    assert len(sleeper.calls) == 2
    assert client.stats.retries == 2


def test_lost_create_is_not_resent_and_is_found_by_lookup(connect: Connect,
                                                          app: Emulator) -> None:
    app.faults.configure([{"fault": "drop", "method": "POST", "path": "/companies",
                           "count": 1}])
    client = connect(app)
    with pytest.raises(TransportError) as info:
        client.create("companies", {"name": "Acme Ltd"})
    assert info.value.outcome_unknown
    assert client.stats.writes == 1  # sent once, never blindly re-sent
    found = client.find("companies", {"name": "Acme Ltd"})
    assert len(found) == 1  # it was committed: the lookup settles it, no duplicate


def test_platform_messages_are_shown_as_is(connect: Connect, app: Emulator) -> None:
    client = connect(app)
    with pytest.raises(ValidationError, match="property colour should not exist"):
        list(client.list("companies", filters={"colour": "red"}))
    location = app.store.insert(ORG, "locations", {"name": "Downtown"})
    company = client.create("companies", {"name": "Acme Ltd"})
    with pytest.raises(ServerError) as info:
        client.create("memberships", {"company": company["_id"], "plan": "0" * 24,
                                      "location": location["_id"], "name": "Hot Desk",
                                      "startDate": "2026-12-01"})
    assert "Specified plan was not found" in str(info.value)
    assert "server error" not in str(info.value).lower()


def test_debug_log_carries_no_secret(connect: Connect, app: Emulator,
                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = connect(app)
    client.create("payment-gateways", {"provider": "stripe", "account": "acct_1",
                                       "secret": "sk_test_NEVERLOGGED4242"})
    tokens = list(app.auth._tokens)  # the live bearer token, from the emulator's side
    assert "payment-gateways -> 201" in caplog.text
    assert "'authorization': '(redacted)'" in caplog.text
    for secret in ("sk_test_NEVERLOGGED4242", *tokens, "client_secret=emulator", "Bearer"):
        assert secret not in caplog.text


# --- the embedded sandbox -----------------------------------------------------------------------


def test_local_sandbox_creates_its_database_and_organization(tmp_path: Path) -> None:
    target = resolve_target("local", None, None, ORG, tmp_path, env={})
    with open_client(target, **FAST) as client:
        assert client.profile is Profile.FULL
        assert client.get_singleton("account")["status"] == "onboarding"
        client.create("companies", {"name": "Acme Ltd"})
    assert (tmp_path / ".flexctl" / "sandbox.db").is_file()
    with open_client(target, **FAST) as again:  # state persists between runs
        assert [c["name"] for c in again.list("companies")] == ["Acme Ltd"]


def test_local_sandbox_is_not_paced_unless_asked(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEXCTL_WRITE_RATE", raising=False)
    target = resolve_target(f"local:{tmp_path}/s.db", None, None, ORG, None, env={})
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    def clock() -> float:
        return now[0]

    waits: list[float] = []
    with open_client(target, sleep=sleep, clock=clock) as client:
        for i in range(40):  # above the default write burst (25)
            client.create("companies", {"name": f"C{i}"})
    assert waits == []
    with open_client(target, write_rate="60/min", sleep=sleep, clock=clock) as paced:
        for i in range(30):  # 15 at once, then one a second
            paced.create("companies", {"name": f"D{i}"})
    assert sum(waits) == pytest.approx(15.0)  # an explicit rate is honoured


@pytest.mark.parametrize("content", [b"not a database, just text\n" * 10, None])
def test_unusable_sandbox_database_is_a_clean_target_error(tmp_path: Path,
                                                           content: bytes | None) -> None:
    db = tmp_path / "sandbox.db"
    if content is None:
        db.mkdir()  # a directory where the database file should be
    else:
        db.write_bytes(content)
    target = resolve_target(f"local:{db}", None, None, ORG, None, env={})
    with pytest.raises(TargetError, match=f"cannot open the sandbox database {db}"):
        open_client(target, **FAST)
