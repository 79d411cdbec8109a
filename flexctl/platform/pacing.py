"""Client-side pacing: keep reads and writes under the platform's rate limits.

The platform limits reads and writes independently (reference §3.1; the numbers are not
published, ~400 reads/min is reported). flexctl paces itself with one token bucket per class of
request so a large snapshot does not run into 429s, while a burst allowance lets a small plan
run at full speed.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from flexctl.errors import UsageError
from flexctl.platform.stopping import pause

DEFAULT_READ_RATE = "400/min"
DEFAULT_WRITE_RATE = "100/min"
READ_RATE_ENV = "FLEXCTL_READ_RATE"
WRITE_RATE_ENV = "FLEXCTL_WRITE_RATE"

# A quarter of a minute's allowance may be spent at once: a plan of a few dozen changes never
# waits, while the long-run rate stays at the configured limit.
BURST_SECONDS = 15.0
WINDOW_SECONDS = 60.0  # a rate of N a minute never sends more than N in any 60 seconds

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0,
          "hour": 3600.0}
_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*([a-z]+))?\s*$")


@dataclass(frozen=True)
class Rate:
    """A request rate, e.g. 400 per minute."""

    per_second: float
    text: str

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Parse "400/min", "5/s", "1000/hour" or a bare number (per minute)."""
        match = _RATE_RE.match(text.lower())
        if not match:
            raise UsageError(f"invalid rate {text!r}: expected e.g. 400/min, 5/s or 1000/hour")
        count, unit = float(match.group(1)), match.group(2) or "min"
        if unit not in _UNITS:
            raise UsageError(f"invalid rate {text!r}: unknown unit {unit!r} (use s, min or hour)")
        if count <= 0:
            raise UsageError(f"invalid rate {text!r}: must be greater than zero")
        return cls(per_second=count / _UNITS[unit], text=text.strip())


class TokenBucket:
    """A thread-safe token bucket: `acquire()` blocks until one request may be sent."""

    def __init__(
        self,
        rate: Rate,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = pause,
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate.per_second * BURST_SECONDS)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()
        # The burst must not add to the rate: at most a minute's allowance in any minute.
        self._window_limit = max(1, math.floor(rate.per_second * WINDOW_SECONDS + 1e-9))
        self._recent: deque[float] = deque()  # when the requests of the last window went

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                wait = self._window_wait(now)
                if wait <= 0.0:
                    elapsed = max(0.0, now - self._updated)
                    self._tokens = min(self.capacity,
                                       self._tokens + elapsed * self.rate.per_second)
                    self._updated = now
                    # The tolerance stops float rounding from asking for a wait too small to
                    # move the clock (an endless loop on a coarse or fake clock).
                    if self._tokens >= 1.0 - 1e-9:
                        self._tokens = max(0.0, self._tokens - 1.0)
                        self._recent.append(now)
                        return
                    wait = (1.0 - self._tokens) / self.rate.per_second
            # Sleep outside the lock so other threads can observe the refill too.
            self._sleep(wait)

    def _window_wait(self, now: float) -> float:
        """How long until one more request fits in the last `WINDOW_SECONDS` (0: it fits)."""
        recent = self._recent
        while recent and now - recent[0] >= WINDOW_SECONDS - 1e-9:
            recent.popleft()
        if len(recent) < self._window_limit:
            return 0.0
        return recent[0] + WINDOW_SECONDS - now


class Pacer:
    """One bucket for reads (GET) and one for writes (POST, PUT, DELETE)."""

    def __init__(
        self,
        read_rate: Rate,
        write_rate: Rate,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = pause,
    ) -> None:
        self.reads = TokenBucket(read_rate, clock=clock, sleep=sleep)
        self.writes = TokenBucket(write_rate, clock=clock, sleep=sleep)

    @classmethod
    def from_settings(
        cls,
        read_rate: str | None = None,
        write_rate: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = pause,
    ) -> Pacer:
        """Rates from options, else `FLEXCTL_READ_RATE`/`FLEXCTL_WRITE_RATE`, else defaults."""
        reads = read_rate or os.environ.get(READ_RATE_ENV) or DEFAULT_READ_RATE
        writes = write_rate or os.environ.get(WRITE_RATE_ENV) or DEFAULT_WRITE_RATE
        return cls(Rate.parse(reads), Rate.parse(writes), clock=clock, sleep=sleep)

    def acquire(self, method: str) -> None:
        (self.reads if method.upper() == "GET" else self.writes).acquire()
