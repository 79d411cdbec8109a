"""Rate limits as the platform shows them: read and write budgets per minute and per day, the
`x-ratelimit-*` headers, and each variant of the 429."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from flexctl.emulator.ratelimit import parse_budgets
from tests.emulator.emu_harness import Emu, nest_error


def _limits(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("x-ratelimit-")}


def test_reads_carry_minute_and_day_budgets(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", rate_limit="reads=400/min,reads=20000/day")
    first = emu.get("plans")
    assert _limits(first) == {
        "x-ratelimit-limit-read-minute": "400", "x-ratelimit-remaining-read-minute": "399",
        "x-ratelimit-reset-read-minute": "60",
        "x-ratelimit-limit-read-day": "20000", "x-ratelimit-remaining-read-day": "19999",
        "x-ratelimit-reset-read-day": "86400",
    }
    emu.app.clock.advance(15)
    second = _limits(emu.get("companies"))
    assert second["x-ratelimit-remaining-read-minute"] == "398"
    assert second["x-ratelimit-reset-read-minute"] == "45"
    assert second["x-ratelimit-reset-read-day"] == "86385"
    emu.app.clock.advance(46)  # a new minute, the same day
    third = _limits(emu.get("plans"))
    assert third["x-ratelimit-remaining-read-minute"] == "399"
    assert third["x-ratelimit-remaining-read-day"] == "19997"


def test_reads_and_writes_have_their_own_budgets(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(rate_limit="reads=3/min,writes=1/min")
    created = emu.post("companies", {"name": "A"})
    assert _limits(created) == {
        "x-ratelimit-limit-write-minute": "1", "x-ratelimit-remaining-write-minute": "0",
        "x-ratelimit-reset-write-minute": "60",
    }
    nest_error(emu.post("companies", {"name": "B"}), 429)
    read = emu.get("companies")
    assert read.status_code == 200 and _limits(read)["x-ratelimit-limit-read-minute"] == "3"
    assert "x-ratelimit-limit-write-minute" not in read.headers


def test_no_headers_without_a_limit_or_when_the_dialect_has_none(
    make_emu: Callable[..., Emu],
) -> None:
    assert _limits(make_emu().get("plans")) == {}
    emu = make_emu(rate_limit="reads=2/min", dialect="rate_headers=absent")
    assert _limits(emu.get("plans")) == {}
    emu.get("plans")
    nest_error(emu.get("plans"), 429)  # the budget still holds


def test_the_day_budget_outlasts_the_minute(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(rate_limit="reads=2/min,reads=3/day")
    emu.get("plans")
    emu.get("plans")
    assert int(nest_error_response(emu.get("plans")).headers["Retry-After"]) == 60
    emu.app.clock.advance(60)
    assert emu.get("plans").status_code == 200
    limited = nest_error_response(emu.get("plans"))
    assert int(limited.headers["Retry-After"]) == 86400 - 60


def nest_error_response(response: httpx.Response) -> httpx.Response:
    body = nest_error(response, 429)
    assert body["message"] == "ThrottlerException: Too Many Requests"
    assert body["error"] == "Too Many Requests"
    return response


def test_429_without_retry_after(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(rate_limit="reads=1/min", dialect="throttling=bare")
    emu.get("plans")
    limited = nest_error_response(emu.get("plans"))
    assert "retry-after" not in limited.headers


def test_no_429_at_all(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(rate_limit="reads=1/min", dialect="throttling=none")
    emu.get("plans")
    over = emu.get("plans")
    assert over.status_code == 200
    assert over.headers["x-ratelimit-remaining-read-minute"] == "0"


def test_a_plain_text_429(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(rate_limit="writes=1/min", dialect="throttle_body=text")
    emu.post("companies", {"name": "A"})
    limited = emu.post("companies", {"name": "B"})
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/plain")
    assert limited.text == "Too many requests, please try again later."
    assert limited.headers["Retry-After"] == "60"


@pytest.mark.parametrize(("dialect", "retry_after", "kind"), [
    ("throttling=bare", None, "application/json"),
    ("throttle_body=text", "0", "text/plain"),
])
def test_injected_429_plays_the_dialect(
    make_emu: Callable[..., Emu], dialect: str, retry_after: str | None, kind: str
) -> None:
    emu = make_emu(dialect=dialect)
    emu.client.post("/_emulator/faults", json={"spec": "429:1.0,retry_after:0"})
    limited = emu.get("plans")
    assert limited.status_code == 429
    assert limited.headers.get("Retry-After") == retry_after
    assert limited.headers["content-type"].startswith(kind)


@pytest.mark.parametrize("spec", ["reads=lots", "reads=5/week", "pages=5/min", "reads=5"])
def test_bad_rate_limit_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="bad rate limit"):
        parse_budgets(spec)
