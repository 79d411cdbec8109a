"""Body validation in the style of NestJS's class-validator: every problem as one message.

The real v2 API answers a bad body with 400 and `message` as a list such as
`["name must be a string", "property foo should not exist"]`; `validate` produces the same list
and the cleaned document (dates normalized, unknown fields refused). As on the platform, a
missing required field gets its type message (`location must be a string`), and references
are only checked to be strings here: an id that is not an ObjectId fails later, at the
database (a 500, see `rules`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class F:
    """How one body field is checked.

    kind: string | number | integer | boolean | id | ids | strings | date | enum | object | list
    (a list of objects checked against `item`; with `open_items`, keys `item` does not name are
    kept as given instead of refused) | any (taken as it is).
    """

    kind: str
    values: tuple[str, ...] = ()
    nullable: bool = False
    minimum: Decimal | None = None
    item: Mapping[str, F] = field(default_factory=dict)
    open_items: bool = False


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and OBJECT_ID.match(value) is not None


def normalize_date(value: str) -> str | None:
    """`YYYY-MM-DD` or ISO 8601 → `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC); None when not a date."""
    try:
        if _DATE_ONLY.match(value):
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        elif _ISO.match(value):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        else:
            return None
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def validate(
    body: Mapping[str, Any],
    fields: Mapping[str, F],
    *,
    required: Iterable[str] = (),
    prefix: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """Check `body` against `fields`; return the cleaned values and every error message."""
    errors: list[str] = []
    clean: dict[str, Any] = {}
    for name in body:
        if name not in fields:
            errors.append(f"property {prefix}{name} should not exist")
    for name in required:
        if body.get(name) is None and name in fields:
            errors.append(_type_message(f"{prefix}{name}", fields[name]))
    for name, spec in fields.items():
        if name not in body:
            continue
        value, problems = _check(f"{prefix}{name}", body[name], spec)
        errors.extend(problems)
        if not problems:
            clean[name] = value
    return clean, _dedupe(errors)


def _dedupe(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))


def _check(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    if value is None:
        return (None, []) if spec.nullable else (None, [_type_message(name, spec)])
    checker = _CHECKERS[spec.kind]
    return checker(name, value, spec)


def _type_message(name: str, spec: F) -> str:
    return {
        "string": f"{name} must be a string",
        "number": f"{name} must be a number conforming to the specified constraints",
        "integer": f"{name} must be an integer number",
        "boolean": f"{name} must be a boolean value",
        "id": f"{name} must be a string",
        "ids": f"{name} must be an array",
        "strings": f"{name} must be an array",
        "list": f"{name} must be an array",
        "date": f"{name} must be a valid ISO 8601 date string",
        "enum": f"{name} must be one of the following values: {', '.join(spec.values)}",
        "object": f"{name} must be an object",
    }[spec.kind]


def _check_string(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    return (value, []) if isinstance(value, str) else (None, [_type_message(name, spec)])


def _check_number(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None, [_type_message(name, spec)]
    if spec.kind == "integer" and not isinstance(value, int):
        return None, [_type_message(name, spec)]
    if math.isinf(float(Decimal(value))):  # JSON.parse reads 1e400 as Infinity: refused
        return None, [_type_message(name, spec)]
    if spec.minimum is not None and value < spec.minimum:
        return None, [f"{name} must not be less than {spec.minimum}"]
    return value, []


def _check_boolean(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    return (value, []) if isinstance(value, bool) else (None, [_type_message(name, spec)])


def _check_list_of(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    if not isinstance(value, list):
        return None, [_type_message(name, spec)]
    if not all(isinstance(v, str) for v in value):
        return None, [f"each value in {name} must be a string"]
    return list(value), []


def _check_date(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    normalized = normalize_date(value) if isinstance(value, str) else None
    return (normalized, []) if normalized else (None, [_type_message(name, spec)])


def _check_enum(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    return (value, []) if value in spec.values else (None, [_type_message(name, spec)])


def _check_object(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    return (value, []) if isinstance(value, dict) else (None, [_type_message(name, spec)])


def _check_objects(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    if not isinstance(value, list):
        return None, [_type_message(name, spec)]
    items: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            errors.append(f"each value in {name} must be an object")
            continue
        known = spec.item if not spec.open_items else {
            k: spec.item.get(k, _ANYTHING) for k in entry if k != "_id"}
        clean, problems = validate(entry, known, prefix=f"{name}.{index}.")
        if "_id" in entry and is_object_id(entry["_id"]):
            clean["_id"] = entry["_id"]  # an existing sub-document keeps its id
        # in the order given: an item is stored as it came
        items.append({k: clean[k] for k in entry if k in clean})
        errors.extend(p for p in problems if not p.startswith(f"property {name}.{index}._id "))
    return (items, []) if not errors else (None, errors)


def _check_anything(name: str, value: Any, spec: F) -> tuple[Any, list[str]]:
    return value, []


_ANYTHING = F("any", nullable=True)
_CHECKERS = {
    "any": _check_anything,
    "string": _check_string,
    "number": _check_number,
    "integer": _check_number,
    "boolean": _check_boolean,
    "id": _check_string,
    "ids": _check_list_of,
    "strings": _check_list_of,
    "date": _check_date,
    "enum": _check_enum,
    "object": _check_object,
    "list": _check_objects,
}
