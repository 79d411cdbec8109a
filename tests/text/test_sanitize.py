"""The sanitizer: text from outside made inert on a terminal and in a pull-request comment."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flexctl.sanitize import for_markdown, for_terminal

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def unsafe(text: str, allowed: str = "") -> list[str]:
    return [c for c in text if unicodedata.category(c) in UNSAFE_CATEGORIES and c not in allowed]


def unescaped(text: str, specials: str) -> list[int]:
    """Positions of the characters of `specials` that no backslash escapes."""
    found, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            i += 2  # the escape and the character it makes literal
            continue
        if text[i] in specials:
            found.append(i)
        i += 1
    return found


@pytest.mark.parametrize(("raw", "shown"), [
    ("Acme Ltd.", "Acme Ltd."),
    ("Café Zürich (UK) - Desk #4, 50% off", "Café Zürich (UK) - Desk #4, 50% off"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # CSI: colours
    ("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title"),  # OSC: window title, ended by BEL
    ("nul\x00here", "nul\\x00here"),
    ("\x9b31m C1 CSI", "\\x9b31m C1 CSI"),
    ("del\x7f", "del\\x7f"),
    ("invoice\u202egpj.exe", "invoice\\u202egpj.exe"),  # right-to-left override
    ("\u2066isolate\u2069 \u200bzero\u200dwidth\u2060 \ufeffbom", "\\u2066isolate\\u2069 "
     "\\u200bzero\\u200dwidth\\u2060 \\ufeffbom"),
    ("mark\u200e\u200f\u061c", "mark\\u200e\\u200f\\u061c"),
    ("line\u2028sep", "line\\u2028sep"),
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
    ("tag \U000e0041", "tag \\U000e0041"),
    ("two\nlines\tand\rreturn", "two\\nlines\\tand\\rreturn"),
    ("no\u00a0break space is kept", "no\u00a0break space is kept"),
])
def test_for_terminal_escapes_what_a_terminal_would_act_on(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


def test_multiline_keeps_newlines_and_tabs_but_not_carriage_returns() -> None:
    assert for_terminal("a\r\nb\tc\rd\x1b", multiline=True) == "a\nb\tc\\rd\\x1b"


@given(st.text())
def test_for_terminal_output_has_no_control_or_bidi_character(text: str) -> None:
    shown = for_terminal(text)
    assert unsafe(shown) == []
    assert for_terminal(shown) == shown  # already inert: nothing left to escape
    shown.encode("utf-8")  # printable: no lone surrogate left


@given(st.text())
def test_multiline_output_has_only_newlines_and_tabs(text: str) -> None:
    assert unsafe(for_terminal(text, multiline=True), allowed="\n\t") == []


@pytest.mark.parametrize(("raw", "shown"), [
    ("Acme Ltd.", "Acme Ltd."),
    ("Acme (UK) Ltd. - Co-work #1!", "Acme (UK) Ltd. - Co-work #1!"),
    ("[click](https://evil.example)", "\\[click\\](https://evil.example)"),
    ("![x](https://evil.example/t.png)", "!\\[x\\](https://evil.example/t.png)"),
    ("<img src=x onerror=alert(1)>", "\\<img src=x onerror=alert(1)\\>"),
    ("a | b", "a \\| b"),
    ("```", "\\`\\`\\`"),
    ("*bold* _it_ ~~gone~~", "\\*bold\\* \\_it\\_ \\~\\~gone\\~\\~"),
    ("Smith &amp; Sons &#x202e;", "Smith \\&amp; Sons \\&#x202e;"),
    ("$x^2$", "\\$x^2\\$"),
    ("back\\slash", "back\\\\slash"),
    ("# Heading", "\\# Heading"),
    ("- item", "\\- item"),
    ("+ item", "\\+ item"),
    ("=== ", "\\=== "),
    ("  1. First", "  1\\. First"),
    ("2024) Year", "2024\\) Year"),
    ("> quote", "\\> quote"),
    ("line\nbreak", "line\\\\nbreak"),  # the escape for_terminal adds is itself shown literally
    ("\x1b[2J", "\\\\x1b\\[2J"),
])
def test_for_markdown_makes_markup_literal(raw: str, shown: str) -> None:
    assert for_markdown(raw) == shown


@given(st.text())
def test_for_markdown_output_has_no_live_markup(text: str) -> None:
    shown = for_markdown(text)
    assert unsafe(shown) == []
    assert unescaped(shown, "<>[]`|*_~&$") == []
    assert "\n" not in shown


@given(st.text(alphabet=st.characters(categories=["Lu", "Ll", "Nd", "Zs"]), min_size=1))
def test_ordinary_names_are_left_as_they_are(text: str) -> None:
    name = text.strip() or "x"
    if name[0].isdigit():
        name = "n" + name
    assert for_markdown(name) == name
    assert for_terminal(name) == name
