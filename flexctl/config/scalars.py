"""How flexctl reads YAML scalars: the values of plain (unquoted) scalars.

flexctl resolves plain scalars itself instead of using a YAML library's resolver, so that
numbers with a fraction or exponent become exact `Decimal`s parsed from the source text (never a
float), and YAML 1.1 words such as `yes`/`on` stay strings (a boolean field then rejects them).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

_INT = re.compile(r"[-+]?[0-9]+\Z")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_SPECIAL = {
    ".inf": Decimal("Infinity"),
    ".Inf": Decimal("Infinity"),
    ".INF": Decimal("Infinity"),
    "+.inf": Decimal("Infinity"),
    "-.inf": Decimal("-Infinity"),
    "-.Inf": Decimal("-Infinity"),
    ".nan": Decimal("NaN"),
    ".NaN": Decimal("NaN"),
    ".NAN": Decimal("NaN"),
}
# Python refuses int() on very long digit strings; such numbers stay exact as Decimal.
_MAX_INT_DIGITS = 100


def resolve_plain(text: str) -> Any:
    """Value of an unquoted scalar (YAML 1.2 core schema, plus dates; numbers exact).

    Raises ValueError for a date-shaped scalar that is not a real date (2026-02-30), and for a
    number whose exponent Decimal cannot hold.
    """
    if text in _NULLS:
        return None
    first = text[0]
    if first in "0123456789+-.":
        if _INT.match(text):
            return _integer(text)
        if _DECIMAL.match(text):
            return _decimal(text)
        match = _DATE.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"invalid date '{text}': {exc}") from None
        special = _SPECIAL.get(text)
        if special is not None:
            return special
        return text
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return text


def _integer(text: str) -> int | Decimal:
    if len(text) > _MAX_INT_DIGITS:
        return _decimal(text)
    number = int(text)
    # -0 stays a Decimal, which keeps the sign: an amount written -0 is refused, not sent as 0.
    return _decimal(text) if number == 0 and text[0] == "-" else number


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent Decimal cannot hold, such as 1e9999999999999999999
        raise ValueError(f"{_shorten(text)} is out of range for a number") from None


def describe(value: Any) -> str:
    """A short rendering of a loaded value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(_shorten(value))
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, date):
        return value.isoformat()
    return _shorten(str(value))


def _shorten(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
