"""Pacing by the platform's own budget (`x-ratelimit-*` headers), time-free."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flexctl.emulator import create_app
from flexctl.kinds.base import Profile
from flexctl.platform.pacing import Pacer, Rate
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from tests.platform.test_platform_pacing import FakeTime


def headers(remaining: int, reset: float, *, limit: int = 400, day: int = 20000,
            day_left: int = 19000) -> dict[str, str]:
    return {"x-ratelimit-limit-read-minute": str(limit),
            "x-ratelimit-remaining-read-minute": str(remaining),
            "x-ratelimit-reset-read-minute": str(reset),
            "x-ratelimit-limit-read-day": str(day),
            "x-ratelimit-remaining-read-day": str(day_left),
            "x-ratelimit-reset-read-day": "40000"}


def test_the_minute_budget_is_spent_then_its_reset_awaited() -> None:
    t = FakeTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    pacer.acquire("GET")
    pacer.observe("GET", headers(remaining=3, reset=20))
    for left in (2, 1, 0):  # exactly what is left, at once, not at the configured 400/min
        pacer.acquire("GET")
        pacer.observe("GET", headers(remaining=left, reset=20 - t.now))
    assert t.sleeps == []
    pacer.acquire("GET")  # nothing left: wait for the window to start again
    assert t.now == pytest.approx(20.0)


def test_requests_in_flight_count_against_what_the_last_answer_said() -> None:
    t = FakeTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    pacer.acquire("GET")
    pacer.observe("GET", headers(remaining=2, reset=30))
    pacer.acquire("GET")
    pacer.acquire("GET")  # two sent, none answered: the budget of 2 is spent
    pacer.acquire("GET")
    assert t.now == pytest.approx(30.0)


def test_without_headers_the_configured_rate_paces_and_a_set_rate_stays_a_ceiling() -> None:
    t = FakeTime()
    pacer = Pacer(Rate.parse("60/min"), Rate.parse("60/min"), clock=t.clock, sleep=t.sleep)
    pacer.reads.capacity = 1
    pacer.acquire("GET")
    pacer.observe("GET", {})
    pacer.acquire("GET")
    assert t.now == pytest.approx(1.0)  # the bucket: one a second
    capped = Pacer(Rate.parse("60/min"), Rate.parse("60/min"), clock=t.clock, sleep=t.sleep,
                   ceilings=frozenset({"read"}))
    capped.reads.capacity = 1
    capped.acquire("GET")
    capped.observe("GET", headers(remaining=300, reset=60))
    before = t.now
    capped.acquire("GET")
    assert t.now - before == pytest.approx(1.0)  # the user's rate, though the budget allows more


def test_a_day_budget_running_low_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    t = FakeTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    with caplog.at_level(logging.WARNING):
        for left in (5000, 1500, 1400):
            pacer.acquire("GET")
            pacer.observe("GET", headers(remaining=100, reset=60, day_left=left))
    warnings = [r.getMessage() for r in caplog.records if "day" in r.getMessage()]
    assert len(warnings) == 1 and "1500 of 20000 left" in warnings[0]


def test_a_plan_against_a_budgeted_emulator_waits_no_429_and_no_more_than_the_floor(
        tmp_path: Path) -> None:
    app = create_app(str(tmp_path / "e.db"), profile="full", orgs=("acme",),
                     rate_limit="reads=10/min")
    app.clock.real_sleep = False
    target = Target(api_url="http://emulator.test/api/v2", org="acme",
                    token_url="http://emulator.test/oauth/token", client_id="emulator",
                    client_secret="emulator")
    with open_client(target, app=app, scopes=profile_scopes(Profile.FULL),
                     clock=app.clock.now, sleep=app.clock.sleep) as client:
        location = client.create("locations", {"name": "Main"})["_id"]
        for n in range(120):  # three pages of plans
            client.create("plans", {"name": f"Plan {n}", "price": 10, "intervalLength": "once",
                                    "locations": [location]})
        began = app.clock.now()
        reads = client.stats.reads
        for _ in range(9):
            assert len(list(client.list("plans"))) == 120
        spent = app.clock.now() - began
        assert client.stats.retries == 0  # no 429: the budget was never overrun
        made = client.stats.reads - reads
    assert made == 27
    # 27 reads at 10 a minute: two windows waited out, no more (the floor), within 5%.
    assert 120 - 1 <= spent <= 120 * 1.05
