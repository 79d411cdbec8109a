"""The JSON decoder's limits: every malformed body is a `MalformedJson` saying why."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flexctl.platform.jsonwire import MAX_BODY_BYTES, MAX_DEPTH, MalformedJson, decode_json


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
