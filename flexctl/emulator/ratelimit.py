"""Rate limits: separate read and write budgets per token, each per minute, day or other window.

Spec: `reads=400/min,reads=20000/day,writes=100/min`. Windows are fixed and start with a
token's first request in them. An answer under a limit carries the platform's headers
`x-ratelimit-{limit,remaining,reset}-{read|write}-{second|minute|hour|day}` (reset: seconds
until the window starts again); a request over a budget gets 429. The dialect decides whether
the headers are sent, whether the 429 carries `Retry-After` or comes at all, and its body.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

from flexctl.emulator.clock import Clock
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import HttpError

# unit -> (window name in the headers, seconds)
_WINDOWS = {
    "s": ("second", 1.0), "sec": ("second", 1.0), "min": ("minute", 60.0),
    "h": ("hour", 3600.0), "hour": ("hour", 3600.0), "d": ("day", 86400.0),
    "day": ("day", 86400.0),
}
_ENTRY = re.compile(r"^(reads|writes)=(\d+)/(\w+)$")
NEST_THROTTLED = "ThrottlerException: Too Many Requests"
TEXT_THROTTLED = "Too many requests, please try again later."


def throttled(retry_after: int, dialect: Dialect) -> HttpError:
    """The 429 the dialect answers with (the rate limiter's or an injected fault's)."""
    headers = {} if dialect.throttling == "bare" else {"Retry-After": str(retry_after)}
    if dialect.throttle_body == "text":
        return HttpError(429, TEXT_THROTTLED, headers, plain=True)
    return HttpError(429, NEST_THROTTLED, headers)


@dataclass(frozen=True)
class Budget:
    kind: str  # "read" | "write"
    limit: int
    window: str  # "minute", "day", ...
    seconds: float


def parse_budgets(spec: str | None) -> tuple[Budget, ...]:
    """`reads=400/min,writes=100/min` -> budgets; a later entry for the same window wins."""
    budgets: dict[tuple[str, str], Budget] = {}
    for entry in filter(None, (e.strip() for e in (spec or "").split(","))):
        match = _ENTRY.match(entry)
        if not match or match.group(3) not in _WINDOWS:
            raise ValueError(
                f"bad rate limit {entry!r}: use e.g. reads=400/min,reads=20000/day,writes=100/min"
            )
        kind = match.group(1)[:-1]
        window, seconds = _WINDOWS[match.group(3)]
        budgets[(kind, window)] = Budget(kind, int(match.group(2)), window, seconds)
    return tuple(budgets.values())


class RateLimiter:
    """Counts each token's reads and writes against its budgets."""

    def __init__(self, clock: Clock, spec: str | None = None) -> None:
        self.clock = clock
        self.budgets: tuple[Budget, ...] = ()
        self._windows: dict[tuple[str, Budget], tuple[float, int]] = {}
        self._lock = threading.Lock()
        self.configure(spec)

    def configure(self, spec: str | None) -> None:
        budgets = parse_budgets(spec)
        with self._lock:
            self.budgets, self._windows = budgets, {}

    def check(self, token: str, method: str, dialect: Dialect) -> dict[str, str]:
        """Count one request; return its rate-limit headers, or raise the dialect's 429."""
        kind = "read" if method == "GET" else "write"
        budgets = [b for b in self.budgets if b.kind == kind]
        if not budgets:
            return {}
        now = self.clock.now()
        with self._lock:
            windows = [self._window(token, b, now) for b in budgets]
            over = [start + b.seconds - now for b, (start, used) in zip(budgets, windows,
                                                                           strict=True)
                    if used >= b.limit]
            if over and dialect.throttling != "none":
                raise throttled(max(1, math.ceil(max(over))), dialect)
            headers: dict[str, str] = {}
            for budget, (start, used) in zip(budgets, windows, strict=True):
                self._windows[(token, budget)] = (start, used + 1)
                suffix = f"{kind}-{budget.window}"
                headers[f"x-ratelimit-limit-{suffix}"] = str(budget.limit)
                headers[f"x-ratelimit-remaining-{suffix}"] = str(max(0, budget.limit - used - 1))
                headers[f"x-ratelimit-reset-{suffix}"] = str(
                    math.ceil(start + budget.seconds - now))
        return headers if dialect.rate_headers == "present" else {}

    def _window(self, token: str, budget: Budget, now: float) -> tuple[float, int]:
        start, used = self._windows.get((token, budget), (now, 0))
        return (now, 0) if now - start >= budget.seconds else (start, used)

    def reset(self) -> None:
        with self._lock:
            self._windows = {}
