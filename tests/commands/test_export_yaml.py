"""The export's YAML emission: every string, number and date reads back exactly through
flexctl's own loader, whatever characters a platform name holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flexctl.export.emit import Entry, Section, render_file, scalar
from flexctl.kinds.configuration import load_config
from tests.config_sections import sections

NAMES = [
    "Plain Name", "a: b", "# x", "- x", "yes", "No", "null", "true", "0123", "1e3", "trailing ",
    " leading", "tab\there", "new\nline", 'quo"te', "back\\slash", "emoji 😀", "del\x7fchar",
    "c1\x85x", "ls\u2028x", "bell\x07", "[x]", "{x}", "x, y", "it's", "@at", "`tick", "%pct",
    "!bang", "&amp", "*star", "|pipe", ">gt", "?q", "a ? b", "~", "O'Brien & Sons", "Café",
    "x'", "x  y", "Ærø Design: \"studio\" #1",
]


def test_every_name_reads_back_exactly(tmp_path: Path) -> None:
    section = Section("locations", [Entry(f"l{i}", {"name": n}) for i, n in enumerate(NAMES)])
    text = render_file("# modeline", [section],
                       {"version": 1, "organization": "x", "currency": "EUR"})
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    locations = sections(load_config(tmp_path).config).locations
    assert [locations[f"l{i}"].name for i in range(len(NAMES))] == NAMES


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("0.10"), "0.10"), (Decimal("1234.50"), "1234.50"), (Decimal("250"), "250"),
    (Decimal("1E+2"), "100"), (True, "true"), (False, "false"), (120, "120"),
    (date(2026, 12, 1), "2026-12-01"), ("0123456789abcdef01234567", '"0123456789abcdef01234567"'),
    ({"env": "FLEXCTL_X_SECRET"}, "{env: FLEXCTL_X_SECRET}"), (["a", "b"], "[a, b]"),
    (("4150",), '["4150"]'),
])
def test_scalars(value: object, text: str) -> None:
    assert scalar(value) == text
