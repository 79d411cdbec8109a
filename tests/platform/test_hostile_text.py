"""What a hostile server echoes never reaches the user raw: secrets are redacted, controls shown
escaped, in errors and in the debug log alike."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.errors import AuthError, FlexctlError, ServerError, ValidationError
from flexctl.platform.client import FlexClient
from flexctl.redaction import redact
from tests.platform.hostile import (
    CLIENT_SECRET,
    ORG,
    HostileServer,
    Play,
    Seen,
    json_answer,
    raw_answer,
)

GATEWAYS = f"/api/v2/organizations/{ORG}/payment-gateways"


def no_raw_controls(text: str) -> bool:
    return not [c for c in text if unicodedata.category(c) in {"Cc", "Cf"} and c != "\n"]


def echo_form(status: int) -> Callable[[Seen], Play]:
    """A token endpoint that refuses and echoes the form it got, in every way it could."""
    def play(seen: Seen) -> Play:
        text = seen.body.decode()
        return json_answer(status, {"statusCode": status, "message": [
            f"invalid client for {text}", f"secret was {seen.form['client_secret'][0]}"]})
    return play


def test_a_token_endpoint_echoing_the_client_secret(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile.on("POST", "oauth/token", echo_form(401))
    with pytest.raises(AuthError) as info:
        list(hostile_client().list("plans"))
    text = str(info.value)
    assert CLIENT_SECRET not in text and quote_plus(CLIENT_SECRET) not in text
    assert "client_secret=…5150" in text and "secret was …5150" in text
    assert text.startswith("POST /oauth/token: 401 invalid client for grant_type=")
    assert text.endswith(f"({hostile.origin} refused the token request: check FLEXCTL_CLIENT_ID "
                         "and FLEXCTL_CLIENT_SECRET, and that the application is granted every "
                         "requested scope (flex.fake.all); FLEXCTL_SCOPES narrows the request)")
    assert CLIENT_SECRET not in caplog.text and "…5150" in caplog.text


def test_a_gateway_key_echoed_in_a_400_body(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = "sk_live_51HxGatewayKey\"9731"
    resolver = SecretResolver(tmp_path, environ={"STRIPE_KEY": key})
    body = {"provider": "stripe", "secret": resolver.value({"env": "STRIPE_KEY"}, "gw.secret")}

    def echo(seen: Seen) -> Play:  # as text, JSON-escaped, and inside a nested JSON string
        sent = json.loads(seen.body)["secret"]
        return json_answer(400, {"statusCode": 400, "message": [
            f"key {sent} is not valid", f"raw body: {seen.body.decode()}"]})

    hostile.on("POST", "payment-gateways", echo)
    with pytest.raises(ValidationError) as info:
        hostile_client().create("payment-gateways", body)
    assert info.value.platform_message == [
        "key …9731 is not valid", 'raw body: {"provider":"stripe","secret":"…9731"}']
    assert str(info.value) == (f"POST {GATEWAYS}: 400 key …9731 is not valid; raw body: "
                               '{"provider":"stripe","secret":"…9731"}')
    assert "Gateway" not in caplog.text and "…9731" in caplog.text


def test_the_bearer_token_echoed_in_an_error_body(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    def echo(seen: Seen) -> Play:
        return json_answer(500, {"message": f"token rejected: {seen.headers['authorization']}"})

    hostile.on("PUT", "fees/f1", echo)
    with pytest.raises(ServerError) as info:
        hostile_client().update("fees", "f1", {"name": "x"})
    assert info.value.platform_message == "token rejected: Bearer …0001"
    assert "hostile-token-0001" not in caplog.text


def test_a_secret_where_a_long_message_is_cut_is_redacted_before_the_cut(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Cut first, the message would end in the secret's first characters, which the redactor
    # no longer recognises: with the fingerprint (its last four) shown elsewhere, all of it.
    caplog.set_level(logging.DEBUG)
    for pad in (283, 290, 1990):
        body = {"message": "x" * pad + " " + CLIENT_SECRET}

        def answer(seen: Seen, body: dict[str, str] = body) -> Play:
            return json_answer(400, body)

        hostile.on("GET", "plans", answer)
        with pytest.raises(FlexctlError) as info:
            list(hostile_client().list("plans"))
        for text in (str(info.value), caplog.text):
            assert CLIENT_SECRET[:8] not in text, pad


def test_controls_in_an_error_body_are_shown_escaped(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("DELETE", "fees/f1", json_answer(400, {"message": [
        "\x1b]0;owned\x07\x1b[2Jgone", "nul\x00 bidi \u202eevil\u202c \u200b \x9b1m"]}))
    with pytest.raises(ValidationError) as info:
        hostile_client().delete("fees", "f1")
    assert info.value.platform_message == [
        "\\x1b]0;owned\\x07\\x1b[2Jgone", "nul\\x00 bidi \\u202eevil\\u202c \\u200b \\x9b1m"]
    assert no_raw_controls(str(info.value))


@pytest.mark.parametrize(("play", "shown"), [
    (raw_answer(502, b"Bad gateway\r\n\x1b[31m<html>\n"), "Bad gateway\\r\\n\\x1b[31m<html>"),
    (raw_answer(301, b"", {"Location": "https://evil.example/x?token=abc"}),
     "redirected to https://evil.example/x?token=(redacted); use the final URL as --api-url or "
     "--token-url"),
    # An invalid Location: h11 (httpx) refuses the header; http.client (direct) passes it on
    # and the redirect's error shows it escaped.
    (raw_answer(301, b"", {"Location": "https://evil.example/\x1b[2J"}),
     ("RemoteProtocolError: Invalid URL in location header",
      "redirected to https://evil.example/\\x1b[2J; use the final URL")),
])
def test_text_from_headers_and_plain_bodies_is_inert(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], play: Play,
    shown: str | tuple[str, str],
) -> None:
    hostile.on("POST", "fees", play)
    with pytest.raises(FlexctlError) as info:
        hostile_client().create("fees", {"name": "x"})
    either = (shown,) if isinstance(shown, str) else shown
    assert any(text in str(info.value) for text in either), str(info.value)
    assert no_raw_controls(str(info.value))


def test_the_client_secret_is_registered_unless_it_is_the_emulators_public_one(
    hostile_client: Callable[..., FlexClient],
) -> None:
    hostile_client()
    assert redact(f"x {CLIENT_SECRET} y") == "x …5150 y"
    hostile_client(client_secret="emulator")
    assert redact("the emulator answered") == "the emulator answered"
