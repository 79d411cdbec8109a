"""The reference YAML reader: ruamel.yaml's parser events composed into plain values.

Every file flexctl reads can go through this path; `fastparse` is only a faster route for the
common subset and must give the same result. Composing from events (not ruamel's constructor)
lets flexctl refuse aliases, anchors, explicit tags and extra documents before they take
effect, record the position of every key and list item, and resolve scalars itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.reader import ReaderError

from flexctl.config.scalars import resolve_plain

MAX_DEPTH = 64

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column


class YamlProblem(Exception):
    """A problem that stops reading a file, at a 1-based line and column."""

    def __init__(self, line: int, column: int, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        self.path = path  # the key or list item at fault, when there is one


@dataclass
class Document:
    """One file's content: plain values, the position of each key/item, and soft problems."""

    value: Any
    positions: dict[Path, Position]
    duplicates: list[tuple[Path, Position, Position]] = field(default_factory=list)


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: Path
    key: str | None = None  # a mapping's key waiting for its value
    skip: bool = False  # the pending key is a duplicate: compose its value, then drop it


def _position(event: Any) -> Position:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1)


def _refuse_markup(event: Any) -> None:
    if getattr(event, "anchor", None) is not None:
        raise YamlProblem(*_position(event), f"anchors (&{event.anchor}) are not allowed")
    if getattr(event, "tag", None) is not None:
        raise YamlProblem(*_position(event), f"explicit tags ({event.tag}) are not allowed")


def _syntax_problem(exc: YAMLError) -> YamlProblem:
    if isinstance(exc, ReaderError):
        return YamlProblem(1, 1, f"unreadable character: {exc.reason}")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    if "'\\t'" in problem:
        message = "tab character: YAML indents and separates with spaces, not tabs"
        return YamlProblem(line, column, message)
    context = getattr(exc, "context", None) if isinstance(exc, MarkedYAMLError) else None
    text = f"{context}: {problem}" if context else problem
    return YamlProblem(line, column, f"YAML syntax error: {text}")


def compose(text: str) -> Document:
    """Compose one YAML document from text; raise YamlProblem for anything flexctl refuses."""
    parser = YAML(typ="safe", pure=True)  # a fresh instance per load: no state is shared
    composer = _Composer()
    try:
        for event in parser.parse(text):
            composer.feed(event)
    except YAMLError as exc:
        raise _syntax_problem(exc) from None
    return composer.document()


class _Composer:
    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.positions: dict[Path, Position] = {}
        self.duplicates: list[tuple[Path, Position, Position]] = []

    def document(self) -> Document:
        return Document(self.root, self.positions, self.duplicates)

    def feed(self, event: Any) -> None:
        if isinstance(event, DocumentStartEvent):
            self._start_document(event)
        elif isinstance(event, AliasEvent):
            raise YamlProblem(*_position(event), f"aliases (*{event.anchor}) are not allowed")
        elif isinstance(event, ScalarEvent):
            _refuse_markup(event)
            self._scalar(event)
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            _refuse_markup(event)
            self._open(event)
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            self.stack.pop()
        elif isinstance(event, StreamEndEvent) and self.documents == 0:
            self.root = None

    def _start_document(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            raise YamlProblem(
                *_position(event), "a file may hold only one YAML document (found '---')"
            )
        if getattr(event, "version", None) or getattr(event, "tags", None):
            raise YamlProblem(*_position(event), "YAML directives (%YAML, %TAG) are not allowed")

    def _place(self, event: Any) -> Path | None:
        """Where the next node goes; None when it is a mapping key."""
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            path = (*frame.path, len(frame.container))
            self.positions[path] = _position(event)
            return path
        if frame.key is None:
            return None
        if frame.skip:  # keep a duplicate's subtree away from the first definition's paths
            return ("<duplicate>", len(self.duplicates))
        return (*frame.path, frame.key)

    def _attach(self, value: Any) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            frame.container.append(value)
            return
        assert frame.key is not None
        if not frame.skip:
            frame.container[frame.key] = value
        frame.key = None
        frame.skip = False

    def _scalar(self, event: Any) -> None:
        place = self._place(event)
        if place is None:
            self._key(event)
            return
        text = event.value
        if event.style is None:
            try:
                value = resolve_plain(text)
            except ValueError as exc:
                raise YamlProblem(*_position(event), str(exc), place) from None
        else:
            value = text
        self._attach(value)

    def _key(self, event: Any) -> None:
        frame = self.stack[-1]
        assert isinstance(frame.container, dict)
        key = event.value
        if key == "":
            raise YamlProblem(*_position(event), "empty key")
        path = (*frame.path, key)
        here = _position(event)
        if key in frame.container:
            self.duplicates.append((path, self.positions[path], here))
            frame.skip = True
        else:
            self.positions[path] = here
        frame.key = key

    def _open(self, event: Any) -> None:
        place = self._place(event)
        if place is None:
            raise YamlProblem(*_position(event), "mapping keys must be plain strings")
        if len(self.stack) >= MAX_DEPTH:
            raise YamlProblem(*_position(event), f"nesting deeper than {MAX_DEPTH} levels")
        container: dict[str, Any] | list[Any] = {} if isinstance(event, MappingStartEvent) else []
        self._attach(container)
        self.stack.append(_Frame(container, place))
