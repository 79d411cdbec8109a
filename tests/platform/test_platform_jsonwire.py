"""The JSON decoder's limits (every malformed body is a `MalformedJson` saying why), and the
encoder's fast path: always the exact recursive encoder's text."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flexctl.platform import jsonwire
from flexctl.platform.jsonwire import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_DIGITS,
    MalformedJson,
    decode_json,
    decode_values,
    document_encoder,
    encode_document,
    encode_json,
)


@pytest.mark.parametrize(("body", "reason", "not_json"), [
    (b"<html>Sign in</html>", "invalid JSON at line 1 column 1: Expecting value", True),
    (b'{"a": 1', "invalid JSON at line 1 column 8: Expecting ',' delimiter", True),
    (b'{"a": "\xff"}', "the body is not UTF-8 (byte 7)", True),
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
     f"the JSON is nested deeper than {MAX_DEPTH} levels", False),
    (b"[" * 100_000, f"the JSON is nested deeper than {MAX_DEPTH} levels", False),
    (b"[1e999999999]", "the number 1e999999999 has more than 40 digits or an exponent beyond 40",
     False),
    (b"[" + b"9" * 5000 + b"]",
     "the number 99999999999999999999… has more than 40 digits or an exponent beyond 40", False),
    (b"[0." + b"1" * 41 + b"]",
     "the number 0.111111111111111111… has more than 40 digits or an exponent beyond 40", False),
    (b"[NaN]", "NaN is not a JSON number", False),
    (b'{"a": -Infinity}', "-Infinity is not a JSON number", False),
    (b" " * (MAX_BODY_BYTES + 1), "the body is larger than 16 MiB", False),
])
def test_malformed_bodies_say_why(body: bytes, reason: str, not_json: bool) -> None:
    with pytest.raises(MalformedJson) as info:
        decode_json(body)
    assert str(info.value) == reason
    assert info.value.not_json is not_json


def test_depth_is_counted_outside_strings_only() -> None:
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    text = json.dumps({"s": "[[[[{{{{" * 100, "deep": json.loads(nested)[0]})
    assert decode_json(text.encode())["s"] == "[[[[{{{{" * 100
    assert decode_json(b'["a\\"[[[", "\\\\", [[]]]') == ['a"[[[', "\\", [[]]]


def _depth(text: str) -> int:
    """The nesting `decode_json` checks."""
    return jsonwire._nesting(jsonwire._outside_strings(text))


def _depth_by_scanning(text: str) -> int:
    """The nesting a character-by-character reader sees outside strings (the reference), up to
    a backslash outside a string, where a JSON parser stops."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "\\":
            break
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


@settings(max_examples=300)
@given(st.recursive(st.text(alphabet='ab"\\[]{}', max_size=6),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(alphabet='k"\\[{', max_size=4), inner,
                                      max_size=3),
                    max_leaves=12).map(json.dumps))
def test_depth_of_json_is_what_a_reader_scanning_every_character_sees(text: str) -> None:
    assert _depth(text) == _depth_by_scanning(text)


@settings(max_examples=300)
@given(st.text(alphabet='[]{}"\\ab:,', max_size=60))
def test_depth_of_any_text_is_never_less_than_a_scanning_reader_sees(text: str) -> None:
    # Not JSON: the parser refuses it, at the latest where a backslash stands outside a string;
    # up to there the count may only err upwards.
    assert max(_depth(text), 0) >= _depth_by_scanning(text)


def _guarded(text: str) -> Any:
    """What decoding gives when every number is checked (`_decimal`, `_integer`)."""
    try:
        return json.loads(text, parse_float=jsonwire._decimal, parse_int=jsonwire._integer,
                          parse_constant=jsonwire._constant)
    except MalformedJson as exc:
        return ("refused", str(exc))


def _typed(value: Any) -> Any:
    return [(type(v).__name__, str(v)) for v in value] if isinstance(value, list) else value


NUMBER = r"-?(0|[1-9][0-9]{0,45})(\.[0-9]{1,45})?([eE][+-]?[0-9]{1,3})?"


@settings(max_examples=400)
@given(st.lists(st.from_regex(NUMBER, fullmatch=True), min_size=1, max_size=4))
@example(["9" * 40, "-" + "9" * 40, "0." + "1" * 39])  # at the limits: accepted either way
@example(["9" * 41])
@example(["0." + "0" * 40 + "1"])
@example(["1" * 20 + "." + "1" * 21])
@example(["0.1e-40", "1e41"])
def test_numbers_decode_as_if_each_were_checked(numbers: list[str]) -> None:
    # Most answers skip the per-number check (no exponent, no number longer than the limits):
    # the values, their types and every refusal are the same as with it.
    text = '{"s": "1e999", "n": [' + ", ".join(numbers) + "]}"
    try:
        decoded: Any = decode_json(text.encode())["n"]
    except MalformedJson as exc:
        decoded = ("refused", str(exc))
    expected = _guarded(text)
    assert _typed(decoded) == _typed(expected if isinstance(expected, tuple) else expected["n"])


def test_numbers_within_the_limits_are_exact() -> None:
    body = b'{"big": 1234567890123456789012345678901234567890, "fine": 0.1, "e": 1.5e39}'
    assert decode_json(body) == {"big": 1234567890123456789012345678901234567890,
                                 "fine": Decimal("0.1"), "e": Decimal("1.5E+39")}


def test_empty_body_and_bom() -> None:
    assert decode_json(b"") is None
    assert decode_json(b"  \n") is None
    assert decode_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False).map(str),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=150)
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                 st.text(alphabet='[]{}",:0123456789.eE-+ \\tnull', max_size=200)
                 .map(str.encode)))
def test_any_body_is_a_value_or_malformed_json(body: bytes) -> None:
    try:
        value = decode_json(body)
    except MalformedJson as exc:
        assert str(exc)  # says why
    else:
        assert value is None or isinstance(value, dict | list | str | int | Decimal | bool)


# --- pages with their results' texts --------------------------------------------------------------

_SPACE = st.sampled_from(["", " ", "\n", "\t ", "\r\n  "])


@st.composite
def _pages(draw: st.DrawFn) -> bytes:
    """A list envelope as a server might write it: results (any JSON) among other members, in
    any order and spacing, a "results" given twice or not a list now and then."""
    members = draw(st.lists(st.tuples(st.sampled_from(["results", "cursorNext", "x", "résumé"]),
                                      json_values), max_size=4))
    if draw(st.booleans()):
        members.append(("results", draw(st.lists(json_values, max_size=5))))
    draw(st.randoms()).shuffle(members)

    def written(value: Any) -> str:
        if isinstance(value, list) and draw(st.booleans()):  # spaced by hand
            inner = ",".join(f"{draw(_SPACE)}{written(v)}{draw(_SPACE)}" for v in value)
            return f"[{inner}]" if value else f"[{draw(_SPACE)}]"
        return json.dumps(value, ensure_ascii=draw(st.booleans()))

    text = ",".join(f"{draw(_SPACE)}{json.dumps(k)}{draw(_SPACE)}:{draw(_SPACE)}{written(v)}"
                    for k, v in members)
    return f"{draw(_SPACE)}{{{text}{draw(_SPACE)}}}{draw(_SPACE)}".encode()


@settings(max_examples=300)
@given(_pages())
def test_a_page_decodes_as_a_whole_with_each_results_own_text(body: bytes) -> None:
    value, texts = jsonwire.decode_page(body)
    assert value == decode_json(body)
    results = value.get("results")
    if isinstance(results, list):
        assert texts is not None and len(texts) == len(results)
        assert list(decode_values(texts)) == results  # each text is its result, alone
        assert all(t == t.strip() for t in texts)
        assert all(t in body.decode() for t in texts)  # as written, not written again
    else:
        assert texts is None


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                 _pages().map(lambda b: b[:-3] + b"]" + b[-3:]),
                 st.text(alphabet='[]{}",:0123456789.eE-+ \tnulresNa', max_size=200)
                 .map(lambda t: ('{"results": ' + t).encode())))
def test_any_page_decodes_as_decode_json_does_or_fails_as_it_does(body: bytes) -> None:
    try:
        expected = decode_json(body)
    except MalformedJson as exc:
        with pytest.raises(MalformedJson) as failed:
            jsonwire.decode_page(body)
        assert str(failed.value) == str(exc)
        return
    value, texts = jsonwire.decode_page(body)
    assert value == expected
    if texts is not None:
        assert list(decode_values(texts)) == value["results"]


def test_a_page_of_too_many_items_is_left_to_decode_json() -> None:
    # A hostile page of millions of items is read by the C parser, not walked item by item.
    body = b'{"results": [' + b",".join(b"{}" for _ in range(5000)) + b"]}"
    assert jsonwire.decode_page(body) == (decode_json(body), None)
    body = b'{"results": [' + b",".join(b"{}" for _ in range(1000)) + b"]}"
    _, texts = jsonwire.decode_page(body)
    assert texts == ["{}"] * 1000


@pytest.mark.parametrize("body", [
    b'{"results": [1, 2], "results": 5}',  # the last "results" wins, as in json.loads
    b'{"results": [1 2]}', b'{"results": [1,]}', b'{"results": [1]] }', b'{"results": [1]} x',
    b'{"results": [{"_id": "a", "p": 1e999}]}', b'\xef\xbb\xbf{"results": ["\xc3\xa9"]}',
])
def test_odd_pages_are_decode_jsons(body: bytes) -> None:
    try:
        expected: Any = decode_json(body)
    except MalformedJson as exc:
        expected = str(exc)
    try:
        value, _ = jsonwire.decode_page(body)
    except MalformedJson as exc:
        value = str(exc)
    assert value == expected


# --- encoding ------------------------------------------------------------------------------------

MARKER_LIKE = ["\x00D1.5\x00", "\x00D12\x00", "a\x00D1\x00", "\x00D", "\x00", "\\u0000D1\\u0000",
               '"\x00D1\x00"', "x\x00D-3\x00y"]


def _slow(value: Any) -> bytes:
    return jsonwire._encode(value).encode("utf-8")


@pytest.mark.parametrize("text", MARKER_LIKE)
def test_a_string_that_looks_like_a_marked_decimal_stays_a_string(text: str) -> None:
    for value in ({"name": text}, {"name": text, "price": Decimal("2.50")},
                  [Decimal("1"), text, Decimal("-0.10")], {text: Decimal("3")}):
        assert encode_json(value) == _slow(value)
        assert encode_document(value) == _slow(value).decode()
        assert decode_json(encode_json(value)) == value


def test_decimals_are_exact_numbers_and_floats_are_refused() -> None:
    value = {"a": [Decimal("230.00"), Decimal("1E+3"), Decimal("-0"), Decimal("1E-7")],
             "b": {"c": Decimal("12345678901234567890.123456789")}, "d": "2026-01-01T00:00:00.000Z",
             "e": "é\u2028", "f": True, "g": None, "h": 3}
    assert encode_json(value) == _slow(value)
    assert encode_json(value).startswith(b'{"a":[230.00,1000,-0,0.0000001]')
    for bad in ({"price": 0.1}, [1e16], {"x": [1.0]}, [float("inf")]):
        with pytest.raises(TypeError):
            encode_json(bad)
    with pytest.raises(ValueError):
        encode_json({"price": Decimal("NaN")})


def test_what_the_c_encoder_leaves_goes_the_exact_way() -> None:
    class Amount(Decimal):
        pass

    value = {"when": date(2026, 1, 2), "items": (Amount("1.10"), "x"), "n": Decimal("5")}
    assert encode_json(value) == b'{"when":"2026-01-02","items":[1.10,"x"],"n":5}'
    assert encode_document(value) == encode_json(value).decode()


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from("a\x00D1.-\\\"u0"))
    | st.decimals(allow_nan=False, allow_infinity=False, places=3),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet=st.sampled_from("k\x00D1"), max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_the_fast_encoder_writes_what_the_exact_one_writes(value: Any) -> None:
    assert encode_json(value) == _slow(value)
    assert encode_document(value) == _slow(value).decode()
    assert json.loads(encode_document(value), parse_float=Decimal) == value


@settings(max_examples=200, deadline=None)
@given(st.lists(_JSON_VALUES | st.sampled_from(MARKER_LIKE) | st.just(Decimal("NaN")),
                max_size=6))
def test_one_encoder_for_many_documents_writes_each_as_alone(values: list[Any]) -> None:
    # One encoder serves a whole collection: what one document left (a Decimal counted, a
    # value only the exact encoder writes, a NaN it refuses) must not leak into the next.
    encode = document_encoder()
    for value in values:
        try:
            alone = encode_document(value)
        except ValueError:
            with pytest.raises(ValueError):
                encode(value)
            continue
        assert encode(value) == alone


def test_stored_values_are_read_within_the_limits_of_an_answer() -> None:
    # Brackets and long digit runs inside strings are text, not nesting or numbers.
    deep_in_strings = ('{"_id": "a", "note": "' + "[" * 200 + '", "n": 1.50, "id": "'
                       + "9" * 60 + '"}')
    texts = [deep_in_strings, '{"_id": "b", "big": ' + "9" * MAX_DIGITS + "}", "[1, 2]"]
    values = list(decode_values(texts))
    assert values[0]["n"] == Decimal("1.50") and values[1]["big"] == int("9" * MAX_DIGITS)
    for bad in ("[" * 50_000, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "1,2", '{"a": 1} 2',
                "", " 1", "NaN", "1e999999999", "9" * (MAX_DIGITS + 1), '{"a": "x}'):
        with pytest.raises(MalformedJson):
            list(decode_values(["{}", bad]))
