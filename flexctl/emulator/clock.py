"""The emulator's clock: wall time that tests can move forward without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time plus an offset tests control; `sleep` is replaceable for the same reason.

    Token expiry, rate-limit windows, timestamps and injected latency all read this clock, so a
    test can expire a token with `clock.advance(3600)` instead of waiting an hour.
    """

    def __init__(self) -> None:
        self.offset = 0.0
        self.slept = 0.0  # total injected latency, for tests and the stats endpoint
        self.real_sleep = True

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        if self.real_sleep:
            time.sleep(seconds)
        else:
            self.offset += seconds

    def iso_now(self) -> str:
        return iso_timestamp(self.now())


def iso_timestamp(epoch: float) -> str:
    """`2026-12-01T09:30:00.123Z`: the API's timestamp format (milliseconds, UTC)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
