"""The YAML reader: libyaml at C speed, positions as editors count them, and its refusals."""

from __future__ import annotations

import random
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

from flexctl.config import composer
from flexctl.config.composer import Document, Unresolved, YamlProblem, compose

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").rglob("*.yaml"))
HEAD = "version: 1\norganization: harbor-works\ncurrency: EUR\n"
COMPANIES = """\
companies:
  acme:
    name: Acme Ltd
    location: downtown
    memberships:
      - plan: hot-desk
        start: 2026-12-01
      - {plan: hot-desk, start: 2027-01-01, price: 1e2}
    fees:
    - {plan: printing, date: 2026-12-03, quantity: 120}
"""
# Valid texts in every style a configuration is written in (the subset the old line reader
# took, then what needed the slow reader: block scalars, escapes, multi-line scalars).
CORPUS = [
    HEAD + COMPANIES,
    "a:\n- 1\n- two\nb: {x: [1, 2, {y: z}], q: 'v'}\n",
    "a:\n  - b: 1\n    c:\n    - d\n    - e\n  - f\nz: end\n",
    "k: 'it''s'  # comment\nl: \"double\"\nm: plain text, with a comma\n",
    "n: [ a , 'b' , \"c\" ]\no: {}\np: []\nq: -5\nr: +.5\ns: .inf\nt: 1_000\n",
    "a:\n  b:\n    c:\nd: ~\ne: null\nf: 12:30\ng: a#b\nh: x # y\n",
    "- top\n- {a: 1}\n- [x]\n",
    "name: Café ☕\nemail: jane@acme.example\n",
    "a:   \n  b: 1\n\n\n# trailing comment\n",
    "a: |\n  text\n  more\nb: >-\n  folded\n  text\nc: |+\n  kept\n\nd: x\n",
    'a: "esc\\n\\t\\x41\\u00e9\\U0001F600\\\\ \\" \\/"\nb: "C:\\\\path"\n',
    "a: 'multi\n  line'\nb: \"also\n  multi\"\nc: plain\n  multi line\n",
    "a: [1,\n  2, 3]\nb: {x: 1,\n  y: 2}\n",
    "\"quoted key\": 1\n'single': 2\n1: three\nyes: four\n",
    "a: 'b\tc'\nb: |\n  tab\there\nc: x # a\tcomment\n",
    "---\na: 1\n...\n",
]


def outcome(text: str) -> tuple[Any, ...]:
    """Values, positions, duplicates and scalars without a value of a text, or its problem's
    place and message."""
    try:
        document = compose(text)
    except YamlProblem as problem:
        return ("problem", problem.line, problem.column, problem.message, problem.path)
    return ("document", document.value, document.positions, document.duplicates,
            document.unresolved)


def test_the_c_parser_is_used() -> None:
    """Without libyaml, PyYAML's pure-Python parser reads 30 times slower: fail loudly here."""
    assert yaml.__with_libyaml__
    # composer binds its parser by a private import alias, which mypy does not count as exported
    assert composer._Parser is yaml.cyaml.CParser  # type: ignore[attr-defined]


def test_values_are_resolved_as_flexctl_reads_them() -> None:
    value = compose(HEAD + COMPANIES + "x: [yes, on, '1.0', 1.0, 2026-12-01, ~, true]\n").value
    assert value["version"] == 1
    acme = value["companies"]["acme"]
    assert acme["memberships"][1]["price"] == Decimal("1E+2")
    assert acme["fees"][0] == {"plan": "printing", "date": date(2026, 12, 3), "quantity": 120}
    assert value["x"] == ["yes", "on", "1.0", Decimal("1.0"), date(2026, 12, 1), None, True]
    assert [type(item) for item in value["x"]] == [str, str, str, Decimal, date, type(None), bool]


def test_block_scalars_and_escapes() -> None:
    assert compose(CORPUS[9]).value == {
        "a": "text\nmore\n",
        "b": "folded text",
        "c": "kept\n\n",
        "d": "x",
    }
    assert compose(CORPUS[10]).value == {"a": 'esc\n\tAé😀\\ " /', "b": "C:\\path"}
    multi = {"a": "multi line", "b": "also multi", "c": "plain multi line"}
    assert compose(CORPUS[11]).value == multi


@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_positions_point_at_what_is_written(text: str) -> None:
    assert compose(text).positions
    _assert_positions_point_at_what_is_written(text, compose(text))


def test_positions_in_the_examples_point_at_what_is_written() -> None:
    assert len(EXAMPLES) >= 8
    for path in EXAMPLES:
        _assert_positions_point_at_what_is_written(path.read_text(), compose(path.read_text()))


def _assert_positions_point_at_what_is_written(text: str, document: Document) -> None:
    lines = re.split(r"\r\n|\r|\n", text)
    assert document.positions is not None
    for path, (line, column) in document.positions.items():
        written = lines[line - 1][column - 1 :]
        if isinstance(path[-1], str):
            assert written.startswith((path[-1], f"'{path[-1]}", f'"{path[-1]}')), path
        elif _value_at(document.value, path) is not None:  # an empty item has no first character
            # a list item: its first character, not the "- " or "," before it
            assert written and not written[0].isspace(), path
            assert not written.startswith(("- ", ",")), path


def _value_at(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def test_columns_count_characters_as_editors_do() -> None:
    """Columns count characters (code points), as flexctl always has, not UTF-8 bytes."""
    positions = compose("é: 😀x\nb: [é, 😀, c]\n😀😀: {k: v}\n").positions
    assert positions is not None
    assert positions[("b", 1)] == (2, 8)
    assert positions[("b", 2)] == (2, 11)
    assert positions[("😀😀", "k")] == (3, 6)


# Texts that once needed the slow reader, or that it refused: what the one reader makes of them.
OUTCOMES: list[tuple[str, tuple[Any, ...]]] = [
    ("a: &x 1\n", ("problem", 1, 4, "anchors (&x) are not allowed", ())),
    ("a: *x\n", ("problem", 1, 4, "aliases (*x) are not allowed", ())),
    ("*x : 1\n", ("problem", 1, 1, "aliases (*x) are not allowed", ())),
    (
        "a: !!str 1\n",
        ("problem", 1, 4, "explicit tags (tag:yaml.org,2002:str) are not allowed", ()),
    ),
    ("a: !x {}\n", ("problem", 1, 4, "explicit tags (!x) are not allowed", ())),
    ("a: |\n  text\n", ("document", {"a": "text\n"}, {("a",): (1, 1)}, [], [])),
    ("a: multi\n  line\n", ("document", {"a": "multi line"}, {("a",): (1, 1)}, [], [])),
    (
        "a: 1\na: 2\n",
        ("document", {"a": 1}, {("a",): (1, 1)}, [(("a",), (1, 1), (2, 1))], []),
    ),
    (
        "a: {b: 1, b: 2}\n",
        (
            "document",
            {"a": {"b": 1}},
            {("a",): (1, 1), ("a", "b"): (1, 5)},
            [(("a", "b"), (1, 5), (1, 11))],
            [],
        ),
    ),
    (
        "a: [1, 2\n",
        (
            "problem",
            2,
            1,
            "YAML syntax error: while parsing a flow sequence: did not find expected ',' or ']'",
            (),
        ),
    ),
    ("---\na: 1\n", ("document", {"a": 1}, {("a",): (2, 1)}, [], [])),
    ("a: 1\n---\nb: 2\n", ("problem", 2, 1, composer._ONE_DOCUMENT, ())),
    ("%YAML 1.1\n---\na: 1\n", ("problem", 2, 1, composer._DIRECTIVES, ())),
    (
        "a: 'unterminated\n",
        (
            "problem",
            2,
            1,
            "YAML syntax error: while scanning a quoted scalar: found unexpected end of stream",
            (),
        ),
    ),
    (
        "a: {b: [1, 2]",  # no line break at the end: the problem is at the end of the last line
        (
            "problem",
            1,
            14,
            "YAML syntax error: while parsing a flow mapping: did not find expected ',' or '}'",
            (),
        ),
    ),
    (
        "a: b: c\n",
        ("problem", 1, 5, "YAML syntax error: mapping values are not allowed in this context", ()),
    ),
    (
        'a: "C:\\path"\n',
        (
            "problem",
            1,
            7,
            "YAML syntax error: while parsing a quoted scalar: "
            "found unknown escape character '\\p'",
            (),
        ),
    ),
    (
        "a: [b: c]\n",
        (
            "document",
            {"a": [{"b": "c"}]},
            {("a",): (1, 1), ("a", 0): (1, 5), ("a", 0, "b"): (1, 5)},
            [],
            [],
        ),
    ),
    (
        "a: 2026-02-30\n",
        (
            "document",
            {"a": Unresolved("2026-02-30")},
            {("a",): (1, 1)},
            [],
            [(("a",), (1, 4), "invalid date '2026-02-30': day is out of range for month")],
        ),
    ),
    ("a:\n-\n  b\n", ("document", {"a": ["b"]}, {("a",): (1, 1), ("a", 0): (3, 3)}, [], [])),
    (": 1\n", ("problem", 1, 1, "empty key", ())),
    ("'': 1\n", ("problem", 1, 1, "empty key", ())),
    ("? [a]\n: 1\n", ("problem", 1, 3, "mapping keys must be plain strings", ())),
    ("  a: 1\n", ("document", {"a": 1}, {("a",): (1, 3)}, [], [])),
    ("# only a comment\n", ("document", None, {}, [], [])),
]


@pytest.mark.parametrize(("text", "expected"), OUTCOMES, ids=range(len(OUTCOMES)))
def test_outcomes(text: str, expected: tuple[Any, ...]) -> None:
    assert outcome(text) == expected


def test_every_scalar_without_a_value_is_kept_with_its_place_and_the_reading_goes_on() -> None:
    document = compose("a: 2026-02-30\nb: [2026-02-30, 1e9999999999999999999]\nc: '2026-02-30'\n"
                       "d: 2026-13-01\ne: 2026-01-05\n")
    assert document.value == {
        "a": Unresolved("2026-02-30"),
        "b": [Unresolved("2026-02-30"), Unresolved("1e9999999999999999999")],
        "c": "2026-02-30",  # quoted: a string, which a date field refuses as such
        "d": Unresolved("2026-13-01"),
        "e": date(2026, 1, 5),
    }
    assert document.unresolved == [
        (("a",), (1, 4), "invalid date '2026-02-30': day is out of range for month"),
        (("b", 0), (2, 5), "invalid date '2026-02-30': day is out of range for month"),
        (("b", 1), (2, 17), "1e9999999999999999999 is out of range for a number"),
        (("d",), (4, 4), "invalid date '2026-13-01': month must be in 1..12"),
    ]


def test_nesting_is_limited() -> None:
    assert outcome("a: " + "[" * 63 + "]" * 63 + "\n")[0] == "document"
    assert outcome("a: " + "[" * 64 + "]" * 64 + "\n")[:4] == (
        "problem",
        1,
        67,
        "nesting deeper than 64 levels",
    )
    # libyaml stops at 1000 levels while it scans ahead for a key: the same refusal.
    assert outcome("a: " + "[" * 5000 + "\n")[3] == "nesting deeper than 64 levels"


# Tabs may be text in quoted and block scalars, and in comments; never indentation or spaces.
TAB = "tab character: YAML indents and separates with spaces, not tabs"
REFUSED_TABS: list[tuple[str, tuple[int, int]]] = [
    ("a:\tb\n", (1, 3)),
    ("a: b\tc\n", (1, 5)),
    ("a: b\t\n", (1, 5)),
    ("a: b \t# c\n", (1, 6)),
    ("\ta: 1\n", (1, 1)),
    ("a:\n  -\tb\n", (2, 4)),
    ("a: 1\n \t\n", (2, 2)),
    ("a: [b,\tc]\n", (1, 7)),
    ("a: |\n\tb\n", (2, 1)),
    ("a: b\n  \tc\n", (2, 3)),
    ("a: 1\n\tb: [\n", (2, 1)),  # before a syntax error: the tab is named
    ("a: [\n\tb: 1\n", (2, 1)),
]
TABS_AS_TEXT: list[tuple[str, dict[str, Any]]] = [
    ("a: 'b\tc'\n", {"a": "b\tc"}),
    ('a: "b\tc"\n', {"a": "b\tc"}),
    ("a: |\n  b\tc\n", {"a": "b\tc\n"}),
    ("a: >\n  b\n  \tc\n", {"a": "b\n\tc\n"}),
    ("a: b # c\td\n", {"a": "b"}),
    ("# \t\na: 1\n", {"a": 1}),
    ("a: 'b\n\tc'\n", {"a": "b c"}),
]


@pytest.mark.parametrize(("text", "where"), REFUSED_TABS, ids=range(len(REFUSED_TABS)))
def test_a_tab_that_indents_or_separates_is_refused(text: str, where: tuple[int, int]) -> None:
    assert outcome(text) == ("problem", *where, TAB, ())


@pytest.mark.parametrize(("text", "value"), TABS_AS_TEXT, ids=range(len(TABS_AS_TEXT)))
def test_a_tab_in_a_quoted_or_block_scalar_or_a_comment_is_fine(
    text: str, value: dict[str, Any]
) -> None:
    assert compose(text).value == value


def test_a_tab_inside_an_unterminated_quote_is_not_the_problem() -> None:
    assert outcome('a: "\tb\n')[:4] == (
        "problem",
        2,
        1,
        "YAML syntax error: while scanning a quoted scalar: found unexpected end of stream",
    )


@pytest.mark.parametrize(
    "text",
    [*CORPUS, *(text for text, _ in OUTCOMES), *(text for text, _ in REFUSED_TABS)],
)
def test_crlf_reads_like_lf(text: str) -> None:
    """Same values, same lines and columns, same problems: a CRLF is one line break."""
    assert outcome(text.replace("\n", "\r\n")) == outcome(text)


def test_crlf_reads_like_lf_in_the_examples() -> None:
    for path in EXAMPLES:
        text = path.read_text()
        assert outcome(text.replace("\n", "\r\n")) == outcome(text), path


# Fragments that break or bend YAML, inserted at random into valid texts.
PIECES = [
    ":", ": ", "- ", "#", " #", "'", '"', "[", "]", "{", "}", ",", "&a", "*a", "!", "|", ">",
    "\t", " ", "  ", "\n", "\n  ", "-", "?", "x", "1.5", "~", "%", "@", "\\", "''", "---",
    "é", "\u00a0", "2026-02-30", "yes", ".inf", "1e5", ":x", "a: b", "- a: b", "...", "\r\n",
]  # fmt: skip


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(text) + 1)
        choice = rng.random()
        if choice < 0.5:
            text = text[:at] + rng.choice(PIECES) + text[at:]
        elif choice < 0.8:
            text = text[:at] + text[at + rng.randint(1, 3) :]
        else:
            lines = text.split("\n")
            line = rng.randrange(len(lines))
            lines[line] = " " * rng.randint(0, 6) + lines[line].lstrip(" ")
            text = "\n".join(lines)
    return text


def test_mutated_texts_give_a_document_or_a_located_problem() -> None:
    """Whatever the damage: a document whose positions point at its keys and items, or a
    YamlProblem inside the text; never another exception; the same with CRLF line breaks."""
    rng = random.Random(2026)
    seeds = [*CORPUS, *(path.read_text() for path in EXAMPLES)]
    read = 0
    for _ in range(1500):
        text = _mutate(rng, rng.choice(seeds))
        result = outcome(text)
        if "\r" not in text:
            assert outcome(text.replace("\n", "\r\n")) == result, text
        lines = re.split(r"\r\n|\r|\n", text)
        if result[0] == "problem":
            line, column = result[1:3]
            assert 1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1]) + 1, text
        elif result[1] is not None:
            read += 1
            _assert_positions_point_at_what_is_written(text, compose(text))
    assert read > 300  # the mutations leave plenty of readable texts


# --- composing without positions (`compose(positions=False)`, the loader's first pass) ----------


@pytest.mark.parametrize("text", [
    "a: 1\nb: [x, {c: 2026-12-01}]\n",
    "a: 1\na: 2\n",  # a duplicate key: reported where it is
    "a: 2026-02-30\n",  # a scalar without a value
    "a:\n\t- b\n",  # a tab
    "a: &x 1\nb: *x\n",  # an anchor
    "a: !!str 1\n",  # a tag
    "a: [1, 2\n",  # broken
    "- a\n- b\n",  # a list at the top
], ids=["plain", "duplicate", "unresolved", "tab", "anchor", "tag", "broken", "list"])
def test_composing_without_positions_says_what_composing_with_them_says(text: str) -> None:
    def outcome(positions: bool) -> Any:
        try:
            document = compose(text, positions=positions)
        except YamlProblem as problem:
            return ("problem", problem.line, problem.column, problem.path, problem.message)
        return (repr(document.value), document.duplicates, document.unresolved)

    assert outcome(False) == outcome(True)
    if outcome(True)[0] != "problem":
        # Positions are left out only where there is nothing to say where.
        lean = compose(text, positions=False)
        nothing_to_report = not lean.duplicates and not lean.unresolved and "\t" not in text
        assert (lean.positions is None) == nothing_to_report


def test_the_examples_compose_alike_without_positions() -> None:
    for path in EXAMPLES:
        text = path.read_text()
        lean, full = compose(text, positions=False), compose(text)
        assert repr(lean.value) == repr(full.value), path
        plain = not full.unresolved and not full.duplicates and "\t" not in text
        assert (lean.positions is None) == plain, path
