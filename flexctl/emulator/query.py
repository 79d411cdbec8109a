"""The v2 list dialect: `$limit`, cursors, `$select`, documented filters, and the envelope.

Lists are ordered by `_id`, which only grows, so a cursor is "the boundary `_id` plus the
position of the page", base64-encoded and opaque to clients. Any query parameter the resource
does not document is refused with `property X should not exist`, as the real API does. The
dialect decides whether a missing cursor is absent or `null`, and whether a last page that is
exactly full still offers a `cursorNext` (to an empty page).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from flexctl.emulator import jsonutil
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import HttpError, bad_request
from flexctl.emulator.resources import Resource
from flexctl.emulator.store import SQL_PROJECTION, Store, field_expr
from flexctl.emulator.validation import is_object_id, normalize_date

MAX_LIMIT = 50
SHORT_PAGE = 20  # what the `short_page` fault answers at most
_INT = re.compile(r"^-?\d+$")
_OPERATOR_KEY = re.compile(r"^(\w+)\[(\$?\w+)\]$")
_DATE_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
RESERVED = ("$limit", "$cursorNext", "$cursorPrev", "$select")

Where = list[tuple[str, Sequence[Any]]]


@dataclass(frozen=True)
class Cursor:
    direction: str  # "n": rows after `boundary`; "p": rows before it
    boundary: str
    position: int  # rangeEnd of the previous page ("n") or rangeStart of the next page ("p")

    def encode(self) -> str:
        raw = f"{self.direction}:{self.boundary}:{self.position}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, direction: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            kind, boundary, position = raw.split(":")
            if kind != direction or not is_object_id(boundary):
                raise ValueError(raw)
            return cls(kind, boundary, int(position))
        except ValueError as exc:
            # The real API answers a garbage cursor with a 500.
            raise HttpError(500, "Internal server error") from exc


def parse_select(args: MultiDict[str, str]) -> tuple[str, ...] | None:
    values = args.getlist("$select")
    if not values:
        return None
    return tuple(f.strip() for v in values for f in v.split(",") if f.strip())


def apply_select(doc: dict[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    if select is None:
        return doc
    return {k: v for k, v in doc.items() if k == "_id" or k in select}


def refuse_params(args: MultiDict[str, str], allowed: tuple[str, ...] = ()) -> None:
    """A 400 naming every query parameter outside `allowed` (writes take none)."""
    unknown = [k for k in args if k not in allowed]
    if unknown:
        raise bad_request(*(f"property {k} should not exist" for k in unknown))


def parse_limit(args: MultiDict[str, str]) -> int:
    text = args.get("$limit")
    if text is None:
        return MAX_LIMIT
    if not _INT.match(text):
        raise bad_request("$limit must be a number conforming to the specified constraints")
    limit = int(text)
    if limit > MAX_LIMIT:
        raise bad_request(f"$limit must not be greater than {MAX_LIMIT}")
    return limit if limit > 0 else 20  # staging answered $limit=0 with 20 items


def parse_filters(
    args: MultiDict[str, str], resource: Resource, in_filters: frozenset[str] = frozenset()
) -> Where:
    """Translate the documented filters into SQL; collect every problem into one 400.
    `in_filters`: filters that take `[$in]` beyond the resource's own (the dialect's)."""
    where: Where = []
    errors: list[str] = []
    for key in args:
        if key in RESERVED:
            continue
        values = args.getlist(key)
        problem = _one_filter(key, values, resource, where, in_filters)
        if problem:
            errors.append(problem)
    if errors:
        raise bad_request(*errors)
    return where


def _one_filter(key: str, values: list[str], resource: Resource, where: Where,
                in_filters: frozenset[str] = frozenset()) -> str | None:
    match = _OPERATOR_KEY.match(key)
    name, operator = (match.group(1), match.group(2)) if match else (key, None)
    kind = resource.filters.get(name)
    if kind is None:
        return f"property {name} should not exist"
    if len(values) > 1:
        return f"{key} must be a string"
    value = values[0]
    if kind == "properties":
        if operator is None or operator.startswith("$"):
            return f"property {key} should not exist"
        where.append(("json_extract(doc, ?) = ?", [f'$.properties."{operator}"', value]))
        return None
    column = "id" if name == "_id" else field_expr(name)
    if operator is None:
        return _equality(key, kind, column, value, where)
    if operator == "$in" and (name in resource.in_filters or name in in_filters):
        items = [v for v in value.split(",") if v]
        if len(items) > MAX_LIMIT:  # observed on _id[$in]: at most 50 values
            return f"{key} must contain no more than {MAX_LIMIT} elements"
        if kind == "id" and not all(is_object_id(v) for v in items):
            return f"each value in {key} must be a mongodb id"
        where.append((f"{column} IN ({','.join('?' * len(items))})", items))
        return None
    if operator in _DATE_OPS and kind == "date":
        normalized = normalize_date(value)
        if normalized is None:
            return f"{key} must be a valid ISO 8601 date string"
        where.append((f"{column} {_DATE_OPS[operator]} ?", [normalized]))
        return None
    return f"property {key} should not exist"


def _equality(key: str, kind: str, column: str, value: str, where: Where) -> str | None:
    if kind == "id" and not is_object_id(value):
        return f"{key} must be a mongodb id"
    if kind == "bool":
        if value not in ("true", "false"):
            return f"{key} must be a boolean value"
        where.append((f"{column} = ?", [1 if value == "true" else 0]))
        return None
    if kind == "date":
        normalized = normalize_date(value)
        if normalized is None:
            return f"{key} must be a valid ISO 8601 date string"
        value = normalized
    where.append((f"{column} = ?", [value]))
    return None


Render = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Page:
    rows: list[tuple[str, str]]  # (id, JSON document)
    start: int  # rangeStart when not empty
    has_before: bool
    has_after: bool


def list_page(
    store: Store,
    org: str,
    resource: Resource,
    args: MultiDict[str, str],
    dialect: Dialect,
    render: Render | None = None,
    *,
    shaping: frozenset[str] = frozenset(),
) -> str:
    """Answer a list request with the v2 envelope, as JSON text.

    `shaping` holds injected faults that bend the answer (see `faults.SHAPING`): pages of at
    most 20 whatever `$limit` asks, a cursor that leads to the first page again, `$select`
    ignored, a field left out of every document."""
    limit = parse_limit(args)
    select = parse_select(args)
    where = parse_filters(args, resource, dialect.in_filters(resource.path))
    if "short_page" in shaping:
        limit = min(limit, SHORT_PAGE)
    if "ignore_select" in shaping:
        select = None
    omitted = {f.split(":", 1)[1] for f in shaping if f.startswith("omit:")}
    if omitted:
        render = _without(omitted, render)
    if "$cursorNext" in args and "$cursorPrev" in args:
        raise bad_request("$cursorNext and $cursorPrev cannot be used together")
    # Without computed fields, SQLite answers the $select itself (see Store.page).
    in_sql = select is not None and render is None and SQL_PROJECTION
    sql_select = select if in_sql else None
    if in_sql:
        select = None
    if "$cursorPrev" in args:
        cursor = Cursor.decode(args["$cursorPrev"], "p")
        rows = store.page(org, resource.path, where, before=cursor.boundary, limit=limit + 1,
                          select=sql_select)
        has_before = len(rows) > limit
        rows = rows[-limit:]
        start = max(cursor.position - len(rows), 1)
        has_after = True
    else:
        next_cursor = Cursor.decode(args["$cursorNext"], "n") if "$cursorNext" in args else None
        after = next_cursor.boundary if next_cursor and "repeat_page" not in shaping else None
        rows = store.page(org, resource.path, where, after=after, limit=limit + 1,
                          select=sql_select)
        has_after = len(rows) > limit or (
            len(rows) == limit and dialect.full_last_page == "empty-page"
        )
        rows = rows[:limit]
        start = (next_cursor.position if next_cursor else 0) + 1
        has_before = next_cursor is not None
    page = Page(rows, start, has_before, has_after)
    return _envelope(page, select, render, null_cursors=dialect.no_cursor == "null")


def _without(fields: set[str], render: Render | None) -> Render:
    def shown(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in (render(doc) if render else doc).items() if k not in fields}

    return shown


def _envelope(
    page: Page, select: tuple[str, ...] | None, render: Render | None, *, null_cursors: bool
) -> str:
    """The envelope's JSON; a missing cursor is left out, or `null` with `null_cursors`."""
    rows, start = page.rows, page.start
    if select is None and render is None:
        docs = [doc for _, doc in rows]  # stored JSON is already the answer: no re-encoding
    else:
        docs = [jsonutil.dumps(_shape(jsonutil.loads(doc), select, render)) for _, doc in rows]
    end = start + len(rows) - 1 if rows else 0
    cursors = {
        "cursorNext": Cursor("n", rows[-1][0], end) if rows and page.has_after else None,
        "cursorPrev": Cursor("p", rows[0][0], start) if rows and page.has_before else None,
    }
    meta: dict[str, Any] = {
        key: cursor.encode() if cursor else None
        for key, cursor in cursors.items()
        if cursor or null_cursors
    }
    meta["rangeStart"] = start if rows else 0
    meta["rangeEnd"] = end
    tail = jsonutil.dumps(meta)[1:]
    return '{"results":[' + ",".join(docs) + "]," + tail


def _shape(doc: dict[str, Any], select: tuple[str, ...] | None, render: Render | None) -> Any:
    return apply_select(render(doc) if render else doc, select)


def count_answer(
    store: Store, org: str, resource: Resource, args: MultiDict[str, str]
) -> dict[str, Any]:
    """`{total, groups}` for the documented filters; `$countBy` fills `groups` where the
    resource has it (`[{key, count}]`)."""
    if not resource.count_filters:
        return {"total": store.count(org, resource.path), "groups": []}
    count_by = args.get("$countBy") if resource.count_by else None
    if count_by is not None:
        args = MultiDict([(k, v) for k, v in args.items(multi=True) if k != "$countBy"])
        if count_by not in resource.count_by:
            allowed = ", ".join(resource.count_by)
            raise bad_request(f"$countBy must be one of the following values: {allowed}")
    where = parse_filters(args, resource)
    groups = [] if count_by is None else [
        {"key": key, "count": count}
        for key, count in store.count_groups(org, resource.path, where, count_by)
    ]
    return {"total": store.count(org, resource.path, where), "groups": groups}
