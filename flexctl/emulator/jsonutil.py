"""JSON for the emulator: money stays exact.

Request bodies are parsed with floats as `Decimal`, and documents are written back with each
`Decimal` as a JSON number carrying exactly its digits (`230.00`, not `230.0`), which the stdlib
encoder cannot do.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_encode_string = json.encoder.encode_basestring_ascii


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; the stdlib would accept them by default.
    raise ValueError(f"Unexpected token {name} in JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON with exact decimals; raises `ValueError` on anything that is not JSON."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:  # thousands of nested brackets: refused, not an emulator crash
        raise ValueError("JSON nested too deeply") from None


def dumps(value: Any) -> str:
    """Serialize plain JSON values, writing `Decimal`s as exact JSON numbers."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        out.append(_decimal_text(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(_encode_string(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, float):
        out.append(repr(value))
    else:
        raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError("non-finite decimal")
    text = format(value, "f")  # never exponent notation: 1E+2 -> 100
    return text
