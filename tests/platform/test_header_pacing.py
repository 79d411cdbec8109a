"""Pacing by the platform's own budget (`x-ratelimit-*` headers), time-free."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest

from flexctl.emulator import create_app
from flexctl.errors import RateLimitedError
from flexctl.kinds.base import Profile
from flexctl.platform.http import Timeouts
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


class BoundedTime(FakeTime):
    """FakeTime that fails a test instead of hanging it: at most an hour, 1000 waits."""

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.now > 3600 or len(self.sleeps) > 1000:
            raise AssertionError(f"waited {self.now} s in {len(self.sleeps)} sleeps")


def _minute(limit: object, remaining: object, reset: object) -> dict[str, str]:
    return {"x-ratelimit-limit-read-minute": str(limit),
            "x-ratelimit-remaining-read-minute": str(remaining),
            "x-ratelimit-reset-read-minute": str(reset)}


@pytest.mark.parametrize(("limit", "remaining", "reset"), [
    (400, 0, 800000),  # a "minute" that resets in nine days
    (400, 0, 3600),  # ... or in an hour
    (0, 0, 1),  # a budget of nothing: it would never let a request go
    (-5, -5, -5),
    (400, 0, "inf"),  # crashed: OverflowError
    (400, 0, "nan"),
    (400, 0, "-1"),
    (400, 0, "1e400"),
    ("many", 0, 30),
    (400, "0.5", 30),
    (400, 401, 30),  # more left than the budget holds
    (10**40, 0, 30),
    (400, 0, ""),
])
def test_unusable_budget_headers_are_ignored_for_the_configured_rate(
        limit: object, remaining: object, reset: object,
        caplog: pytest.LogCaptureFixture) -> None:
    t = BoundedTime()
    pacer = Pacer(Rate.parse("60/min"), Rate.parse("60/min"), clock=t.clock, sleep=t.sleep)
    pacer.reads.capacity = 1
    with caplog.at_level(logging.DEBUG, logger="flexctl.platform.pacing"):
        for _ in range(3):
            pacer.acquire("GET")
            pacer.observe("GET", _minute(limit, remaining, reset))
    assert not pacer.budgets["read"].governs
    assert t.now == pytest.approx(2.0)  # the configured 60/min: one a second, no long wait
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "x-ratelimit-" in said[0] and "\n" not in said[0]


def test_unusable_day_headers_warn_of_nothing_and_crash_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    t = BoundedTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    day = {"x-ratelimit-limit-read-day": "20000", "x-ratelimit-remaining-read-day": "5",
           "x-ratelimit-reset-read-day": "inf"}
    with caplog.at_level(logging.WARNING):
        pacer.acquire("GET")
        pacer.observe("GET", {**_minute(400, 300, 30), **day})
    assert pacer.budgets["read"].governs  # the minute's budget is sound: it still paces
    assert not [r for r in caplog.records if "nearly spent" in r.getMessage()]


def test_usable_headers_after_unusable_ones_govern_again() -> None:
    t = BoundedTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    pacer.acquire("GET")
    pacer.observe("GET", _minute(400, 0, 800000))
    assert not pacer.budgets["read"].governs
    pacer.acquire("GET")
    pacer.observe("GET", _minute(400, 0, 20))
    pacer.acquire("GET")
    assert t.now == pytest.approx(20.0)


def test_a_reset_as_a_point_in_time_is_bounded_like_seconds() -> None:
    t = BoundedTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    pacer.acquire("GET")
    pacer.observe("GET", _minute(400, 0, time.time() + 9 * 86400 + 3 * 86400))
    assert not pacer.budgets["read"].governs
    pacer.observe("GET", _minute(400, 0, time.time() + 30))
    assert pacer.budgets["read"].governs


@pytest.mark.parametrize(("reset", "level"), [(45, logging.INFO), (90, logging.WARNING)])
def test_a_wait_for_the_reset_is_said_and_a_long_one_is_a_warning(
    caplog: pytest.LogCaptureFixture, reset: int, level: int,
) -> None:
    # Waiting out a minute's window is how a paced read goes (the progress line shows it): a
    # note for --debug; a window that starts again later than a minute is worth a warning.
    t = BoundedTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    pacer.acquire("GET")
    pacer.observe("GET", _minute(400, 0, reset))
    with caplog.at_level(logging.INFO, logger="flexctl.platform.pacing"):
        pacer.acquire("GET")
    assert t.now == pytest.approx(float(reset))
    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert said == [(level, f"waiting {reset} s for the platform's read budget to reset "
                            "(x-ratelimit-remaining-read-minute: 0)")]


def test_a_wait_beyond_the_retry_budget_fails_at_once_naming_the_budget() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"results": []}, headers=_minute(400, 0, 100))

    target = Target(api_url="http://flex.test/api/v2", org="acme",
                    token_url="http://flex.test/oauth/token", client_id="c", client_secret="s")
    with open_client(target, transport=httpx.MockTransport(answer), scopes=("x",),
                     timeouts=Timeouts(read=20, budget=60), clock=lambda: now[0],
                     sleep=sleep) as client:
        assert list(client.list("plans")) == []
        with pytest.raises(RateLimitedError) as info:
            list(client.list("plans"))
    assert str(info.value) == (
        "GET /api/v2/organizations/acme/plans: 429 not sent: the platform's read budget is "
        "spent (x-ratelimit-remaining-read-minute: 0) (it resets in 100 s, longer than the "
        "retry budget of 60 s (FLEXCTL_RETRY_BUDGET); try again later)")
    assert slept == [] and client.stats.reads == 1
