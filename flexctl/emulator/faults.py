"""Injected faults: how the emulator misbehaves on purpose.

Faults come from a spec string (`500:0.10,429:0.05,drop:0.03,latency:50ms,seed:7,retry_after:0`)
or JSON rules (`{"fault": "500", "rate": 0.5, "method": "POST", "path": "/members$",
"query": "modifiedAt", "count": 2}`; `query` matches the raw query string). Rates draw from a
seeded RNG so a run is reproducible. `drop` applies to writes: the write commits, then the
client sees the connection drop. An injected 429 looks like the rate limiter's (the dialect
decides its `Retry-After` and body); another 4xx or a 5xx is a NestJS error body.

Shaping faults (`SHAPING`) answer a list, but bent: `short_page` (at most 20 per page whatever
`$limit` asks), `repeat_page` (a `$cursorNext` leads to the first page again), `ignore_select`
(whole documents whatever `$select` asks), `omit_field` with `"field": "price"` (every document
without it). They let a client's checks of the platform (`flexctl doctor`) be tested failing.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flexctl.emulator import jsonutil
from flexctl.emulator.clock import Clock
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import HttpError
from flexctl.emulator.ratelimit import throttled

_RULE_KEYS = {"fault", "rate", "method", "path", "query", "field", "count", "latency_ms"}
SHAPING = ("short_page", "repeat_page", "ignore_select", "omit_field")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
MAX_LATENCY_MS = 60_000  # a minute: longer would only hang the client under test


@dataclass
class Rule:
    fault: str  # "429", "drop", "latency" or a 5xx status such as "500"
    rate: float = 1.0
    method: str | None = None
    path: re.Pattern[str] | None = None
    count: int | None = None  # fire at most this many times
    latency: float = 0.0  # seconds, for "latency"
    fired: int = 0
    query: re.Pattern[str] | None = None
    field: str | None = None  # omit_field: the field left out

    def matches(self, method: str, path: str, query: str = "") -> bool:
        if self.count is not None and self.fired >= self.count:
            return False
        if self.method and self.method != method:
            return False
        if self.query and not self.query.search(query):
            return False
        return not (self.path and not self.path.search(path))

    @property
    def shaping(self) -> bool:
        return self.fault in SHAPING

    def describe(self) -> dict[str, Any]:
        latency_ms = round(self.latency * 1000, 3)
        return {
            "fault": self.fault, "rate": self.rate, "method": self.method,
            "path": self.path.pattern if self.path else None,
            "query": self.query.pattern if self.query else None, "field": self.field,
            "count": self.count,
            "latency_ms": int(latency_ms) if latency_ms.is_integer() else latency_ms,
            "fired": self.fired,
        }


class Faults:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.rules: list[Rule] = []
        self.retry_after = 1
        self._rng = random.Random(0)
        self._lock = threading.Lock()

    def configure(self, spec: str | list[Any] | Mapping[str, Any] | None) -> None:
        """Replace the rules: a spec string, a list of JSON rules, or `{"spec"|"rules", ...}`
        (either of those also as JSON text)."""
        rules: list[Rule] = []
        seed, retry_after = 0, 1
        if isinstance(spec, str) and spec.lstrip().startswith(("[", "{")):
            try:  # JSON rules given as text (`emulator serve --faults '[{...}]'`)
                parsed = jsonutil.loads(spec)
            except ValueError as exc:
                raise ValueError(f"bad fault rules: not JSON ({exc})") from None
            self.configure(parsed if isinstance(parsed, list | Mapping) else str(parsed))
            return
        if isinstance(spec, str):
            rules, seed, retry_after = _parse_spec(spec)
        elif isinstance(spec, list):
            rules = [_parse_rule(r) for r in spec]
        elif isinstance(spec, Mapping):
            unknown = set(spec) - {"spec", "rules", "seed", "retry_after"}
            if unknown:
                raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
            if "spec" in spec:
                rules, seed, retry_after = _parse_spec(str(spec["spec"]))
            rules += [_parse_rule(r) for r in spec.get("rules", [])]
            seed = _whole(spec, "seed", seed)
            retry_after = _whole(spec, "retry_after", retry_after)
        with self._lock:
            self.rules, self.retry_after = rules, retry_after
            self._rng = random.Random(seed)

    def clear(self) -> None:
        self.configure(None)

    def describe(self) -> dict[str, Any]:
        return {"rules": [r.describe() for r in self.rules], "retry_after": self.retry_after}

    def before(
        self, method: str, path: str, dialect: Dialect | None = None, query: str = ""
    ) -> None:
        """Apply latency, then maybe answer with an injected error instead of handling."""
        delay = 0.0
        error: HttpError | None = None
        with self._lock:
            for rule in self.rules:
                if rule.fault == "drop" or rule.shaping or not rule.matches(method, path, query) \
                        or not self._roll(rule):
                    continue
                rule.fired += 1
                if rule.fault == "latency":
                    delay += rule.latency
                elif error is None:
                    error = self._error(rule.fault, dialect or Dialect())
        if delay:
            self.clock.sleep(delay)
        if error is not None:
            raise error

    def shaping(self, method: str, path: str, query: str = "") -> frozenset[str]:
        """The shaping faults that bend this request's answer (`omit:<field>` for a field)."""
        found: set[str] = set()
        with self._lock:
            for rule in self.rules:
                if rule.shaping and rule.matches(method, path, query) and self._roll(rule):
                    rule.fired += 1
                    found.add(f"omit:{rule.field}" if rule.fault == "omit_field" else rule.fault)
        return frozenset(found)

    def should_drop(self, method: str, path: str) -> bool:
        """After a committed write: should the client lose the connection?"""
        if method == "GET":
            return False
        with self._lock:
            for rule in self.rules:
                if rule.fault == "drop" and rule.matches(method, path) and self._roll(rule):
                    rule.fired += 1
                    return True
        return False

    def _roll(self, rule: Rule) -> bool:
        return rule.rate >= 1.0 or self._rng.random() < rule.rate

    def _error(self, fault: str, dialect: Dialect) -> HttpError:
        if fault == "429":
            return throttled(self.retry_after, dialect)
        if fault.startswith("4"):
            return HttpError(int(fault), "Refused (injected fault)")
        return HttpError(int(fault), "Internal server error (injected fault)")


def _parse_spec(spec: str) -> tuple[list[Rule], int, int]:
    rules: list[Rule] = []
    seed, retry_after = 0, 1
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        name, _, value = entry.partition(":")
        name = name.strip().lower().replace("-", "_")
        if name == "seed":
            seed = _int(value, entry)
        elif name == "retry_after":
            retry_after = _int(value, entry)
        elif name == "latency":
            rules.append(Rule("latency", latency=_duration(value, entry)))
        else:
            rules.append(_parse_rule({"fault": name, "rate": _rate(value, entry)}))
    return rules, seed, retry_after


def _parse_rule(raw: Any) -> Rule:
    if not isinstance(raw, Mapping):
        raise ValueError("a fault rule must be an object")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ValueError(f"unknown fault rule keys: {', '.join(sorted(unknown))}")
    fault = str(raw.get("fault", "")).lower()
    if fault not in ("drop", "latency", *SHAPING) and not re.match(r"^[45]\d\d$", fault):
        raise ValueError(f"unknown fault {fault!r}: use drop, latency, a 4xx or 5xx status, "
                         f"or {', '.join(SHAPING)}")
    field = raw.get("field")
    if (fault == "omit_field") != isinstance(field, str) or (field is not None and not field):
        raise ValueError("omit_field needs a \"field\" to leave out (and only it takes one)")
    path, query = _regex(raw, "path"), _regex(raw, "query")
    rate = raw.get("rate", 1.0)
    count = raw.get("count")
    method = raw.get("method")
    latency_ms = raw.get("latency_ms", 0)
    if not _is_number(rate) or not 0 <= rate <= 1:
        raise ValueError(f"fault rate must be between 0 and 1, not {_shown(rate)}")
    if count is not None and (not isinstance(count, int) or count < 0):
        raise ValueError(f"fault count must be a non-negative integer, not {_shown(count)}")
    if method is not None and not isinstance(method, str):
        raise ValueError(f"method must be a string, not {_shown(method)}")
    if not _is_number(latency_ms) or not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise ValueError(
            f"latency_ms must be a number from 0 to {MAX_LATENCY_MS}, not {_shown(latency_ms)}"
        )
    return Rule(
        fault,
        rate=float(rate),
        method=method.upper() if method else None,
        path=path,
        count=count,
        latency=float(latency_ms) / 1000,
        query=query,
        field=field,
    )


def _regex(raw: Mapping[str, Any], key: str) -> re.Pattern[str] | None:
    try:
        return re.compile(str(raw[key])) if raw.get(key) else None
    except re.error as exc:
        raise ValueError(f"bad {key} regex {raw[key]!r}: {exc}") from exc


def _is_number(value: Any) -> bool:
    # JSON numbers with a fraction arrive as exact Decimals (emulator.jsonutil).
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _whole(settings: Mapping[str, Any], key: str, default: int) -> int:
    value = settings.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a whole number >= 0, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


def _rate(text: str, entry: str) -> float:
    try:
        rate = float(text) if text else 1.0
    except ValueError:
        raise ValueError(f"bad fault {entry!r}: the rate must be a number like 0.05") from None
    if not 0 <= rate <= 1:
        raise ValueError(f"bad fault {entry!r}: the rate must be between 0 and 1")
    return rate


def _int(text: str, entry: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"bad fault setting {entry!r}: expected a whole number")
    return int(text)


def _duration(text: str, entry: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"bad latency {entry!r}: use e.g. latency:50ms or latency:1s")
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value
