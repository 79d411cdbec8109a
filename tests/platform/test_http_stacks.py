"""The two HTTP stacks of a session on real sockets: the standard library's
(`flexctl.platform.direct`, where no proxy is configured) and httpx's. The hostile-server tests
run on both (the `hostile_client` fixture); these are about what only real connections show:
keep-alive, a connection the server closed, TLS, and which stack a session takes."""

from __future__ import annotations

import gc
import gzip
import json
import sqlite3
import ssl
import time
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flexctl.cli import main
from flexctl.errors import AuthError, MalformedAnswerError, TransportError, UsageError
from flexctl.platform.client import FlexClient
from flexctl.platform.http import RetryPolicy
from flexctl.platform.target import Target, direct_from_env, open_client
from flexctl.state.cache import SnapshotCache
from flexctl.state.incremental import CachedReader
from tests.platform.hostile import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORG,
    HostileServer,
    Play,
    Seen,
    ids,
    json_answer,
    pages,
    raw_answer,
)
from tests.platform.platform_fakes import RecordingSleep

EXAMPLE = Path(__file__).parents[2] / "examples" / "harbor-works"
TLS = Path(__file__).parent / "tls"  # a test CA, and a certificate it signed for 127.0.0.1


def test_reads_share_one_kept_alive_connection(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    items = list(ids("p", 500))
    hostile.on("GET", "plans", pages(items))
    assert list(hostile_client().list("plans")) == items
    reads = [seen for seen in hostile.requests if seen.method == "GET"]
    assert len(reads) == 10
    assert len({seen.port for seen in reads}) == 1  # one connection for all ten pages


def test_both_stacks_send_the_same_request(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("GET", "plans", pages(list(ids("p", 3))))
    hostile.on("POST", "companies", json_answer(201, {"_id": "c1"}))
    client = hostile_client()
    list(client.list("plans", filters={"name": "a b/c"}))
    client.create("companies", {"name": "Acme & Sons"})
    token, read, write = hostile.requests
    host = hostile.origin.split("//", 1)[1]
    common = {"host": host, "accept": "application/json", "accept-encoding": "gzip"}
    assert {k: token.headers[k] for k in common} == common
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token.form["client_secret"] == [CLIENT_SECRET] and token.form["scope"] == [
        "flex.fake.all"]
    assert read.path == f"/api/v2/organizations/{ORG}/plans"
    assert read.query == {"$limit": ["50"], "name": ["a b/c"]}
    assert read.headers["authorization"] == "Bearer hostile-token-0001"
    assert write.headers["content-type"] == "application/json"
    assert write.body == b'{"name":"Acme & Sons"}'
    assert read.headers["user-agent"].startswith("flexctl/")


def _then_hang_up(play: Play) -> Play:
    """The play, then the connection closed without saying so (a server's idle timeout)."""

    def run(handler: object, seen: Seen, closing: object) -> None:
        play.run(handler, seen, closing)  # type: ignore[arg-type]
        handler.close_connection = True  # type: ignore[attr-defined]

    return Play(run)


def test_a_connection_the_server_closed_is_not_reused(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    # A POST is never sent twice: were the dead connection reused, the write would be lost in
    # transit and reported as of unknown outcome.
    hostile.on("GET", "plans", _then_hang_up(json_answer(200, {"results": []})))
    hostile.on("POST", "companies", json_answer(201, {"_id": "c1", "name": "Acme"}))
    client = hostile_client()
    assert list(client.list("plans")) == []
    time.sleep(0.2)  # the server's close reaches the client
    assert client.create("companies", {"name": "Acme"})["_id"] == "c1"
    assert client.stats.retries == 0 and hostile.count("POST", "companies") == 1
    ports = [seen.port for seen in hostile.requests if seen.path.endswith(("plans", "companies"))]
    assert len(set(ports)) == 2


def test_a_token_that_is_no_bearer_token_is_never_sent(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    # It would go into the Authorization header as written: a line break there is a header
    # of the server's choosing on every request.
    hostile.on("POST", "oauth/token", json_answer(200, {
        "access_token": "abc\r\nX-Injected: 1", "token_type": "Bearer", "expires_in": 3600}))
    with pytest.raises(AuthError, match="access_token is not a bearer token"):
        list(hostile_client().list("plans"))
    assert hostile.count("GET") == 0


# --- answers http.client reads its own way (found by an audit of the direct stack) --------------


def _raw(head: bytes, body: bytes = b"", *, pause: float = 0.0, close: bool = False) -> Play:
    """Exactly these bytes: the head, then (after `pause`) the body; `close` ends the
    connection after them."""

    def run(handler: Any, seen: Seen, closing: object) -> None:
        handler.close_connection = close
        handler.wfile.write(head)
        handler.wfile.flush()
        time.sleep(pause)
        handler.wfile.write(body)

    return Play(run)


BODY = b'{"_id":"c1","name":"Acme"}'


@pytest.mark.parametrize("head", [
    # The body is read after http.client closed the connection of an answer that ends it.
    b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY),
    b"HTTP/1.0 201 Created\r\nContent-Type: application/json\r\n\r\n",  # read until close
    # A byte no codec expects in a header's value.
    b"HTTP/1.1 201 Created\r\nX-Note: caf\xe9\r\nContent-Length: %d\r\n\r\n" % len(BODY),
    # Informational answers before the final one.
    b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
    b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n" % len(BODY),
    # One length said twice, in one line.
    b"HTTP/1.1 201 Created\r\nContent-Length: %d, %d\r\n\r\n" % (len(BODY), len(BODY)),
    # More header lines than http.client reads (httpx reads 100 KiB of them).
    b"HTTP/1.1 201 Created\r\n" + b"".join(b"X-N%d: 1\r\n" % n for n in range(150))
    + b"Content-Length: %d\r\n\r\n" % len(BODY),
], ids=["connection-close", "http10-until-close", "latin1-header", "early-hints",
        "length-listed-twice", "150-headers"])
def test_a_write_answered_in_any_valid_way_is_a_success(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], head: bytes
) -> None:
    hostile.on("POST", "companies", _raw(head, BODY, pause=0.02, close=True))
    assert hostile_client().create("companies", {"name": "Acme"})["_id"] == "c1"
    assert hostile.count("POST", "companies") == 1


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1_5\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Length: 7\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\nX-Cut",
    b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
], ids=["transfer-encoding", "invalid-length", "two-lengths", "headers-cut", "not-a-header"])
def test_an_answer_that_cannot_be_framed_is_a_lost_answer(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], head: bytes
) -> None:
    # Where the body ends is unclear: never read until the connection closes, as if whole.
    hostile.on("GET", "plans", _raw(head, b'{"results": []}', close=True))
    with pytest.raises(TransportError):
        list(hostile_client(retry=RetryPolicy(attempts=1)).list("plans"))


def test_a_folded_header_line_continues_the_one_before(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    head = (b"HTTP/1.1 429 Too Many Requests\r\nRetry-After:\r\n 7\r\n"
            b"Content-Length: 2\r\n\r\n")
    hostile.on("GET", "plans", json_answer(200, {"results": []}))
    hostile.on("GET", "plans", _raw(head, b"{}"), times=1)  # the latest route is asked first
    sleeper = RecordingSleep()
    assert list(hostile_client(sleep=sleeper).list("plans")) == []
    assert sleeper.calls == [7.0]


def test_a_body_cut_short_is_a_lost_answer_never_a_shorter_one(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    cut = _raw(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n", b'{"results"', close=True)
    hostile.on("GET", "plans", json_answer(200, {"results": [{"_id": "p1", "name": "Desk"}]}))
    hostile.on("GET", "plans", cut, times=1)
    client = hostile_client()
    assert [p["_id"] for p in client.list("plans")] == ["p1"]  # read again, as a lost read is
    assert hostile.count("GET", "plans") == 2
    hostile.on("POST", "companies", cut)
    with pytest.raises(TransportError) as info:
        client.create("companies", {"name": "Acme"})
    assert info.value.outcome_unknown and hostile.count("POST", "companies") == 1


@pytest.mark.parametrize("status", [204, 200])
def test_an_empty_body_marked_gzip_is_empty(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], status: int
) -> None:
    head = b"HTTP/1.1 %d X\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n" % status
    if status == 204:
        head = head.replace(b"Content-Length: 0\r\n", b"")
    hostile.on("DELETE", "companies/c1", _raw(head))
    hostile_client().delete("companies", "c1")
    assert hostile.count("DELETE") == 1


def test_a_gzip_stream_cut_short_is_unreadable(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    packed = gzip.compress(json.dumps({"results": [{"_id": "p1"}]}).encode())[:-12]
    hostile.on("GET", "plans", _raw(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                                    b"Content-Length: %d\r\n\r\n" % len(packed), packed))
    with pytest.raises(MalformedAnswerError, match="gzip stream is cut short"):
        list(hostile_client().list("plans"))


def test_connections_outlive_the_threads_that_opened_them(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    # Each snapshot or invoice batch reads on a new pool of threads: they take the idle
    # connections the last pool left instead of opening (and leaving) new ones.
    hostile.on("GET", "plans", json_answer(200, {"results": []}))
    client = hostile_client()
    for _ in range(10):
        client.map_concurrently(lambda _: list(client.list("plans")), range(4))
    reads = {seen.port for seen in hostile.requests if seen.method == "GET"}
    assert len(reads) <= 8  # at most 4 at a time, kept: never 40


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_no_socket_is_left_open(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    # Answers that end their connection, bodies cut short, kept-alive ones: every socket is
    # closed once its answer is read or given up.
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 15\r\n\r\n"
    hostile.on("GET", "plans", _raw(closing, b'{"results": []}', close=True))
    hostile.on("GET", "fees", _raw(closing, b'{"res', close=True))
    hostile.on("GET", "members", json_answer(200, {"results": []}))
    client = hostile_client(retry=RetryPolicy(attempts=1))
    list(client.list("members"))
    before = len(list(Path("/proc/self/fd").iterdir()))
    with warnings.catch_warnings(record=True) as caught:  # a socket freed unclosed says so
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(100):
            list(client.list("plans"))
            list(client.list("members"))
            with pytest.raises(TransportError):
                list(client.list("fees"))
        gc.collect()
    assert len(list(Path("/proc/self/fd").iterdir())) <= before + 2
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def test_a_closed_session_sends_nothing(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    client = hostile_client()
    client.close()
    with pytest.raises(RuntimeError):
        list(client.list("plans"))
    assert hostile.count("GET") == 0


# --- TLS ----------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[HostileServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "server.pem", TLS / "server.key")
    server = HostileServer(tls=context)
    server.on("GET", "plans", json_answer(200, {"results": [{"_id": "p1", "name": "Desk"}]}))
    yield server
    server.close()


def _tls_client(server: HostileServer, direct: bool, host: str = "127.0.0.1") -> FlexClient:
    origin = server.origin.replace("127.0.0.1", host)
    target = Target(api_url=f"{origin}/api/v2", org=ORG, token_url=f"{origin}/oauth/token",
                    client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    return open_client(target, scopes=("flex.fake.all",), read_rate="100000/s",
                       sleep=RecordingSleep(), direct=direct)


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "httpx"])
def test_https_is_verified_against_the_trust_store(
    tls_server: HostileServer, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    # Unknown issuer: the handshake fails and not a byte of the request (nor the secret in
    # the token request) reaches the server.
    client = _tls_client(tls_server, direct)
    with pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert (f"cannot connect to {tls_server.origin}: its TLS certificate is not trusted "
            "(unable to get local issuer certificate); flexctl trusts certifi's store") in str(
        info.value)
    assert tls_server.requests == []
    client.close()
    # Trusted through SSL_CERT_FILE, as httpx reads it: the same server answers.
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    client = _tls_client(tls_server, direct)
    assert [p["_id"] for p in client.list("plans")] == ["p1"]
    assert client._session.deadline_pools == (0 if direct else 2)
    client.close()


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "httpx"])
def test_https_checks_the_host_name(
    tls_server: HostileServer, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    # A trusted certificate for 127.0.0.1 is not one for "localhost".
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    client = _tls_client(tls_server, direct, host="localhost")
    with pytest.raises(TransportError, match=r"not trusted \(.*mismatch.*\); flexctl trusts "
                       r"the certificates in SSL_CERT_FILE=.*ca\.pem"):
        list(client.list("plans"))
    assert tls_server.requests == []
    client.close()


# --- which stack --------------------------------------------------------------------------------


def test_a_session_on_sockets_takes_the_standard_library_unless_told_or_proxied(
    hostile: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Target(api_url=hostile.api_url, org=ORG, token_url=hostile.token_url,
                    client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

    def direct() -> bool:
        client = open_client(target, scopes=("flex.fake.all",))
        try:
            return client._session._direct is not None
        finally:
            client.close()

    assert direct()
    monkeypatch.setenv("FLEXCTL_HTTP", "httpx")
    assert not direct()
    monkeypatch.setenv("FLEXCTL_HTTP", "auto")
    assert direct()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # names no proxy
    assert direct()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")  # not for http://
    assert direct()
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.test:3128")  # but NO_PROXY names
    assert direct()  # the host
    monkeypatch.delenv("NO_PROXY")
    assert not direct()  # through the proxy: httpx knows proxies


def test_flexctl_http_takes_auto_or_httpx(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert direct_from_env({}) and direct_from_env({"FLEXCTL_HTTP": " Auto "})
    assert not direct_from_env({"FLEXCTL_HTTP": "httpx"})
    with pytest.raises(UsageError, match="FLEXCTL_HTTP must be auto or httpx, not 'curl'"):
        direct_from_env({"FLEXCTL_HTTP": "curl"})
    # A command says so before any request, with the usage exit code.
    monkeypatch.setenv("FLEXCTL_HTTP", "curl")
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "id")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", "secret")
    code = main(["plan", str(EXAMPLE), "--api-url", "http://127.0.0.1:9/api/v2"])
    assert code == 64
    assert "FLEXCTL_HTTP must be auto or httpx" in capsys.readouterr().err


# --- what the snapshot cache stores ----------------------------------------------------------


def test_the_snapshot_cache_stores_each_document_as_the_platform_wrote_it(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], tmp_path: Path
) -> None:
    written = ['{"_id" : "f2",  "price": 1.50, "name": "Caf\u00e9"}', '{"_id":"f1","price":7}']
    body = '{ "cursorNext": null,\n "results": [ ' + " ,\n".join(written) + " ] }"
    hostile.on("GET", "fees", raw_answer(200, body.encode(), {"Content-Type": "application/json"}))
    hostile.on("GET", "fees/count", json_answer(200, {"total": 2}))
    cache = SnapshotCache(tmp_path / "c.sqlite")
    docs = CachedReader(hostile_client(), cache).read_path("fees", ("price", "name"), True)
    assert docs == [{"_id": "f1", "price": 7},
                    {"_id": "f2", "price": Decimal("1.50"), "name": "Café"}]
    cache.close()
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        stored = dict(conn.execute("SELECT id, doc FROM docs WHERE collection = 'fees'"))
    assert stored == {"f2": written[0], "f1": written[1]}  # not written again
    entry = SnapshotCache(tmp_path / "c.sqlite").entry("fees", ("price", "name"))
    assert entry is not None and entry.docs == {doc["_id"]: doc for doc in docs}
