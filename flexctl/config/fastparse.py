"""A fast reader for the common subset of YAML that configuration files are written in.

ruamel.yaml's pure-Python scanner reads about 300 KB/s, too slow for organizations with tens of
thousands of fees. This reader handles block mappings and sequences, one-line flow collections,
plain and one-line quoted scalars, and comments, line by line. Whenever a file uses anything
else (anchors, tags, block scalars, multi-line scalars, tabs, directives, duplicate keys or any
syntax error) it raises `Unsupported` and the caller reads the file with `composer.compose`,
which handles full YAML and reports every problem. Both readers give identical results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flexctl.config.composer import MAX_DEPTH, Document, Path, Position
from flexctl.config.scalars import resolve_plain


class Unsupported(Exception):
    """The text is outside the subset; read it with the full YAML composer."""


_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-/]*):(?: +|\Z)")
_FLOW_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-/]*): +")
_FLOW_PLAIN = re.compile(r"[^,\[\]{}#:'\"]+")
# After a quoted scalar or a flow collection: nothing, or a comment after a space.
_TRAILER = re.compile(r"(?: +#.*| *)\Z")
_BAD_FIRST = frozenset("&*!|>%@`,]}#")
# Tabs, and line breaks other than "\n" (YAML also breaks lines at CR, NEL, LS and PS).
_OUTSIDE = re.compile("[\t\r\x85\u2028\u2029]")


@dataclass
class _Frame:
    indent: int
    container: dict[str, Any] | list[Any]
    path: Path
    indentless: bool = False  # a sequence at its parent key's indent ("key:\n- item")


def parse(text: str) -> Document:
    """Read text in the supported subset, or raise Unsupported."""
    if _OUTSIDE.search(text):
        raise Unsupported
    return _Reader().read(text)


class _Reader:
    def __init__(self) -> None:
        self.positions: dict[Path, Position] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        # A "key:" with nothing after it: (mapping, key, key's indent).
        self.pending: tuple[dict[str, Any], str, int] | None = None
        self.line = 0

    def read(self, text: str) -> Document:
        for number, raw in enumerate(text.split("\n"), start=1):
            content = raw.lstrip(" ")
            if not content or content[0] == "#":
                continue
            if raw.startswith(("---", "...")) or content[0] in "%?":
                raise Unsupported
            self.line = number
            self._line(len(raw) - len(content), content)
        if self.root is None:
            raise Unsupported
        return Document(self.root, self.positions)

    def _line(self, indent: int, content: str) -> None:
        is_item = content == "-" or content.startswith("- ")
        if self.pending is not None:
            self._open_pending(self.pending, indent, is_item)
        stack = self.stack
        while stack and (
            stack[-1].indent > indent
            or (stack[-1].indent == indent and stack[-1].indentless and not is_item)
        ):
            stack.pop()
        if not stack:
            if self.root is not None or indent:
                raise Unsupported
            self.root = [] if is_item else {}
            stack.append(_Frame(0, self.root, ()))
        frame = stack[-1]
        if frame.indent != indent:
            raise Unsupported
        if isinstance(frame.container, list):
            if not is_item:
                raise Unsupported
            self._item(frame, indent, content)
        else:
            if is_item:
                raise Unsupported
            self._entry(frame, indent, content)

    def _open_pending(
        self, pending: tuple[dict[str, Any], str, int], indent: int, is_item: bool
    ) -> None:
        """Give a "key:" its block value when this line is nested under it (else it is null)."""
        mapping, key, key_indent = pending
        self.pending = None
        if indent > key_indent or (indent == key_indent and is_item):
            path = (*self.stack[-1].path, key)
            if len(path) >= MAX_DEPTH:
                raise Unsupported
            child: dict[str, Any] | list[Any] = [] if is_item else {}
            mapping[key] = child
            self.stack.append(_Frame(indent, child, path, indentless=indent == key_indent))

    def _item(self, frame: _Frame, indent: int, content: str) -> None:
        rest = content[1:].lstrip(" ")
        if not rest or rest[0] == "#":
            raise Unsupported  # "-" alone: the item starts on a later line
        column = indent + len(content) - len(rest)
        items = frame.container
        assert isinstance(items, list)
        path = (*frame.path, len(items))
        self.positions[path] = (self.line, column + 1)
        if _KEY.match(rest):
            if len(path) >= MAX_DEPTH:
                raise Unsupported
            mapping: dict[str, Any] = {}
            items.append(mapping)
            child = _Frame(column, mapping, path)
            self.stack.append(child)
            self._entry(child, column, rest)
        else:
            items.append(self._value(rest, column, path))

    def _entry(self, frame: _Frame, indent: int, content: str) -> None:
        match = _KEY.match(content)
        if match is None:
            raise Unsupported
        key = match.group(1)
        mapping = frame.container
        assert isinstance(mapping, dict)
        if key in mapping:
            raise Unsupported  # the composer reports duplicates with both places
        path = (*frame.path, key)
        self.positions[path] = (self.line, indent + 1)
        rest = content[match.end() :]
        if not rest or rest[0] == "#":
            mapping[key] = None
            self.pending = (mapping, key, indent)
        else:
            mapping[key] = self._value(rest, indent + match.end(), path)

    def _value(self, text: str, column: int, path: Path) -> Any:
        first = text[0]
        if first in "[{":
            value, end = _Flow(text, self.line, self.positions).node(0, column, path)
            if not _TRAILER.match(text, end):
                raise Unsupported
            return value
        if first in "'\"":
            value, end = _quoted(text, 0)
            if not _TRAILER.match(text, end):
                raise Unsupported
            return value
        if first in _BAD_FIRST or (first in "-?:" and (len(text) == 1 or text[1] == " ")):
            raise Unsupported
        cut = text.find(" #")
        plain = (text if cut < 0 else text[:cut]).rstrip(" ")
        if ": " in plain or plain.endswith(":"):
            raise Unsupported
        return _resolve(plain)


def _resolve(plain: str) -> Any:
    try:
        return resolve_plain(plain)
    except ValueError:
        raise Unsupported from None  # the composer reports it with its position


def _quoted(text: str, start: int) -> tuple[str, int]:
    """A one-line quoted scalar starting at text[start]; (value, index after it)."""
    quote = text[start]
    if quote == '"':
        end = text.find('"', start + 1)
        if end < 0 or "\\" in text[start:end]:
            raise Unsupported
        return text[start + 1 : end], end + 1
    parts = []
    position = start + 1
    while True:
        end = text.find("'", position)
        if end < 0:
            raise Unsupported
        parts.append(text[position:end])
        if text.startswith("''", end):
            parts.append("'")
            position = end + 2
            continue
        return "".join(parts), end + 1


class _Flow:
    """A flow collection that opens and closes on one line: [a, b] or {a: 1, b: [c]}."""

    def __init__(self, text: str, line: int, positions: dict[Path, Position]) -> None:
        self.text = text
        self.line = line
        self.positions = positions

    def _skip(self, index: int) -> int:
        while index < len(self.text) and self.text[index] == " ":
            index += 1
        return index

    def node(self, index: int, column: int, path: Path) -> tuple[Any, int]:
        """Parse the node at text[index] (column = its 0-based column on the line)."""
        text = self.text
        first = text[index] if index < len(text) else ""
        if first in ("[", "{"):
            if len(path) >= MAX_DEPTH:
                raise Unsupported
            if first == "[":
                return self._sequence(index, column - index, path)
            return self._mapping(index, column - index, path)
        if first in ("'", '"'):
            return _quoted(text, index)
        match = _FLOW_PLAIN.match(text, index)
        # A flow scalar may start with "-" before a non-space, never with "?" or ":".
        lone_dash = first == "-" and text[index + 1 : index + 2] in ("", " ")
        if match is None or first in _BAD_FIRST or first in "?:" or lone_dash:
            raise Unsupported
        plain = match.group().rstrip(" ")
        return _resolve(plain), match.end()

    def _sequence(self, index: int, offset: int, path: Path) -> tuple[list[Any], int]:
        items: list[Any] = []
        index = self._skip(index + 1)
        if self.text.startswith("]", index):
            return items, index + 1
        while True:
            item_path = (*path, len(items))
            self.positions[item_path] = (self.line, offset + index + 1)
            value, index = self.node(index, offset + index, item_path)
            items.append(value)
            index = self._skip(index)
            if self.text.startswith(",", index):
                index = self._skip(index + 1)
                if self.text.startswith("]", index):
                    raise Unsupported  # trailing comma
                continue
            if self.text.startswith("]", index):
                return items, index + 1
            raise Unsupported

    def _mapping(self, index: int, offset: int, path: Path) -> tuple[dict[str, Any], int]:
        mapping: dict[str, Any] = {}
        index = self._skip(index + 1)
        if self.text.startswith("}", index):
            return mapping, index + 1
        while True:
            match = _FLOW_KEY.match(self.text, index)
            if match is None or match.group(1) in mapping:
                raise Unsupported
            key = match.group(1)
            key_path = (*path, key)
            self.positions[key_path] = (self.line, offset + index + 1)
            index = match.end()
            if self.text.startswith((",", "}"), index):
                raise Unsupported  # "{a: }": a null value, rare enough for the composer
            value, index = self.node(index, offset + index, key_path)
            mapping[key] = value
            index = self._skip(index)
            if self.text.startswith(",", index):
                index = self._skip(index + 1)
                if self.text.startswith("}", index):
                    raise Unsupported
                continue
            if self.text.startswith("}", index):
                return mapping, index + 1
            raise Unsupported
