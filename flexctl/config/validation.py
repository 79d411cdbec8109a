"""Validate merged plain values against the pydantic models, with located, readable errors.

pydantic's messages and locations are written for Python developers; this module turns each
error into `file:line:col: dotted.path: message` in the config's own words ("unknown key
'pricee'", "expected a boolean (true or false), got 'yes'").
"""

from __future__ import annotations

import difflib
from typing import Any

import pydantic

from flexctl.config.composer import Path
from flexctl.config.loader import PositionIndex
from flexctl.config.models import OBJECT_ID_PATTERN, SLUG_PATTERN, Config, Model
from flexctl.config.scalars import describe
from flexctl.errors import ConfigError, ConfigIssue

_PATTERN_MESSAGES = {
    SLUG_PATTERN: "must be a slug: lowercase letters, digits, '-' and '_', "
    "starting with a letter or digit",
    OBJECT_ID_PATTERN: "must be a platform id: 24 hexadecimal characters",
    r"^[A-Z]{3}$": "must be a three-letter ISO 4217 currency code such as EUR",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "is not a valid email address",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "must be an environment variable name (letters, digits, _)",
}
_TYPE_NAMES = {
    "bool_type": "a boolean (true or false)",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "decimal_type": "a number",
}


def _vocabulary() -> list[str]:
    """Every key the format knows, for "did you mean" hints."""
    words: set[str] = set()
    pending: list[type[Model]] = [Model]
    while pending:
        model = pending.pop()
        words.update(model.model_fields)
        pending.extend(model.__subclasses__())
    return sorted(words)


_VOCABULARY = _vocabulary()


def validate(data: dict[str, Any], index: PositionIndex) -> Config:
    """The Config for `data`; raise ConfigError with every schema problem, located."""
    try:
        return Config.model_validate(data)
    except pydantic.ValidationError as exc:
        issues = [_issue(error, data, index) for error in exc.errors(include_url=False)]
        raise ConfigError(sorted(set(issues))) from None


def _data_path(loc: tuple[Any, ...], data: Any) -> Path:
    """pydantic's loc as a path into the data, without union and discriminator tags."""
    path: list[str | int] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict):
            if part in node:
                node = node[part]
            elif isinstance(part, str) and (node.get("provider") == part or "[" in part):
                continue  # the tag pydantic adds for the gateway variant or a validator
            else:
                node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        path.append(part)
    return tuple(path)


def _issue(error: Any, data: dict[str, Any], index: PositionIndex) -> ConfigIssue:
    path = _data_path(tuple(error["loc"]), data)
    kind = error["type"]
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        path = (*path, "provider")
    return index.issue(path, _message(error, path))


def _message(error: Any, path: Path) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing" or kind == "union_tag_not_found":
        return f"required key '{path[-1]}' is missing"
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(str(path[-1]), _VOCABULARY, n=1)
        return f"unknown key '{path[-1]}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {describe(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {describe(value)}"
    if kind == "union_tag_invalid":
        return f"unknown provider {describe(ctx.get('tag'))}; expected {ctx.get('expected_tags')}"
    if kind == "string_pattern_mismatch":
        rule = _PATTERN_MESSAGES.get(str(ctx.get("pattern")))
        return f"{describe(value)} {rule}" if rule else f"{describe(value)} {error['msg']}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {describe(value)}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return str(error["msg"])
