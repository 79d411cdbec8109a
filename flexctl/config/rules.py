"""Located semantic rules: the `Checker` each kind's `check` hook reports its problems to (and
its `lint` hook its warnings).

The checker knows where every key was written (the position index) and which parts of the
configuration failed the schema (left out of the config it checks, so references to them are
not reported a second time). Every rule runs and every problem is collected.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

from flexctl.config.currency import minor_units
from flexctl.errors import ConfigIssue

KeyPath = tuple[str | int, ...]
Broken = dict[str, set[str] | None]  # section -> keys left out of the config (None: all)
# Unit prices of one-off plans and fees may be finer than the currency (printing at 0.0125 a
# page); the platform rounds the invoice line total to the currency.
UNIT_PRICE_DECIMALS = 4
_SUGGEST_LIMIT = 500  # above this many keys, skip "did you mean" (it is quadratic)


class Locator(Protocol):
    def issue(self, path: KeyPath, message: str) -> ConfigIssue: ...


Finding = tuple[KeyPath, str, str]  # a warning not yet located: path, message, code


def located(found: Sequence[Finding], index: Locator) -> list[ConfigIssue]:
    """Warnings with their file, line and column, in the order issues sort in."""
    return sorted(replace(index.issue(path, message), code=code) for path, message, code in found)


def decimal_places(amount: Decimal) -> int:
    """Significant decimal places: 0.10 has 1, 25 has 0, 1e-5 has 5 (exact, no rounding)."""
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or not any(digits):
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing)


class Checker:
    """Collects located issues; resolves references against the config's sections."""

    def __init__(
        self,
        sections: Mapping[str, Mapping[str, Any]],
        currency: str,
        index: Locator,
        broken: Broken,
        nouns: Mapping[str, str],
        ignored: Collection[str] = (),
    ) -> None:
        self.sections = sections  # section -> {key: model}, for references
        self.currency = currency
        self.index = index
        self.broken = broken
        self.nouns = nouns  # section -> noun in messages ("revenue account")
        self.issues: list[ConfigIssue] = []
        # The pricing lint's (see flexctl.config.lint), not yet located: (path, message, code).
        # Only `validate` shows them, and where a configuration was loaded without every key's
        # position, locating 4,000 of them would compose its files again.
        self.found: list[Finding] = []
        self.ignored = frozenset(ignored)  # warning codes `policy.ignore_warnings` silences
        self.minor = minor_units(currency)

    def add(self, path: KeyPath, message: str) -> None:
        self.issues.append(self.index.issue(path, message))

    def warn(self, path: KeyPath, code: str, message: str, ignore: Collection[str] = ()) -> None:
        """A warning, unless the object (`ignore`: its `ignore_warnings`) or the policy
        silences its code; located when asked (`located`)."""
        if code in self.ignored or code in ignore:
            return
        self.found.append((path, message, code))

    def ref(self, path: KeyPath, key: str | None, section: str) -> bool:
        """Report `key` if it is not a key of `section`; True when it resolves."""
        if key is None:
            return True
        keys = self.sections.get(section, {})
        if key in keys:
            return True
        if section in self.broken:
            left_out = self.broken[section]
            if left_out is None or key in left_out:
                return False  # already reported by the schema check
        hint = ""
        if len(keys) <= _SUGGEST_LIMIT:
            close = difflib.get_close_matches(key, list(keys), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.add(path, f"unknown {self.nouns.get(section, section)} '{key}'{hint}")
        return False

    def refs(self, path: KeyPath, keys: Sequence[str] | None, section: str) -> None:
        seen: set[str] = set()
        for number, key in enumerate(keys or ()):
            if key in seen:
                self.add((*path, number), f"'{key}' is listed twice")
            seen.add(key)
            self.ref((*path, number), key, section)

    def amount(self, path: KeyPath, value: Decimal | None, unit_price: bool = False) -> None:
        """An amount has at most the currency's digits (a unit price at most 4)."""
        if value is None or "currency" in self.broken:
            return
        allowed = max(self.minor, UNIT_PRICE_DECIMALS) if unit_price else self.minor
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent <= allowed:
            return  # no more decimal places written than allowed (most amounts: no counting)
        places = decimal_places(value)
        if places > allowed:
            what = "unit prices of one-off plans and fees" if unit_price else (
                f"{self.currency} amounts")
            plural = "" if places == 1 else "s"
            self.add(
                path, f"{value} has {places} decimal place{plural}; {what} allow at most {allowed}"
            )
