"""The redactor: registered secrets never leave flexctl, in any form they may take."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flexctl import redaction
from flexctl.config.secrets import SecretResolver
from flexctl.errors import ApiError, TransportError
from flexctl.redaction import (
    RedactingFilter,
    RedactingStream,
    fingerprint_of,
    redact,
    redact_fields,
    redact_url,
    register,
)

SECRET = "sk_live_51Hx\"quoted\\/é+&=?secret4242"


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    redaction.forget_all()
    yield
    redaction.forget_all()


def test_a_registered_secret_is_replaced_by_its_fingerprint_in_every_form() -> None:
    register(SECRET)
    forms = {
        "raw": SECRET,
        "json": json.dumps(SECRET)[1:-1],
        "json-ascii-off": json.dumps(SECRET, ensure_ascii=False)[1:-1],
        "url": quote(SECRET, safe=""),
        "form": urlencode({"client_secret": SECRET}).split("=", 1)[1],
        "plus": quote_plus(SECRET),
    }
    for name, form in forms.items():
        text = f'{{"message": "key {form} is invalid"}}'
        assert redact(text) == '{"message": "key …4242 is invalid"}', name


def test_fingerprint_is_the_last_four_characters() -> None:
    assert fingerprint_of("abcdefgh") == "…efgh"
    assert redaction.FINGERPRINT_PREFIX == "…"


def test_short_values_are_not_registered() -> None:
    register("12345")
    register("")
    register(None)
    register("  1234  ")
    assert redact("12345 is a number,   1234  ") == "12345 is a number,   1234  "
    register("123456")
    assert redact("x123456y") == "x…3456y"


def test_a_longer_secret_containing_a_shorter_one_is_replaced_whole() -> None:
    register("abcdef")
    register("abcdef-and-more-9999")
    assert redact("[abcdef-and-more-9999] [abcdef]") == "[…9999] […cdef]"


def test_config_secrets_are_registered_when_read(tmp_path: Path) -> None:
    resolver = SecretResolver(tmp_path, environ={"GATEWAY_KEY": "sk_test_gateway_7781"})
    assert resolver.fingerprint({"env": "GATEWAY_KEY"}, "gateways.stripe.secret") == "…7781"
    assert redact("400 bad key sk_test_gateway_7781") == "400 bad key …7781"
    (tmp_path / "key.txt").write_text("file-secret-value-1234\n")
    assert resolver.value({"file": "key.txt"}, "gateways.stripe.secret") == (
        "file-secret-value-1234"
    )
    assert redact("file-secret-value-1234") == "…1234"


def test_errors_never_show_a_registered_secret() -> None:
    register("gw-key-0123456789")
    error = ApiError("POST", "/api/v2/organizations/o/payment-gateways", 400,
                     ["key gw-key-0123456789 rejected", "echo gw-key-0123456789"])
    assert str(error) == ("POST /api/v2/organizations/o/payment-gateways: 400 key …6789 "
                          "rejected; echo …6789")
    assert error.platform_message == ["key …6789 rejected", "echo …6789"]
    lost = TransportError("POST", "/oauth/token", "reset by gw-key-0123456789")
    assert "gw-key" not in str(lost) and "gw-key" not in lost.reason


def test_errors_show_platform_text_inert() -> None:
    error = ApiError("GET", "/x", 500, "boom\x1b]0;title\x07\u202e")
    assert str(error) == "GET /x: 500 boom\\x1b]0;title\\x07\\u202e"
    assert error.platform_message == "boom\\x1b]0;title\\x07\\u202e"


def test_the_log_filter_redacts_messages_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    register("bearer-token-abcdef")
    logger = logging.getLogger("flexctl.test-redaction")
    handler_filter = RedactingFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="flexctl.test-redaction"):
            logger.info("sent %s", {"Authorization": "Bearer bearer-token-abcdef"})
            logger.info("plain bearer-token-abcdef")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert [r.getMessage() for r in caplog.records] == [
        "sent {'Authorization': 'Bearer …cdef'}", "plain …cdef"]


def test_the_stream_redacts_a_secret_written_in_pieces() -> None:
    register("split-secret-value-77")
    out = io.StringIO()
    stream = RedactingStream(out)
    stream.write("token: split-sec")
    assert out.getvalue() == ""  # held until the line is complete
    stream.write("ret-value-77\nnext ")
    assert out.getvalue() == "token: …e-77\n"
    stream.write("prompt split-secret-value-77? ")
    stream.flush()
    assert out.getvalue() == "token: …e-77\nnext prompt …e-77? "
    stream.close()
    assert not out.closed  # the owner closes the wrapped stream
    assert stream.wrapped is out


def test_the_stream_passes_a_long_partial_line_on() -> None:
    out = io.StringIO()
    stream = RedactingStream(out)
    stream.write("x" * (RedactingStream.HOLD_LIMIT + 1))
    assert len(out.getvalue()) == RedactingStream.HOLD_LIMIT + 1


def test_the_stream_looks_like_the_stream_it_wraps() -> None:
    out = io.StringIO()
    stream = RedactingStream(out)
    assert stream.writable() and not stream.isatty()
    assert stream.encoding == out.encoding and stream.errors == out.errors
    print("printed", file=stream)
    assert out.getvalue() == "printed\n"


@given(st.text(min_size=6, max_size=40).filter(lambda s: "…" not in s and len(s.strip()) >= 6),
       st.text(max_size=30), st.text(max_size=30))
def test_a_registered_value_never_survives_redaction(secret: str, before: str,
                                                     after: str) -> None:
    register(secret)
    assert secret not in redact(before + secret + after)
    assert json.dumps(secret)[1:-1] not in redact(json.dumps(before + secret + after))


def test_field_redaction_helpers() -> None:
    assert redact_fields({"name": "x", "secret": "s", "nested": [{"accessToken": "t"}]}) == {
        "name": "x", "secret": "(redacted)", "nested": [{"accessToken": "(redacted)"}]}
    url = redact_url("https://user:pw@h.example/p?$limit=50&client_secret=abc&token=t")
    assert url == "https://h.example/p?$limit=50&client_secret=(redacted)&token=(redacted)"


def test_clipping_redacts_first_so_no_part_of_a_secret_is_left() -> None:
    secret = "s3cr3t-CLIENT-xyz"
    register(secret)
    for pad in range(0, 40):
        text = "x" * pad + secret + " and more text after it"
        for head, tail in ((20, 0), (30, 3), (36, 3)):
            shown = redaction.clipped(text, head, tail)
            assert secret[:5] not in shown and len(shown) <= head + tail + 1, (pad, head)
    assert redaction.clipped("short", 36, 3) == "short"
    assert redaction.clipped("a" * 50, 36, 3) == "a" * 36 + "…" + "aaa"


def test_a_secret_turned_into_a_key_is_redacted_too() -> None:
    # A platform name holding a key becomes the key of an unmanaged object: lowercased, every
    # run of other characters one dash.
    register("sk_test_Sandbox_4242")
    assert redact("company: acme-sk-test-sandbox-4242 -> acme") == "company: acme-…4242 -> acme"
    register("ab!!!!!!!!")  # its key form, "ab", is too short to mask anything
    assert redact("ab cd") == "ab cd"


def test_a_quoted_value_is_redacted_and_one_short_line() -> None:
    register("hdr-secret-value-77")
    assert redaction.shown("x" * 60 + "hdr-secret-value-77") == "'" + "x" * 35 + "…" + "77'"
    assert "hdr-secr" not in redaction.shown("reset hdr-secret-value-77 in 5")
    assert redaction.shown("a\nb") == "'a\\nb'"
