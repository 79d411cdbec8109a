"""Validate merged plain values against the pydantic models, with located, readable errors.

pydantic's messages and locations are written for Python developers; this module turns each
error into `file:line:col: dotted.path: message` in the config's own words ("unknown key
'pricee'", "expected a boolean (true or false), got 'yes'").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from datetime import date
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from flexctl.config.composer import Path
from flexctl.config.loader import PositionIndex
from flexctl.config.rules import Broken
from flexctl.config.scalars import describe
from flexctl.config.types import EMAIL_PATTERN, OBJECT_ID_PATTERN, SLUG_PATTERN
from flexctl.errors import ConfigIssue

_PATTERN_MESSAGES = {
    SLUG_PATTERN: "must be a slug: lowercase letters, digits, '-' and '_', "
    "starting with a letter or digit",
    OBJECT_ID_PATTERN: "must be a platform id: 24 hexadecimal characters",
    r"^[A-Z]{3}$": "must be a three-letter ISO 4217 currency code such as EUR",
    EMAIL_PATTERN: "is not a valid email address",
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


def _unwrap(annotation: Any, node: Any) -> Any:
    """Strip Annotated and Optional; pick a tagged union's member by the data's tag field."""
    tag: str | None = None
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            args = get_args(annotation)
            for meta in args[1:]:
                if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                    tag = meta.discriminator
            annotation = args[0]
        elif origin in (Union, UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) > 1 and tag is not None and isinstance(node, dict):
                members = [
                    member
                    for member in members
                    if isinstance(member, type)
                    and issubclass(member, BaseModel)
                    and tag in member.model_fields
                    and get_args(member.model_fields[tag].annotation) == (node.get(tag),)
                ]
            if len(members) != 1:
                return None
            annotation = members[0]
        else:
            return annotation


def _known_keys(model: type[BaseModel], path: Path, data: Any) -> list[str]:
    """The keys the model at `path` accepts (for "did you mean" hints)."""
    annotation: Any = model
    node = data
    for part in path:
        annotation = _unwrap(annotation, node)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            annotation = field.annotation if field else None
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return []
        node = _child(node, part)
    annotation = _unwrap(annotation, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _quoted_ok(kind: str, text: str) -> bool:
    """Whether `text`, written without quotes, would be a value of the expected type."""
    if kind.startswith("date"):
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None
    if kind.startswith("bool"):
        return text in ("true", "false")
    if kind.startswith("int"):
        return re.fullmatch(r"-?\d+", text) is not None
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def _unquoted_fits(kind: str, value: Any) -> bool:
    return isinstance(value, str) and _quoted_ok(kind, value)


# Stand-ins for malformed top-level settings, so the rules can still check everything else.
_STAND_INS: dict[str, Any] = {"version": 1, "organization": "invalid", "currency": "XXX"}


class Validated:
    """The models' verdict: every schema issue, and the config built from the rest."""

    __slots__ = ("broken", "config", "issues")

    def __init__(self, config: BaseModel | None, issues: list[ConfigIssue], broken: Broken) -> None:
        self.config = config  # None when not even the well-formed part makes a config
        self.issues = issues
        self.broken = broken  # what `config` leaves out because it is malformed


def validate(
    data: dict[str, Any],
    index: PositionIndex,
    model: type[BaseModel],
    keyed_sections: Collection[str],
) -> Validated:
    """Validate `data` against `model`; on errors, also build a config from its well-formed
    entries so the semantic rules can run on them in the same pass (every error at once).
    `keyed_sections` are the sections that map keys to objects."""
    try:
        return Validated(model.model_validate(data), [], {})
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
    issues = sorted({_issue(model, error, data, index) for error in errors})
    rest, broken = _well_formed_part(data, errors, keyed_sections)
    try:
        config: BaseModel | None = model.model_validate(rest)
    except pydantic.ValidationError:
        config = None
    return Validated(config, issues, broken)


def _well_formed_part(
    data: dict[str, Any], errors: list[Any], keyed_sections: Collection[str]
) -> tuple[dict[str, Any], Broken]:
    """`data` without the keyed entries (or sections) that have errors."""
    rest = dict(data)
    broken: Broken = {}
    for error in errors:
        loc = error["loc"]
        section = loc[0] if loc else None
        if not isinstance(section, str):
            continue
        if section in _STAND_INS:
            rest[section] = _STAND_INS[section]
            broken[section] = None
        elif section in keyed_sections and isinstance(data.get(section), dict) and len(loc) > 1:
            keys = broken.setdefault(section, set())
            if keys is not None:
                keys.add(str(loc[1]))
        else:
            broken[section] = None  # a malformed section, setting or an unknown key
            rest.pop(section, None)
    for section, keys in broken.items():
        if keys:
            rest[section] = {key: value for key, value in data[section].items() if key not in keys}
    return rest, broken


def _data_path(loc: tuple[Any, ...], data: Any) -> Path:
    """pydantic's loc as a path into the data, without union and discriminator tags."""
    path: list[str | int] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict):
            if part in node:
                node = node[part]
            elif isinstance(part, str) and (part in node.values() or "[" in part):
                continue  # the tag pydantic adds for a tagged union's variant or a validator
            else:
                node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        path.append(part)
    return tuple(path)


def _issue(
    model: type[BaseModel], error: Any, data: dict[str, Any], index: PositionIndex
) -> ConfigIssue:
    path = _data_path(tuple(error["loc"]), data)
    kind = error["type"]
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        path = (*path, "provider")
    return index.issue(path, _message(model, error, path, data))


def _message(model: type[BaseModel], error: Any, path: Path, data: dict[str, Any]) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing" or kind == "union_tag_not_found":
        return f"required key '{path[-1]}' is missing"
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(str(path[-1]), _known_keys(model, path[:-1], data), n=1)
        return f"unknown key '{path[-1]}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
    if kind in _TYPE_NAMES:
        message = f"expected {_TYPE_NAMES[kind]}, got {describe(value)}"
        if kind.startswith(("date", "decimal", "int", "bool")) and _unquoted_fits(kind, value):
            message += " (a quoted value is a string: remove the quotes)"
        return message
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
