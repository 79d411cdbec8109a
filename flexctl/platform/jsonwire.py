"""JSON as the Flex API and flexctl exchange it: amounts are exact decimals both ways.

A `Decimal` is written as an exact JSON number (`230.00`), never through a binary float; an
answer's numbers with a fraction are read back as `Decimal`.

An answer is parsed only within limits (size, nesting, digits), so a hostile or broken server
gets a `MalformedJson` naming the problem, never a `RecursionError`, `MemoryError` or a number
that breaks decimal arithmetic later.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate, repeat
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring_ascii,
)
from typing import Any

# A page is at most 50 objects: even large ones are a few hundred KiB.
MAX_BODY_BYTES = 16 * 1024 * 1024
# The platform's objects nest a few levels (a rate's components, a membership's properties);
# the parser recurses once per level.
MAX_DEPTH = 64
# Digits of a number, and the size of its exponent: well beyond any amount or count the
# platform means, and small enough that no later decimal arithmetic overflows or crawls.
MAX_DIGITS = 40


def encode_json(value: Any) -> bytes:
    """JSON text where a `Decimal` is written as an exact number (`230.00`, never a float);
    a float anywhere in `value` is refused (`TypeError`), a NaN or infinite amount too."""
    text = _fast(value, floats=False)
    if text is None:
        return _encode(value).encode("utf-8")  # raises for a float, as for a NaN
    return text.encode("ascii")


def encode_document(doc: Any) -> str:
    """`encode_json` for a document as `decode_json` (or `json.loads(parse_float=Decimal)`)
    gave it, whose numbers with a fraction are all `Decimal`: not searched for floats (one
    that came anyway would be written as its repr, and read back as a `Decimal`)."""
    text = _fast(doc, floats=True)
    return _encode(doc) if text is None else text


# A Decimal leaves the C encoder as a marked string, its digits between these two.
_OPEN = '"\\u0000D'
_CLOSE = '\\u0000"'


def document_encoder() -> Callable[[Any], str]:
    """`encode_document` as a function that reuses one encoder for the documents it is given in
    turn (from one thread): making the C encoder anew for each document cost a third of
    writing a collection to the snapshot cache."""
    marking = _Marking()

    def encode(doc: Any) -> str:
        text = marking.text(doc, floats=True)
        return _encode(doc) if text is None else text

    return encode


def _fast(value: Any, *, floats: bool) -> str | None:
    """`value` written by the C encoder, else None (see `_Marking.text`)."""
    return _Marking().text(value, floats=floats)


class _Marking:
    """The C encoder writing each `Decimal` as a marked string, counting those it handed over
    (so one instance serves one thread at a time)."""

    __slots__ = ("_count", "_encoder")

    def __init__(self) -> None:
        self._count = 0
        self._encoder = c_make_encoder(None, self._marked, encode_basestring_ascii, None, ":",
                                       ",", False, False, False)

    def _marked(self, obj: object) -> str:
        if type(obj) is Decimal and obj.is_finite():
            self._count += 1
            return f"\x00D{format(obj, 'f')}\x00"
        raise _Unusual

    def text(self, value: Any, *, floats: bool) -> str | None:
        """`value` written by the C encoder, else None: something only `_encode` writes exactly
        (a `Mapping` that is not a dict, a date, a Decimal subclass, a NaN, a float unless
        `floats`) or a string of the data's own that looks like a marked Decimal.

        Each `Decimal` goes out as a marked string (`"\\u0000D230.00\\u0000"`, as the C encoder
        escapes "\\x00D230.00\\x00") whose quotes and markers are then removed. The markers are
        counted against the Decimals the encoder handed over: a marker that is no Decimal's
        makes the counts disagree, and nothing is replaced.
        """
        self._count = 0
        try:
            text: str = self._encoder(value, 0)[0]
        except (_Unusual, TypeError, ValueError):  # ValueError: a NaN or infinite float
            return None
        if not floats and _FLOAT.search(_STRING.sub('""', text)):
            return None
        if self._count or _CLOSE in text:
            count = self._count
            if text.count(_OPEN) != count or text.count(_CLOSE) != count:
                return None
            text = text.replace(_OPEN, "").replace(_CLOSE, "")
        return text


class _Unusual(Exception):
    """A value the fast path leaves to `_encode`."""


# A float, as the C encoder writes it (its repr: "0.1", "1e+16"), once strings are blanked:
# a digit followed by "." or "e" (a Decimal is still a marked string at that point).
_FLOAT = re.compile(r"[0-9][.eE]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send the amount {value} to the API")
        return format(value, "f")
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, datetime | date):
        return json.dumps(value.isoformat())
    if isinstance(value, float):
        raise TypeError("floats are never sent to the API; use Decimal")
    return json.dumps(value)


class MalformedJson(ValueError):
    """A body that is not JSON within flexctl's limits; the message says why, never quotes it.

    `not_json` is true when it is not JSON at all (a login page, a proxy's error).
    """

    def __init__(self, reason: str, *, not_json: bool = False) -> None:
        super().__init__(reason)
        self.not_json = not_json


def decode_json(content: bytes) -> Any:
    """Parse an API answer; numbers with a fraction become `Decimal`, never float.

    An empty body is None. Raises `MalformedJson`.
    """
    prepared = _prepared(content)
    return None if prepared is None else _parsed(*prepared)


def _parsed(text: str, options: dict[str, Any]) -> Any:
    """`text` parsed with `options` (see `_prepared`); raises `MalformedJson`."""
    try:
        return json.loads(text, **options)
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                            not_json=True) from None
    except RecursionError:  # unreachable after _nesting; kept so no input can crash a read
        raise MalformedJson(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None


def decode_page(content: bytes) -> tuple[Any, list[str] | None]:
    """`decode_json` of a list page (`{"results": [...], ...}`), with the text of each of its
    results as the page wrote it: the snapshot cache stores those instead of writing every
    document again. The texts are None when the page is not such an object; its value (or
    error) is then `decode_json`'s, exactly.

    Same limits, same values: the envelope is walked by hand and every value in it (each
    result, each other member) is read by the `json` module's own scanner, with the options
    `decode_json` would give it. Anything unexpected is left to `decode_json`."""
    prepared = _prepared(content)
    if prepared is None:
        return None, None
    text, options = prepared
    scan = json.JSONDecoder(**options).scan_once  # type: ignore[attr-defined]
    try:
        found = _walk_page(text, scan)
    except (StopIteration, ValueError, RecursionError):  # MalformedJson is a ValueError
        found = None
    return (_parsed(text, options), None) if found is None else found


# Items of a page walked one by one: a page holds 50; a body of millions of items (a hostile
# one) is left to decode_json, which reads it in C in a fraction of the time.
_MAX_WALKED = 1000
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, at: int) -> int:
    """Where the JSON whitespace from `at` ends."""
    found = _WHITESPACE.match(text, at)
    return at if found is None else found.end()


def _walk_page(text: str, scan: Callable[[str, int], tuple[Any, int]]
               ) -> tuple[dict[str, Any], list[str] | None] | None:
    """The envelope of a page and its results' texts; None for anything but an object, or
    anything `json.loads` would refuse (then raising is `decode_json`'s to do)."""
    at = _skip(text, 0)
    if text[at:at + 1] != "{":
        return None
    envelope: dict[str, Any] = {}
    texts: list[str] | None = None
    at = _skip(text, at + 1)
    if text[at:at + 1] == "}":
        at += 1
    else:
        while True:
            if text[at:at + 1] != '"':
                return None
            key, at = scan(text, at)
            at = _skip(text, at)
            if text[at:at + 1] != ":":
                return None
            at = _skip(text, at + 1)
            if key == "results" and text[at:at + 1] == "[":
                value, texts, at = _walk_items(text, at, scan)
                if texts is None:
                    return None
            else:
                value, at = scan(text, at)
                if key == "results":
                    texts = None  # a later "results" wins, as in json.loads
            envelope[key] = value
            at = _skip(text, at)
            if text[at:at + 1] == "}":
                at += 1
                break
            if text[at:at + 1] != ",":
                return None
            at = _skip(text, at + 1)
    if _skip(text, at) != len(text):
        return None
    return envelope, texts


def _walk_items(text: str, at: int, scan: Callable[[str, int], tuple[Any, int]]
                ) -> tuple[list[Any], list[str] | None, int]:
    """The array at `at` (its "["), its items' texts, and where it ends; None for the texts
    when it is not well formed."""
    items: list[Any] = []
    texts: list[str] = []
    at = _skip(text, at + 1)
    if text[at:at + 1] == "]":
        return items, texts, at + 1
    while True:
        if len(items) == _MAX_WALKED:  # no page holds this many: decode_json's to refuse
            return items, None, at
        start = at
        item, at = scan(text, at)
        items.append(item)
        texts.append(text[start:at])
        at = _skip(text, at)
        if text[at:at + 1] == "]":
            return items, texts, at + 1
        if text[at:at + 1] != ",":
            return items, None, at
        at = _skip(text, at + 1)


def _prepared(content: bytes) -> tuple[str, dict[str, Any]] | None:
    """The text of an answer and the options to parse it with, after the checks every answer
    gets (size, UTF-8, nesting); None for an empty body. Raises `MalformedJson`."""
    if len(content) > MAX_BODY_BYTES:
        raise MalformedJson(f"the body is larger than {MAX_BODY_BYTES // 2**20} MiB")
    try:
        text = content.decode("utf-8-sig")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError as exc:
        raise MalformedJson(f"the body is not UTF-8 (byte {exc.start})", not_json=True) from None
    if not text.strip():
        return None
    outside = _outside_strings(text)
    if _nesting(outside) > MAX_DEPTH:
        raise MalformedJson(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if _UNUSUAL_NUMBER.search(outside) is None:
        # The common case: no number with an exponent and none longer than the limits
        # allow, so each is converted as is, without a check per number.
        return text, _USUAL
    return text, _CAREFUL


def decode_values(texts: Sequence[str]) -> Iterator[Any]:
    """Each of `texts` parsed as exactly one JSON value within the limits of an answer
    (nesting, digits, no NaN): documents flexctl stored (the snapshot cache), where a damaged
    or edited one must be an error, never a crash. Raises `MalformedJson`.

    One scanner reads them all, a text at a time, so that each must end where its value does:
    about as fast as one `json.loads` of them joined into a list (when the collector is paused,
    as during a snapshot), and much faster than `decode_json`'s passes over the text. A value
    nests no deeper than the brackets its text holds, so only a text with more than
    `MAX_DEPTH` of them is measured exactly; every number with a fraction or an exponent is
    checked as it is read, and integers only where the texts hold a run of digits too long.
    """
    careful = _long_digits(texts)
    scan = json.JSONDecoder(  # type: ignore[attr-defined]
        parse_float=_decimal, parse_int=_integer if careful else None,
        parse_constant=_constant).scan_once
    for text in texts:
        if (text.count("[") + text.count("{") > MAX_DEPTH
                and _nesting(_outside_strings(text)) > MAX_DEPTH):
            raise MalformedJson(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        try:
            value, end = scan(text, 0)
        except StopIteration:
            raise MalformedJson("a text holds no JSON value", not_json=True) from None
        except json.JSONDecodeError as exc:
            raise MalformedJson(f"invalid JSON at column {exc.colno}: {exc.msg}",
                                not_json=True) from None
        except RecursionError:  # unreachable after the count; no input may crash a read
            raise MalformedJson(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
        if end != len(text):
            raise MalformedJson("a text holds more than one JSON value", not_json=True)
        yield value


# Every ASCII digit becomes "0", every other ASCII character a space: a run of digits longer
# than the limits is then a substring search (a regex takes ten times as long).
_DIGITS_ONLY = str.maketrans({chr(c): "0" if chr(c).isdigit() else " " for c in range(128)})
_TOO_LONG = "0" * (MAX_DIGITS + 1)


def _long_digits(texts: Sequence[str], size: int = 1000) -> bool:
    """Whether any of `texts` holds a run of more than `MAX_DIGITS` digits (in a string or
    not), looked for a thousand texts at a time."""
    return any(_TOO_LONG in "\n".join(texts[start:start + size]).translate(_DIGITS_ONLY)
               for start in range(0, len(texts), size))


_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEPS = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


def _outside_strings(text: str) -> str:
    """`text` without its strings, for a JSON parser that reads it up to the first backslash
    outside a string (where it stops)."""
    # Escapes go first, a run of backslashes pairing from its left as the parser reads them;
    # then every quote left opens or closes a string, and every other piece is outside one.
    bare = text.replace("\\\\", "").replace('\\"', "")
    return "".join(bare.split('"')[0::2])


def _nesting(outside: str) -> int:
    """How deep the brackets of `_outside_strings` nest: never less than the parser would
    recurse."""
    brackets = _NOT_BRACKET.sub("", outside)
    if not brackets:
        return 0
    # +1 per opening, -1 per closing bracket; the deepest running total, all in C.
    steps = brackets.translate(_STEPS).encode("ascii")
    return int(max(accumulate(map(operator.sub, steps, repeat(1)))))


# A number only `_decimal` and `_integer` may convert (they refuse those beyond the limits): one
# with an exponent, or longer than MAX_DIGITS characters. Any other is within the limits.
_UNUSUAL_NUMBER = re.compile(rf"[0-9][eE]|[0-9.]{{{MAX_DIGITS + 1}}}")


def _too_many_digits(literal: str) -> MalformedJson:
    shown = literal if len(literal) <= 24 else literal[:20] + "…"
    return MalformedJson(f"the number {shown} has more than {MAX_DIGITS} digits or an exponent "
                         f"beyond {MAX_DIGITS}")


def _decimal(literal: str) -> Decimal:
    if len(literal) > 2 * MAX_DIGITS + 8:  # before Decimal() is asked to read a megabyte
        raise _too_many_digits(literal)
    value = Decimal(literal)
    _sign, digits, exponent = value.as_tuple()
    if len(digits) > MAX_DIGITS or not -MAX_DIGITS <= int(exponent) <= MAX_DIGITS:
        raise _too_many_digits(literal)
    return value


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_DIGITS:
        raise _too_many_digits(literal)
    return int(literal)


def _constant(literal: str) -> Any:
    raise MalformedJson(f"{literal} is not a JSON number")


# How `decode_json` parses: numbers as they are, or each checked against the limits.
_USUAL: dict[str, Any] = {"parse_float": Decimal, "parse_constant": _constant}
_CAREFUL: dict[str, Any] = {"parse_float": _decimal, "parse_int": _integer,
                            "parse_constant": _constant}
