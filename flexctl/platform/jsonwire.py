"""JSON as the Flex API and flexctl exchange it: amounts are exact decimals both ways.

A `Decimal` is written as an exact JSON number (`230.00`), never through a binary float; an
answer's numbers with a fraction are read back as `Decimal`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def encode_json(value: Any) -> bytes:
    """JSON text where a `Decimal` is written as an exact number (`230.00`, never a float)."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send the amount {value} to the API")
        return format(value, "f")
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, datetime | date):
        return json.dumps(value.isoformat())
    if isinstance(value, float):
        raise TypeError("floats are never sent to the API; use Decimal")
    return json.dumps(value)


def decode_json(content: bytes) -> Any:
    """Parse an API answer; numbers with a fraction become `Decimal`, never float."""
    if not content.strip():
        return None
    return json.loads(content, parse_float=Decimal)
