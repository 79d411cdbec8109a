"""The YAML reader: libyaml's parser events composed into plain values, with positions.

PyYAML's C extension runs libyaml's scanner and parser at C speed and marks every event with
its line and column; this module builds dicts, lists and scalars from the events. Composing
from events (not a library's constructor) lets flexctl refuse aliases, anchors, explicit tags,
directives and extra documents before they take effect, record the position of every key and
list item, report duplicate keys with both positions, and resolve scalars itself
(`scalars.resolve_plain`: exact Decimals, YAML 1.1 words such as `yes` stay strings). A plain
scalar that has no value (a date that does not exist, a number Decimal cannot hold) does not
stop the reading: it is an `Unresolved` value, and its problem is kept with its position.

If PyYAML was installed without libyaml (`yaml.__with_libyaml__` is false), its pure-Python
parser is used instead: the same values and positions, syntax errors worded as PyYAML words
them, about 9 times slower (a test fails so that CI never runs that way unnoticed).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints
from yaml.events import (  # type: ignore[import-untyped]
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)
from yaml.tokens import ScalarToken, StreamEndToken  # type: ignore[import-untyped]

from flexctl.config.scalars import resolve_plain

# libyaml's parser when PyYAML has it; else Reader + Scanner + Parser in pure Python (BaseLoader
# also composes and constructs, which is never used here).
if yaml.__with_libyaml__:
    from yaml.cyaml import CParser as _Parser  # type: ignore[import-untyped]
else:  # pragma: no cover - the wheels on PyPI all ship libyaml
    _Parser = yaml.BaseLoader

MAX_DEPTH = 64
_ONE_DOCUMENT = "a file may hold only one YAML document (found '---')"
_DIRECTIVES = "YAML directives (%YAML, %TAG) are not allowed"
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels"
_TAB = "tab character: YAML indents and separates with spaces, not tabs"

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column, in characters as editors count them


class YamlProblem(Exception):
    """A problem that stops reading a file, at a 1-based line and column."""

    def __init__(self, line: int, column: int, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        self.path = path  # the key or list item at fault, when there is one
        self.foreign = False  # the file looks like another tool's, not a broken flexctl file


class Unresolved:
    """Stands where a plain scalar has no value: `2026-02-30` is shaped like a date but is
    none, `1e9999999999999999999` is a number Decimal cannot hold. No model field accepts
    it, so the object that holds it is refused like any malformed one, and the rest of the
    configuration is still checked; the reason is in `Document.unresolved`."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unresolved) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Unresolved({self.text!r})"

    def __str__(self) -> str:
        return self.text


class Document:
    """One file's content: plain values, the position of each key/item (None when composed
    without them: `compose(positions=False)`), and soft problems:
    duplicate keys (the path, where it was first defined, where again) and plain scalars
    without a value (the path, the scalar's position, why).
    (A plain class, not a dataclass: `flexctl validate` starts faster without making one.)"""

    __slots__ = ("duplicates", "positions", "unresolved", "value")

    def __init__(
        self,
        value: Any,
        positions: dict[Path, Position] | None,
        duplicates: list[tuple[Path, Position, Position]] | None = None,
        unresolved: list[tuple[Path, Position, str]] | None = None,
    ) -> None:
        self.value = value
        self.positions = positions
        self.duplicates = [] if duplicates is None else duplicates
        self.unresolved = [] if unresolved is None else unresolved


def compose(text: str, *, positions: bool = True) -> Document:
    """Compose the one YAML document of `text`; raise YamlProblem for anything flexctl refuses.

    `positions=False` composes without the position of every key and item (a quarter of the
    composing: a valid configuration never needs them, see `loader.PositionIndex`) where the
    file is plain; a file with a tab, a duplicate key, a scalar without a value or any problem
    is composed again with them, so what is reported is the same."""
    if not positions and "\t" not in text:
        lean = _Lean(_Parser(text).get_event)
        try:
            return lean.stream()
        except (yaml.YAMLError, YamlProblem, _Doubt):
            pass  # composed again below, positions and all, to say where
    composer = _Composer(_Parser(text).get_event)
    problem: YamlProblem | None = None
    try:
        document = composer.stream()
    except yaml.YAMLError as exc:
        problem = _syntax_problem(exc, text)
    except YamlProblem as exc:
        problem = exc
    # libyaml accepts tabs that separate tokens; flexctl refuses them, as it always has.
    tab = _first_refused_tab(text) if "\t" in text else None
    if tab is not None and (problem is None or tab < (problem.line, problem.column)):
        raise YamlProblem(*tab, _TAB)
    if problem is not None:
        raise problem
    return document


def _position(event: Any) -> Position:
    # libyaml's marks are 0-based and count characters (a CRLF ends one line).
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1)


def _refuse_markup(event: Any) -> None:
    if event.anchor is not None:
        raise YamlProblem(*_position(event), f"anchors (&{event.anchor}) are not allowed")
    if event.tag is not None:
        raise YamlProblem(*_position(event), f"explicit tags ({event.tag}) are not allowed")


def _document_start(event: Any) -> Position:
    """Where the document's '---' is: libyaml starts the event at its directives, if any."""
    if not event.explicit:
        return _position(event)
    end = event.end_mark
    return (end.line + 1, end.column + 1 - len("---"))


def _syntax_problem(exc: Any, text: str) -> YamlProblem:
    if isinstance(exc, yaml.reader.ReaderError):
        return YamlProblem(1, 1, f"unreadable character: {exc.reason}")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return YamlProblem(1, 1, f"YAML syntax error: {exc}")
    line, column = mark.line + 1, mark.column + 1
    if mark.index >= len(text):  # libyaml puts the end of the text on a line after it
        line, column = offset_position(text, len(text))
    problem = getattr(exc, "problem", None) or str(exc)
    # libyaml does not name the character it stopped at: explain the cases people meet.
    stopped_at = text[mark.index : mark.index + 1]
    if stopped_at == "\t":
        return YamlProblem(line, column, _TAB)
    if stopped_at == ":" and problem == "did not find expected key":
        return YamlProblem(line, column, "empty key")
    if problem == "exceeded maximum nesting depth":  # libyaml's own limit, 1000 levels, can
        return YamlProblem(line, column, _TOO_DEEP)  # come first as it scans ahead for a key
    if problem == "found unknown escape character":
        problem += f" '{text[mark.index : mark.index + 2]}'"
    context = getattr(exc, "context", None)
    detail = f"{context}: {problem}" if context else problem
    return YamlProblem(line, column, f"YAML syntax error: {detail}")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")


def offset_position(content: str | bytes, offset: int) -> Position:
    """1-based line and column (in characters, as editors count) of an offset; lines end at
    LF, CRLF or CR, as libyaml's do."""
    breaks: Any = _LINE_BREAK_BYTES if isinstance(content, bytes) else _LINE_BREAK
    line, start = 1, 0
    for line_break in breaks.finditer(content, 0, offset):
        line, start = line + 1, line_break.end()
    before = content[start:offset]
    if isinstance(before, bytes):
        before = before.decode("utf-8", errors="replace")
    return (line, len(before) + 1)


def _first_refused_tab(text: str) -> Position | None:
    """Where the first tab outside a quoted or block scalar and outside a comment is."""
    scalars = _Spans()  # every scalar token
    content = _Spans()  # the quoted and block ones: a tab in them is text
    scanner = _Parser(text)
    scanned = len(text)
    try:
        while (token := scanner.get_token()).__class__ is not StreamEndToken:
            if token.__class__ is ScalarToken:
                scalars.add(token.start_mark.index, token.end_mark.index)
                if not token.plain:
                    content.add(token.start_mark.index, token.end_mark.index)
    except yaml.YAMLError as exc:
        # The composer reports the error; only tabs before the token that failed are known.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        scanned = mark.index if mark is not None else 0
    tab = text.find("\t", 0, scanned)
    while tab >= 0:
        line_start = max(text.rfind("\n", 0, tab), text.rfind("\r", 0, tab)) + 1
        if not content.contain(tab) and not _in_comment(text, line_start, tab, scalars):
            return offset_position(text, tab)
        tab = text.find("\t", tab + 1, scanned)
    return None


class _Spans:
    """Ordered, disjoint [start, end) ranges of a text, in the order the scanner met them."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        self.starts.append(start)
        self.ends.append(end)

    def contain(self, index: int) -> bool:
        at = bisect.bisect_right(self.starts, index) - 1
        return at >= 0 and index < self.ends[at]


def _in_comment(text: str, line_start: int, index: int, scalars: _Spans) -> bool:
    """Whether a '#' outside every scalar starts a comment before `index` on its line."""
    for hash_at in range(line_start, index):
        if text[hash_at] == "#" and not scalars.contain(hash_at):
            return hash_at == line_start or text[hash_at - 1] in " \t"
    return False


class _Composer:
    """Recursive descent over the event stream; recursion is bounded by MAX_DEPTH.

    The loops handle the common case, an unmarked scalar, inline: this is the hot path of
    every validate, run once per key and value of the configuration.
    """

    def __init__(self, next_event: Callable[[], Any]) -> None:
        self.next_event = next_event
        self.positions: dict[Path, Position] = {}
        self.duplicates: list[tuple[Path, Position, Position]] = []
        self.unresolved: list[tuple[Path, Position, str]] = []
        # Plain scalars already resolved: dates and amounts repeat, and their values are
        # immutable, so equal scalars share one object.
        self.resolved: dict[str, Any] = {}

    def stream(self) -> Document:
        self.next_event()  # the stream start
        event = self.next_event()
        if event.__class__ is StreamEndEvent:
            return Document(None, self.positions, self.duplicates)  # comments only
        if event.version or event.tags:
            raise YamlProblem(*_document_start(event), _DIRECTIVES)
        root = self.node(self.next_event(), (), 0)
        self.next_event()  # the document end
        event = self.next_event()
        if event.__class__ is not StreamEndEvent:
            raise YamlProblem(*_document_start(event), _ONE_DOCUMENT)
        return Document(root, self.positions, self.duplicates, self.unresolved)

    def node(self, event: Any, path: Path, depth: int) -> Any:
        """The value that starts with `event`; `depth` collections enclose it."""
        kind = event.__class__
        if kind is ScalarEvent:
            _refuse_markup(event)
            return event.value if event.style else self.plain(event, path)
        if kind is AliasEvent:
            raise YamlProblem(*_position(event), f"aliases (*{event.anchor}) are not allowed")
        _refuse_markup(event)
        if depth >= MAX_DEPTH:
            raise YamlProblem(*_position(event), _TOO_DEEP)
        if kind is MappingStartEvent:
            return self.mapping(path, depth + 1)
        return self.sequence(path, depth + 1)

    def plain(self, event: Any, path: Path) -> Any:
        """An unquoted scalar's value (a quoted or block scalar is a string as written)."""
        text = event.value
        try:
            value = self.resolved[text]
        except KeyError:
            try:
                value = self.resolved[text] = resolve_plain(text)
            except ValueError as exc:  # each occurrence is reported: not kept in `resolved`
                self.unresolved.append((path, _position(event), str(exc)))
                return Unresolved(text)
        return value

    def mapping(self, path: Path, depth: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        next_event, positions = self.next_event, self.positions
        while True:
            event = next_event()
            if event.__class__ is MappingEndEvent:
                return mapping
            if event.__class__ is not ScalarEvent or event.anchor or event.tag or not event.value:
                _refuse_key(event)
            key: str = event.value
            mark = event.start_mark
            here = (mark.line + 1, mark.column + 1)
            key_path = (*path, key)
            event = next_event()
            if key in mapping:
                self.duplicates.append((key_path, positions[key_path], here))
                # Compose the value to find its problems, away from the first definition's paths.
                self.node(event, ("<duplicate>", len(self.duplicates)), depth)
                continue
            positions[key_path] = here
            if event.__class__ is ScalarEvent and event.anchor is None and event.tag is None:
                mapping[key] = event.value if event.style else self.plain(event, key_path)
            else:
                mapping[key] = self.node(event, key_path, depth)

    def sequence(self, path: Path, depth: int) -> list[Any]:
        items: list[Any] = []
        next_event, positions = self.next_event, self.positions
        while True:
            event = next_event()
            if event.__class__ is SequenceEndEvent:
                return items
            item_path = (*path, len(items))
            mark = event.start_mark
            positions[item_path] = (mark.line + 1, mark.column + 1)
            items.append(self.node(event, item_path, depth))


class _Doubt(Exception):
    """Something `_Lean` leaves to the composer that keeps positions."""


class _Lean(_Composer):
    """`_Composer` without positions: for a file with nothing to report (see `compose`)."""

    def plain(self, event: Any, path: Path) -> Any:
        text = event.value
        try:
            value = self.resolved[text]
        except KeyError:
            try:
                value = self.resolved[text] = resolve_plain(text)
            except ValueError:
                raise _Doubt from None
        return value

    def mapping(self, path: Path, depth: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        next_event = self.next_event
        while True:
            event = next_event()
            if event.__class__ is MappingEndEvent:
                return mapping
            if event.__class__ is not ScalarEvent or event.anchor or event.tag or not event.value:
                _refuse_key(event)
            key: str = event.value
            event = next_event()
            if key in mapping:
                raise _Doubt
            if event.__class__ is ScalarEvent and event.anchor is None and event.tag is None:
                mapping[key] = event.value if event.style else self.plain(event, path)
            else:
                mapping[key] = self.node(event, path, depth)

    def sequence(self, path: Path, depth: int) -> list[Any]:
        items: list[Any] = []
        next_event = self.next_event
        while True:
            event = next_event()
            if event.__class__ is SequenceEndEvent:
                return items
            items.append(self.node(event, path, depth))

    def stream(self) -> Document:
        document = super().stream()
        return Document(document.value, None)


def _refuse_key(event: Any) -> None:
    """Refuse a mapping key that is not a plain string, as written (keys are never resolved:
    `1:` and `yes:` are the strings '1' and 'yes')."""
    if event.__class__ is AliasEvent:
        raise YamlProblem(*_position(event), f"aliases (*{event.anchor}) are not allowed")
    _refuse_markup(event)
    if event.__class__ is not ScalarEvent:
        raise YamlProblem(*_position(event), "mapping keys must be plain strings")
    raise YamlProblem(*_position(event), "empty key")
