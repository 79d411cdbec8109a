"""Client-side pacing: rates, bursts, separate read/write buckets, time-free."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from flexctl.errors import UsageError
from flexctl.platform.client import FlexClient
from flexctl.platform.pacing import Pacer, Rate, TokenBucket
from tests.platform.platform_fakes import FakeFlex, RecordingSleep


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("400/min", 400 / 60), ("5/s", 5.0), ("3600/hour", 1.0), ("120", 2.0), ("1.5/sec", 1.5)],
)
def test_rate_parsing(text: str, per_second: float) -> None:
    assert Rate.parse(text).per_second == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["fast", "0/min", "10/week", "-1/s", ""])
def test_bad_rates_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        Rate.parse(text)


def test_burst_then_steady_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(Rate.parse("60/min"), burst=5, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        bucket.acquire()
    assert t.sleeps == []  # the burst is free
    for _ in range(10):
        bucket.acquire()
    assert t.now == pytest.approx(10.0)  # then one per second


def test_never_more_than_the_rate_in_any_minute_burst_included() -> None:
    # The burst must not add to the rate: "400/min" is at most 400 reads in any 60 s, which
    # is what a platform limit of 400 a minute allows (a burst of 100 plus a steady 400 would
    # be 500 in the first minute).
    t = FakeTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(1300):
        pacer.acquire("GET")
        stamps.append(t.now)
    assert all(stamps[i + 400] - stamps[i] >= 60 - 1e-6 for i in range(len(stamps) - 400))
    assert stamps[-1] < 60 * 3.3  # and still about 400 a minute in the long run


def test_default_burst_lets_a_small_plan_through_unslowed() -> None:
    t = FakeTime()
    pacer = Pacer.from_settings(clock=t.clock, sleep=t.sleep)
    for _ in range(20):
        pacer.acquire("POST")
    for _ in range(90):
        pacer.acquire("GET")
    assert t.sleeps == []


def test_reads_and_writes_are_paced_separately() -> None:
    t = FakeTime()
    pacer = Pacer(Rate.parse("60/min"), Rate.parse("6/min"), clock=t.clock, sleep=t.sleep)
    pacer.writes.capacity = 1
    pacer.acquire("POST")
    pacer.acquire("GET")
    assert t.sleeps == []
    pacer.acquire("DELETE")
    assert t.sleeps == [pytest.approx(10.0)]


def test_rates_come_from_options_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEXCTL_READ_RATE", "100/min")
    monkeypatch.setenv("FLEXCTL_WRITE_RATE", "10/s")
    pacer = Pacer.from_settings()
    assert pacer.reads.rate.per_second == pytest.approx(100 / 60)
    assert pacer.writes.rate.per_second == 10
    assert Pacer.from_settings(read_rate="1/s").reads.rate.per_second == 1
    monkeypatch.delenv("FLEXCTL_READ_RATE")
    monkeypatch.delenv("FLEXCTL_WRITE_RATE")
    defaults = Pacer.from_settings()
    assert defaults.reads.rate.text == "400/min" and defaults.writes.rate.text == "100/min"


def test_bucket_is_thread_safe() -> None:
    t = FakeTime()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            t.sleep(seconds)

    bucket = TokenBucket(Rate.parse("1000/s"), burst=50, clock=t.clock, sleep=sleep)

    def take() -> None:
        for _ in range(50):
            bucket.acquire()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 200 tokens at 1000/s with 50 up front: at least 0.15 s of (fake) waiting
    assert t.now >= 0.15 - 1e-9


def test_client_requests_are_paced(make_client: Callable[..., FlexClient], fake: FakeFlex,
                                   sleeper: RecordingSleep) -> None:
    fake.seed("members", [{"name": f"m{i}"} for i in range(1000)])
    client = make_client(read_rate="60/min")  # one a second, 15 at once
    assert len(list(client.list("members"))) == 1000  # 20 requests
    assert sleeper.calls == [pytest.approx(1.0)] * 5
