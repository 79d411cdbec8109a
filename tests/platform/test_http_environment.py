"""What the environment says about the network, and what a failure then tells the user: the
proxy a request goes through (named, never blamed on the platform), a SOCKS proxy refused, the
TLS trust store (SSL_CERT_FILE named when unusable), a plain-HTTP server asked for TLS, a web
page where the API's JSON was expected, and which stack `--debug` says a session took."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flexctl.cli import main
from flexctl.errors import ApiError, AuthError, TransportError, UsageError
from flexctl.platform.client import FlexClient
from flexctl.platform.netenv import proxy_for, trust_context
from flexctl.platform.target import Target, open_client
from tests.platform.hostile import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORG,
    HostileServer,
    closed_port,
    json_answer,
    raw_answer,
)
from tests.platform.platform_fakes import RecordingSleep

EXAMPLE = Path(__file__).parents[2] / "examples" / "harbor-works"
TLS = Path(__file__).parent / "tls"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
STACKS = pytest.mark.parametrize("direct", [True, False], ids=["direct", "httpx"])


@pytest.fixture(autouse=True)
def _no_network_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARIABLES, "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _client(api_url: str, token_url: str, *, direct: bool = True) -> FlexClient:
    target = Target(api_url=api_url, org=ORG, token_url=token_url, client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET)
    return open_client(target, scopes=("flex.fake.all",), read_rate="100000/s",
                       sleep=RecordingSleep(), direct=direct)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    served = HostileServer()
    served.on("GET", "plans", json_answer(200, {"results": [{"_id": "p1", "name": "Desk"}]}))
    yield served
    served.close()


# --- proxies ------------------------------------------------------------------------------------


def test_a_failure_through_a_proxy_names_the_proxy_not_only_the_platform(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The proxy is down: it is the proxy that refused, and the error says which one (without
    # its password), and from which variable.
    monkeypatch.setenv("http_proxy", f"http://ops:pr0xy-pass@127.0.0.1:{closed_port()}")
    client = _client(server.api_url, server.token_url)
    assert client._session._direct is None  # a proxy: httpx's stack
    with pytest.raises(TransportError) as info:
        list(client.list("plans"))
    message = str(info.value)
    assert (f"cannot connect to {server.origin} through the proxy http://127.0.0.1:"
            in message)
    assert "(http_proxy): Connection refused" in message
    assert "pr0xy-pass" not in message and "ops@" not in message
    assert server.requests == []
    client.close()


def test_no_proxy_keeps_a_host_off_the_proxy_and_on_the_standard_library(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    client = _client(server.api_url, server.token_url)
    assert client._session._direct is not None
    assert [p["_id"] for p in client.list("plans")] == ["p1"]
    client.close()


@pytest.mark.parametrize(("no_proxy", "url"), [
    ("", "https://app.officernd.com/api/v2"),
    ("officernd.com", "https://app.officernd.com/api/v2"),
    ("officernd.com", "https://officernd.com/api/v2"),
    ("officernd.com", "https://notofficernd.com/api/v2"),
    (".officernd.com", "https://app.officernd.com/api/v2"),
    (".officernd.com", "https://officernd.com/api/v2"),
    ("*", "https://app.officernd.com/api/v2"),
    ("APP.OfficeRnD.com", "https://app.officernd.com/api/v2"),
    ("app.officernd.com:8443", "https://app.officernd.com/api/v2"),
    ("app.officernd.com:8443", "https://app.officernd.com:8443/api/v2"),
    ("127.0.0.1", "http://127.0.0.1:8765/api/v2"),
    ("127.0.0.2", "http://127.0.0.1:8765/api/v2"),
    ("10.0.0.0/8", "http://10.1.2.3/api/v2"),  # no CIDR ranges, as httpx
    ("10.0.0.0/8", "http://10.0.0.0/api/v2"),
    ("officernd.com:", "https://app.officernd.com/api/v2"),
    ("officernd.com/path", "https://app.officernd.com/api/v2"),
    ("::1", "http://[::1]:8765/api/v2"),
    ("localhost", "http://localhost:8765/api/v2"),
    ("localhost", "http://app.localhost:8765/api/v2"),
    ("http://app.officernd.com", "https://app.officernd.com/api/v2"),
    ("https://app.officernd.com", "https://app.officernd.com/api/v2"),
    (" other.example , officernd.com ", "https://app.officernd.com/api/v2"),
    ("all://", "https://app.officernd.com/api/v2"),  # replaces ALL_PROXY's mount only
    ("https://", "https://app.officernd.com/api/v2"),
    ("http://", "https://app.officernd.com/api/v2"),
    ("user@app.officernd.com", "https://app.officernd.com/api/v2"),
    ("https://app.officernd.com:443", "https://app.officernd.com/api/v2"),  # a default port
    ("http://127.0.0.1:8765", "http://127.0.0.1:8765/api/v2"),
])
@pytest.mark.parametrize("proxies", [
    {"HTTPS_PROXY": "http://proxy.example:3128", "HTTP_PROXY": "http://proxy.example:3129"},
    {"ALL_PROXY": "proxy.example:3128"},
    {"https_proxy": "http://proxy.example:3128"},
], ids=["per-scheme", "all", "lowercase"])
def test_the_proxy_a_url_takes_is_the_one_httpx_takes(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, url: str, proxies: dict[str, str]
) -> None:
    # Which stack a session takes, and what a failure names, rest on reading the environment
    # exactly as httpx does: compared with httpx's own choice for the same URL.
    for name, value in proxies.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    address = httpx.URL(url)
    ours = proxy_for(address.scheme, address.host, address.port)
    with httpx.Client(trust_env=True) as client:
        theirs = client._transport_for_url(address) is not client._transport
    assert (ours is not None) == theirs
    if ours is not None:
        assert ours.url.startswith("http://proxy.example:312")


@pytest.mark.parametrize("password", ["pa[ss-word", "Secr\uff03tPw-long", "pa%2Fss-word"])
def test_a_proxy_password_of_any_characters_is_neither_shown_nor_fatal(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    port = closed_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://ops:{password}@127.0.0.1:{port}")
    client = _client(server.api_url, server.token_url)
    with pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert f"through the proxy http://127.0.0.1:{port} (HTTP_PROXY)" in str(info.value)
    assert password not in str(info.value) and "ops" not in str(info.value)
    client.close()


def test_no_proxy_entries_httpx_cannot_read_are_a_usage_error_naming_no_proxy(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "intranet[1].corp,[::1]:8443")
    assert proxy_for("https", "app.officernd.com", None) is not None  # read, not fatal
    assert proxy_for("https", "::1", 8443) is None
    with pytest.raises(UsageError, match=r"^HTTPS_PROXY, NO_PROXY: a proxy URL \(or NO_PROXY "
                                         r"entry\) that cannot be read"):
        _client("https://app.officernd.com/api/v2", "https://identity.officernd.com/oauth/token")


def test_a_proxy_url_httpx_cannot_read_is_a_usage_error_that_shows_no_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="flexctl.http")
    monkeypatch.setenv("HTTPS_PROXY", "http://ops:pa/ss-word@127.0.0.1:9")  # "/" unencoded
    with pytest.raises(UsageError, match=r"^HTTPS_PROXY: a proxy URL") as info:
        _client("https://app.officernd.com/api/v2", "https://identity.officernd.com/oauth/token")
    assert "ss-word" not in str(info.value) and "ops" not in str(info.value)
    assert not [m for m in caplog.messages if "ops" in m or "ss-word" in m]


@pytest.mark.parametrize("value", ["socks5://127.0.0.1:1080", "socks5h://proxy:1080"])
def test_a_socks_proxy_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv("ALL_PROXY", value)
    with pytest.raises(UsageError, match=r"ALL_PROXY names a SOCKS proxy .* HTTP and HTTPS "
                                         r"proxies only"):
        _client("https://app.officernd.com/api/v2", "https://identity.officernd.com/oauth/token")
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "id")
    # Registered with the redactor for the rest of the process: a word no output holds.
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", "socks-test-client-secret")
    code = main(["plan", str(EXAMPLE), "--api-url", "https://app.officernd.com/api/v2"])
    err = capsys.readouterr().err
    assert code == 64
    assert err.startswith("Error: ALL_PROXY names a SOCKS proxy")
    assert "Internal error" not in err and "socksio" not in err


def test_a_socks_proxy_that_no_host_takes_is_no_matter(monkeypatch: pytest.MonkeyPatch,
                                                       server: HostileServer) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = _client(server.api_url, server.token_url)
    assert [p["_id"] for p in client.list("plans")] == ["p1"]
    client.close()


@STACKS
def test_debug_names_the_stack_and_the_proxy(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    direct: bool
) -> None:
    caplog.set_level(logging.DEBUG, logger="flexctl.http")
    _client(server.api_url, server.token_url, direct=direct).close()
    expected = ("Python's http.client, no proxy" if direct else
                "httpx (FLEXCTL_HTTP=httpx); the API direct, the token host direct")
    assert f"HTTP: {expected}" in caplog.messages
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    _client(server.api_url, server.token_url, direct=direct).close()
    assert (f"HTTP: httpx{'' if direct else ' (FLEXCTL_HTTP=httpx)'}; the API through the "
            "proxy http://proxy.example:3128 (HTTP_PROXY), the token host through the proxy "
            "http://proxy.example:3128 (HTTP_PROXY)") in caplog.messages


# --- TLS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "make", "why"), [
    ("SSL_CERT_FILE", lambda tmp: tmp / "missing.pem", "no such file"),
    ("SSL_CERT_FILE", lambda tmp: tmp, "a directory, not a file"),
    ("SSL_CERT_FILE", lambda tmp: _write(tmp / "notes.txt", "not a certificate\n"),
     "holds no PEM certificate"),
    ("SSL_CERT_DIR", lambda tmp: tmp / "missing", "not a directory"),
])
@STACKS
def test_an_unusable_trust_store_names_its_variable_and_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, make: object, why: str,
    direct: bool
) -> None:
    assert callable(make)
    path = make(tmp_path)
    monkeypatch.setenv(variable, str(path))
    with pytest.raises(UsageError) as info:
        client = _client("https://127.0.0.1:9/api/v2", "https://127.0.0.1:9/oauth/token",
                         direct=direct)
        try:
            list(client.list("plans"))
        finally:
            client.close()
    assert str(info.value).startswith(f"{variable}={path}: {why} (it names the certificates "
                                      "flexctl trusts for TLS")
    assert info.value.exit_code == 64


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_trust_store_is_the_named_file_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    assert len(trust_context().get_ca_certs()) == 1  # the test CA, not certifi's hundred
    monkeypatch.delenv("SSL_CERT_FILE")
    assert len(trust_context().get_ca_certs()) > 50


@STACKS
def test_https_to_a_plain_http_server_says_so(server: HostileServer, direct: bool) -> None:
    origin = server.origin.replace("http://", "https://")
    client = _client(f"{origin}/api/v2", f"{origin}/oauth/token", direct=direct)
    with pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert str(info.value) == (
        f"POST /oauth/token: cannot connect to {origin}: the server did not answer in TLS: if "
        "it serves plain HTTP, the URL must start with http://")
    client.close()


# --- answers that are not the platform's ---------------------------------------------------------

PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in &amp; continue</title>"
        b"<style>body { color: red }</style><script>var secret = 1;</script></head>\n"
        b"<body><h1>Welcome</h1>\n<p>Please   sign in.</p></body></html>")


@STACKS
def test_a_web_page_is_summarized_and_blamed_on_the_url(
    server: HostileServer, direct: bool
) -> None:
    server.on("GET", "plans", raw_answer(403, PAGE, {"Content-Type": "text/html"}))
    client = _client(server.api_url, server.token_url, direct=direct)
    with pytest.raises(ApiError) as info:
        list(client.list("plans"))
    assert str(info.value) == (
        f"GET /api/v2/organizations/{ORG}/plans: 403 a web page, not the API's JSON: Sign in & "
        "continue: Welcome Please sign in. (a web page is no answer of the platform's API: is "
        "--api-url (FLEXCTL_API_URL) the platform's, and is a proxy or sign-in page answering?)")
    client.close()


def test_a_web_page_is_redacted_before_it_is_cut(server: HostileServer) -> None:
    # The client secret, echoed across the point where the page stops being read, is not
    # shown in part.
    page = b"<html><body>" + b" " * 19_980 + f"You sent {CLIENT_SECRET}".encode() + b"</body>"
    server.on("GET", "plans", raw_answer(502, page, {"Content-Type": "text/html"}))
    client = _client(server.api_url, server.token_url)
    with pytest.raises(ApiError) as info:
        list(client.list("plans"))
    assert CLIENT_SECRET[:6] not in str(info.value)
    client.close()


@STACKS
def test_a_token_url_answering_a_web_page_is_named(server: HostileServer, direct: bool) -> None:
    server.on("POST", "oauth/token", raw_answer(200, PAGE))  # no Content-Type: told by its text
    client = _client(server.api_url, server.token_url, direct=direct)
    with pytest.raises(AuthError) as info:
        list(client.list("plans"))
    assert "is not a token endpoint; check --token-url (FLEXCTL_TOKEN_URL)" in str(info.value)
    server.on("POST", "oauth/token", raw_answer(502, PAGE, {"Content-Type": "text/html"}))
    client = _client(server.api_url, server.token_url, direct=direct)
    with pytest.raises(ApiError) as failed:
        list(client.list("plans"))
    assert str(failed.value).endswith(f"({server.token_url} answered with a web page: is it the "
                                    "token endpoint? check --token-url (FLEXCTL_TOKEN_URL))")
    assert "Sign in & continue: Welcome Please sign in." in str(failed.value)


@STACKS
def test_an_api_url_without_api_v2_is_named_on_no_route(
    server: HostileServer, direct: bool
) -> None:
    # The emulator and the platform answer an unknown route `Cannot GET /…`.
    server.on("GET", "plans", lambda seen: json_answer(200, {"results": []})
              if seen.path.startswith("/api/v2/") else json_answer(
                  404, {"statusCode": 404, "message": f"Cannot GET {seen.path}"}))
    client = _client(server.origin, server.token_url, direct=direct)
    with pytest.raises(ApiError) as info:
        list(client.list("plans"))
    assert str(info.value) == (
        f"GET /organizations/{ORG}/plans: 404 Cannot GET /organizations/{ORG}/plans (is "
        "--api-url (FLEXCTL_API_URL) right? the platform's API URL ends in /api/v2 "
        "(https://app.officernd.com/api/v2), not in /)")
    client.close()
    # Under /api/v2 the same answer is a route the platform lacks, said as it is.
    client = _client(server.api_url, server.token_url, direct=direct)
    with pytest.raises(ApiError) as info:
        list(client.list("resources"))
    assert "(is --api-url" not in str(info.value)
    client.close()
