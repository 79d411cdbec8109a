"""Client-side pacing: keep reads and writes under the platform's rate limits.

The platform limits reads and writes independently (reference §3.1; the numbers are not
published, ~400 reads/min is reported). Its answers carry the budget left
(`x-ratelimit-{limit,remaining,reset}-{read,write}-{minute,day}`): while they do, flexctl
spends exactly the minute's remaining budget and then waits for its reset (`HeaderBudget`),
and warns once when the day's budget runs low. Without them it paces itself with one token
bucket per class of request, so a large snapshot does not run into 429s while a burst
allowance lets a small plan run at full speed. A rate given by option or environment is kept
as a ceiling in both cases.

The headers are the platform's word, so they are checked before they govern: a budget that is
not a whole number from 1 to `MAX_BUDGET`, a remainder beyond it, or a reset that is not a
finite time within the window (a minute's budget starts again within `LONGEST_RESET["minute"]`)
is ignored as if absent, with one warning, and the bucket paces. Waiting for a minute's budget
to start again is how a paced read goes at the platform's rate (the progress line shows it), so
a wait is logged as information, and as a warning only from `LOUD_BUDGET_WAIT` (a window that
resets later than a minute); one longer than the caller allows (the request's retry budget) raises
`BudgetSpent` at once instead of sleeping.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flexctl.errors import UsageError
from flexctl.platform.logs import logger
from flexctl.platform.stopping import pause
from flexctl.redaction import shown

log = logger(__name__)

DEFAULT_READ_RATE = "400/min"
DEFAULT_WRITE_RATE = "100/min"
READ_RATE_ENV = "FLEXCTL_READ_RATE"
WRITE_RATE_ENV = "FLEXCTL_WRITE_RATE"

# A quarter of a minute's allowance may be spent at once: a plan of a few dozen changes never
# waits, while the long-run rate stays at the configured limit.
BURST_SECONDS = 15.0
WINDOW_SECONDS = 60.0  # a rate of N a minute never sends more than N in any 60 seconds

DAY_WARNING = 0.1  # warn once when less than this share of the day's budget is left
# A reset larger than this is a point in time (epoch seconds), not seconds to wait.
_EPOCH = 10 * 86400.0
# A window's budget starts again within the window; later than this (slack for clocks and
# rounding) the reset is not the platform's budget, and the headers are ignored.
LONGEST_RESET = {"minute": 120.0, "day": 86400.0 + 3600.0}
MAX_BUDGET = 10_000_000  # requests in one window: beyond any budget a platform sets
LOUD_WAIT = 5.0  # seconds: a retry's wait at least this long is logged as a warning
# Waiting for the budget to start again: the normal pace below this, a warning from it.
LOUD_BUDGET_WAIT = 60.0
_COUNT = re.compile(r"[0-9]+")

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


class BudgetSpent(Exception):
    """The platform's budget is spent and resets later than the caller may wait."""

    def __init__(self, kind: str, wait: float, longest: float) -> None:
        super().__init__(f"the {kind} budget resets in {wait:.0f} s")
        self.kind = kind
        self.wait = wait
        self.longest = longest


class _Unusable(ValueError):
    """Rate-limit headers present but not a budget; the message says which and why."""


class HeaderBudget:
    """The platform's own minute budget for one class of request, as its answers report it.

    `acquire` spends what the last answer said was left, less the requests sent since and
    not answered yet; at zero it waits for the window's reset. Until an answer carries the
    headers (and when they stop coming, or cannot be used) it does not govern: the caller's
    bucket does.
    """

    def __init__(self, kind: str, *, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self.kind = kind  # "read" | "write"
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._left: int | None = None  # None: no header seen, the bucket paces
        self._limit = 0
        self._reset_at = 0.0
        self._pending = 0  # sent under this budget, not answered yet
        self._warned = False
        self._distrusted = False  # unusable headers were reported (once a run)

    @property
    def governs(self) -> bool:
        return self._left is not None

    def acquire(self, longest: float | None = None) -> bool:
        """Wait until one request fits the budget; False when no budget is known.

        A wait for the reset longer than `longest` seconds raises `BudgetSpent` at once.
        """
        announced = False
        while True:
            with self._lock:
                if self._left is None:
                    return False
                now = self._clock()
                if now >= self._reset_at and self._left <= 0:
                    self._left = self._limit  # a new window: the next answer says exactly
                if self._left > 0:
                    self._left -= 1
                    self._pending += 1
                    return True
                wait = self._reset_at - now
            if longest is not None and wait > longest:
                raise BudgetSpent(self.kind, wait, longest)
            if not announced:
                announced = True  # said once per wait: --debug shows each, a long one warns
                log.log(logging.WARNING if wait >= LOUD_BUDGET_WAIT else logging.INFO,
                        "waiting %.0f s for the platform's %s budget to reset "
                        "(x-ratelimit-remaining-%s-minute: 0)", wait, self.kind, self.kind)
            self._sleep(max(wait, 0.001))

    def observe(self, headers: Mapping[str, str], *, spent: bool) -> None:
        """Take an answer's headers (`spent`: it answers a request this budget let go)."""
        try:
            minute = _budget(headers, self.kind, "minute")
        except _Unusable as exc:
            self._distrust(exc)
            with self._lock:
                if spent:
                    self._pending = max(0, self._pending - 1)
                self._left = None  # as if absent: the bucket paces
            return
        with self._lock:
            if spent:
                self._pending = max(0, self._pending - 1)
            if minute is None:
                if spent:
                    self._left = None  # answers stopped carrying the budget: the bucket paces
                return
            limit, remaining, reset = minute
            self._limit = limit
            self._left = max(0, remaining - self._pending)
            self._reset_at = self._clock() + reset
        try:
            day = _budget(headers, self.kind, "day")
        except _Unusable as exc:
            self._distrust(exc)
            return
        if day is not None and not self._warned and day[1] < day[0] * DAY_WARNING:
            self._warned = True
            log.warning("the platform's %s budget for the day is nearly spent: %d of %d left "
                        "(it resets in %.1f h); a large run may be stopped by 429s until then",
                        self.kind, day[1], day[0], day[2] / 3600)

    def _distrust(self, exc: _Unusable) -> None:
        if not self._distrusted:
            self._distrusted = True
            log.warning("the platform's %s budget headers cannot be used (%s); pacing at the "
                        "configured rate instead", self.kind, exc)


def _budget(headers: Mapping[str, str], kind: str, window: str) -> tuple[int, int, float] | None:
    """(limit, remaining, seconds until the reset) of one window; None when its headers are
    absent. Raises `_Unusable` for headers that are present but no budget: a count that is
    not a whole number, a budget of none or beyond `MAX_BUDGET`, more left than the budget,
    a reset that is not a finite time within the window's `LONGEST_RESET`."""
    names = [f"x-ratelimit-{part}-{kind}-{window}" for part in ("limit", "remaining", "reset")]
    values = [headers.get(name) for name in names]
    if all(value is None for value in values):
        return None
    for name, value in zip(names, values, strict=True):
        if value is None:
            raise _Unusable(f"{name} is missing")
    limit_text, remaining_text, reset_text = (str(v) for v in values)
    limit = _count(names[0], limit_text)
    remaining = _count(names[1], remaining_text)
    if not 1 <= limit <= MAX_BUDGET:
        raise _Unusable(f"{names[0]}: {shown(limit_text)} is no budget")
    if remaining > limit:
        raise _Unusable(f"{names[1]}: {shown(remaining_text)} is more than the budget")
    try:
        reset = float(reset_text)
    except ValueError:
        raise _Unusable(f"{names[2]}: {shown(reset_text)} is not a number") from None
    longest = LONGEST_RESET[window]
    if not 0.0 <= reset < math.inf or _seconds(reset) > longest:
        raise _Unusable(f"{names[2]}: {shown(reset_text)} is not within {longest:g} s")
    return limit, remaining, _seconds(reset)


def _count(name: str, text: str) -> int:
    digits = text.strip()
    if not _COUNT.fullmatch(digits):
        raise _Unusable(f"{name}: {shown(text)} is not a whole number")
    if len(digits) > len(str(MAX_BUDGET)):
        raise _Unusable(f"{name}: {shown(text)} is beyond any budget")
    return int(digits)


def _seconds(reset: float) -> float:
    """Seconds until a reset given as seconds to wait or as a point in time."""
    return max(0.0, reset - time.time()) if reset > _EPOCH else max(0.0, reset)


class Pacer:
    """One bucket for reads (GET) and one for writes (POST, PUT, DELETE), each overruled by
    the platform's reported budget while answers carry one (a rate the user set stays a
    ceiling)."""

    def __init__(
        self,
        read_rate: Rate,
        write_rate: Rate,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = pause,
        ceilings: frozenset[str] = frozenset(),
    ) -> None:
        self.reads = TokenBucket(read_rate, clock=clock, sleep=sleep)
        self.writes = TokenBucket(write_rate, clock=clock, sleep=sleep)
        self.budgets = {kind: HeaderBudget(kind, clock=clock, sleep=sleep)
                        for kind in ("read", "write")}
        self._ceilings = ceilings  # "read"/"write": the rate was set by the user

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
        reads = read_rate or os.environ.get(READ_RATE_ENV)
        writes = write_rate or os.environ.get(WRITE_RATE_ENV)
        ceilings = frozenset(k for k, v in (("read", reads), ("write", writes)) if v)
        return cls(Rate.parse(reads or DEFAULT_READ_RATE),
                   Rate.parse(writes or DEFAULT_WRITE_RATE), clock=clock, sleep=sleep,
                   ceilings=ceilings)

    def acquire(self, method: str, *, longest: float | None = None) -> None:
        """Wait until one request of `method` may go; a wait for the platform's budget longer
        than `longest` seconds raises `BudgetSpent` at once."""
        kind = "read" if method.upper() == "GET" else "write"
        if not self.budgets[kind].acquire(longest) or kind in self._ceilings:
            (self.reads if kind == "read" else self.writes).acquire()

    def observe(self, method: str, headers: Mapping[str, str]) -> None:
        """An answer to a request paced here, with its `x-ratelimit-*` headers (lower case)."""
        kind = "read" if method.upper() == "GET" else "write"
        for name, budget in self.budgets.items():
            budget.observe(headers, spent=name == kind)
