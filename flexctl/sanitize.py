"""One sanitizer for text from outside (platform data, config strings, error bodies).

`for_terminal` makes such text inert on a terminal: nothing in it can move the cursor, change
colours, set the window title, reorder the line (bidi overrides) or hide characters.
`for_markdown` also makes it inert in GitHub-flavoured markdown, so a company name cannot add
links, HTML, tables, code or headings to a pull-request comment.

Neither changes ordinary text: "Acme Ltd.", "Café Zürich (UK) - Desk 4" come out as they went in.
Both are for display; never feed their output back to the platform.
"""

from __future__ import annotations

import re
import unicodedata

# Cc: C0 and C1 controls, DEL (ESC starts every CSI/OSC sequence, so escaping it disarms them).
# Cf: format characters: bidi overrides and isolates (U+202A-202E, U+2066-2069), marks
#     (U+200E/F, U+061C), zero-width characters (U+200B-200D, U+2060, U+FEFF), soft hyphen.
# Cs: lone surrogates (JSON can carry them; they cannot even be printed).
# Zl, Zp: U+2028/U+2029, line breaks to many terminals and editors.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def for_terminal(text: str, *, multiline: bool = False) -> str:
    """`text` with every control, format and bidi character shown as an escape (`\\x1b`).

    One-line by default: a newline or tab is shown as `\\n`/`\\t`, so a value cannot start a
    line of its own that looks like flexctl's output. `multiline=True` keeps newlines and tabs
    (a CRLF becomes a newline); a lone carriage return is still escaped, since it would let the
    rest of a line overwrite its beginning. A backslash is left alone: the output is for
    reading, not for decoding.
    """
    if text.isprintable():  # the common case, checked in C
        return text
    if multiline:
        text = text.replace("\r\n", "\n")
    kept = "\n\t" if multiline else ""
    return "".join(
        char
        if char in kept
        or char.isprintable()
        or unicodedata.category(char) not in _ESCAPED_CATEGORIES
        else _escaped(char)
        for char in text
    )


# Characters that start an inline construct anywhere in a line:
#   \ escapes            ` code spans and fences       * _ emphasis      ~ strikethrough
#   [ ] links, images, footnotes (so "!" and "(" ")" that follow them are inert)
#   < > raw HTML and autolinks                          | table cells
#   & entities (`&#x202e;` would bring a bidi override back)   $ math
_INLINE = re.compile(r"([\\`*_~\[\]<>|&$])")
# Characters that make a block only at the start of a line: a heading, a list item, a setext
# underline. The text may be put at the start of a line, so they are escaped there only;
# elsewhere "-", "+", "#", "." stay readable ("Acme Ltd.", "Co-work #1").
_BLOCK_START = re.compile(r"^( {0,3})(?:([#+=-])|(\d+)([.)]))")


def _escape_block_start(match: re.Match[str]) -> str:
    indent, marker, number, delimiter = match.groups()
    if marker is not None:
        return f"{indent}\\{marker}"
    return f"{indent}{number}\\{delimiter}"


def for_markdown(text: str) -> str:
    """`for_terminal(text)` made literal in GitHub-flavoured markdown.

    The result is safe as inline text and inside a table cell (a `|` is escaped as `\\|`, which
    GitHub honours in cells), and at the start of a line. It must not go inside a code span or
    fence (backslash escapes are shown literally there) or an HTML attribute. Not neutralised:
    bare URLs (GitHub links them, showing the URL itself) and @mentions, which GitHub finds in
    the rendered text whatever the escaping.
    """
    escaped = _INLINE.sub(r"\\\1", for_terminal(text))
    return _BLOCK_START.sub(_escape_block_start, escaped, count=1)
