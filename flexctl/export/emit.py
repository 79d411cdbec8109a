"""Hand-written YAML emission for `flexctl export`: deterministic, commented, loader-safe.

Only the subset flexctl's loader reads is written: block mappings, flow lists and mappings,
plain scalars where they cannot be misread, double-quoted (JSON-escaped) strings elsewhere.
Amounts are written with exactly their decimal digits (1234.50, 0.10), never through floats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

HEADER = (
    "# Exported from the live organization by `flexctl export`. Each `id:` pins an object to",
    "# its live twin, so renaming a key or a name here is an update, not a delete and a create.",
)
# Plain (unquoted) strings: start with a letter, no character YAML gives a meaning to.
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 _./@()+&'-]*$")
_KEYWORDS = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "none", "nan", "inf"}
)


@dataclass
class Entry:
    """One object of a keyed section (or the one object of a singleton section)."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)  # written above the key
    value_comments: dict[str, str] = field(default_factory=dict)  # written after a value


@dataclass
class Section:
    name: str  # the config section: "plans", "invoicing"
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # comments above the section
    singleton: bool = False


def scalar(value: Any) -> str:
    # Strings first and concrete container types: this runs for every value of a big export.
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key_text(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    return _string(str(value))


@lru_cache(maxsize=65536)
def _string(text: str) -> str:
    plain = _PLAIN.match(text) and not text.endswith(" ") and "  " not in text
    if plain and text.lower() not in _KEYWORDS and " '" not in text:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    if quoted.isprintable():
        return quoted
    # DEL, C1 controls and line separators are not allowed raw in YAML: escape them.
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in quoted)


@lru_cache(maxsize=65536)
def key_text(key: str) -> str:
    """A mapping key: plain when it is a word, quoted when YAML would read a number."""
    return key if re.match(r"^[a-z_][a-z0-9_-]*$", key) and key not in _KEYWORDS else (
        json.dumps(key, ensure_ascii=False)
    )


def _comment(text: str, indent: str) -> str:
    # A comment is one line: newlines in platform values must not leak into YAML structure.
    return f"{indent}# {' '.join(text.split())}"


def _entry_lines(entry: Entry, indent: str) -> list[str]:
    lines = [_comment(c, indent) for c in entry.comments]
    inner = indent + "  "
    for name, value in entry.values.items():
        after = entry.value_comments.get(name)
        suffix = f"  # {' '.join(after.split())}" if after else ""
        if isinstance(value, list) and value and all(isinstance(i, Mapping) for i in value):
            lines.append(f"{inner}{key_text(name)}:")
            lines.extend(f"{inner}  - {scalar(item)}" for item in value)
            continue
        lines.append(f"{inner}{key_text(name)}: {scalar(value)}{suffix}")
    return lines


def section_lines(section: Section) -> list[str]:
    lines = [_comment(n, "") for n in section.notes]
    if not section.entries:
        return lines
    lines.append(f"{section.name}:")
    if section.singleton:
        lines.extend(_entry_lines(section.entries[0], ""))
        return lines
    for entry in section.entries:
        lines.extend(_comment(c, "  ") for c in entry.comments)
        lines.append(f"  {key_text(entry.key)}:")
        lines.extend(_entry_lines(Entry(entry.key, entry.values, [], entry.value_comments), "  "))
    return lines


def render_file(
    modeline: str, sections: Sequence[Section], header: Mapping[str, Any] | None = None
) -> str:
    lines = [modeline]
    if header is not None:
        lines.extend(HEADER)
        lines.extend(f"{key}: {scalar(value)}" for key, value in header.items())
    for section in sections:
        body = section_lines(section)
        if body:
            lines.append("")
            lines.extend(body)
    return "\n".join(lines) + "\n"
