"""A hostile Flex look-alike on a real socket (127.0.0.1), for the client's trust tests.

Each test scripts the answers: `server.on(method, path_regex, play)`, where a play writes
whatever it likes to the socket, as slowly as it likes (`json_answer`, `raw_answer`,
`trickle`, `silence`, `endless`). `POST /oauth/token` issues tokens unless a test scripts it
too. Every request is recorded (`requests`, `count()`), so a test can say how many reads,
writes and token requests the client made. Closing the server ends every play at once, and no
play runs longer than `MAX_PLAY` seconds, so no test can hang on it.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ORG = "harbor-works"
CLIENT_ID = "client-1"
CLIENT_SECRET = "hostile-client-secret-5150"
MAX_PLAY = 10.0  # seconds: the longest any play keeps a connection


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    port: int = 0  # the client's port: one per connection it opened

    @property
    def rel(self) -> str:
        """The path after /organizations/{org}/ ("plans", "plans/count")."""
        return self.path.split(f"/organizations/{ORG}/", 1)[-1]

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace"))


class Play:
    """How the server answers one request; `run` writes to the socket."""

    def __init__(self, run: Callable[[BaseHTTPRequestHandler, Seen, threading.Event], None]):
        self.run = run


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    play: Play | Callable[[Seen], Play]
    times: int | None  # None: every matching request


@dataclass
class HostileServer:
    """Started on construction; `close()` (or the fixture) stops it. With `tls` (a server
    context) it speaks HTTPS."""

    requests: list[Seen] = field(default_factory=list)
    tokens_issued: int = 0
    tls: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                server._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:  # the handshake happens on accept; a refused one is dropped
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # -- where it is --

    @property
    def origin(self) -> str:
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.origin}/api/v2"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/oauth/token"

    # -- the script --

    def on(self, method: str, path: str, play: Play | Callable[[Seen], Play], *,
           times: int | None = None) -> None:
        """Answer requests whose path after the organization (or `/oauth/token`) fully
        matches `path`; the latest matching route wins. `play` may be a function of the
        request. `times` limits how often the route answers."""
        with self._lock:
            self._routes.insert(0, _Route(method, re.compile(path), play, times))

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len([r for r in self.requests if (method is None or r.method == method)
                    and (path is None or re.fullmatch(path, r.rel))])

    @property
    def writes(self) -> int:
        return len([r for r in self.requests if r.method != "GET" and "/organizations/" in r.path])

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    # -- serving --

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        seen = Seen(handler.command, url.path, parse_qs(url.query, keep_blank_values=True),
                    {k.lower(): v for k, v in handler.headers.items()}, body,
                    handler.client_address[1])
        with self._lock:
            self.requests.append(seen)
            play = self._play_for(seen)
        try:
            play.run(handler, seen, self._closing)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up: what many tests wait for

    def _play_for(self, seen: Seen) -> Play:
        target = "oauth/token" if seen.path == "/oauth/token" else seen.rel
        for route in self._routes:
            if route.method == seen.method and route.pattern.fullmatch(target) and (
                    route.times is None or route.times > 0):
                if route.times is not None:
                    route.times -= 1
                return route.play(seen) if callable(route.play) else route.play
        if seen.path == "/oauth/token":
            return self._token(seen)
        return json_answer(404, {"statusCode": 404, "message": f"Cannot {seen.method} "
                                 f"{seen.path}", "error": "Not Found"})

    def _token(self, seen: Seen) -> Play:
        if seen.form.get("client_secret") != [CLIENT_SECRET]:
            return json_answer(401, {"statusCode": 401, "message": "invalid client"})
        self.tokens_issued += 1
        return json_answer(200, {"access_token": f"hostile-token-{self.tokens_issued:04d}",
                                 "token_type": "Bearer", "expires_in": 3599})


# --- plays ------------------------------------------------------------------------------------


def _head(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {handler.responses.get(status, ('Unknown',))[0]}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def raw_answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> Play:
    """An answer with exactly this body (and a Content-Length unless `headers` set one)."""
    all_headers = {"Content-Type": "application/json", "Content-Length": str(len(body)),
                   **(headers or {})}

    def run(handler: BaseHTTPRequestHandler, seen: Seen, closing: threading.Event) -> None:
        handler.wfile.write(_head(handler, status, all_headers) + body)

    return Play(run)


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Play:
    return raw_answer(status, json.dumps(body).encode(), headers)


def trickle(body: bytes, every: float, *, headers_too: bool = False) -> Play:
    """A 200 answer sent a byte at a time, `every` seconds apart (the headers too, if asked):
    each read of the client gets something, so only a deadline stops it."""

    def run(handler: BaseHTTPRequestHandler, seen: Seen, closing: threading.Event) -> None:
        head = _head(handler, 200, {"Content-Type": "application/json",
                                    "Content-Length": str(len(body))})
        slow = head + body if headers_too else body
        if not headers_too:
            handler.wfile.write(head)
        for i in range(len(slow)):
            if closing.wait(every) or every * i > MAX_PLAY:
                return
            handler.wfile.write(slow[i : i + 1])

    return Play(run)


def silence() -> Play:
    """Accept the request and never answer (until the client hangs up or the test ends)."""

    def run(handler: BaseHTTPRequestHandler, seen: Seen, closing: threading.Event) -> None:
        handler.close_connection = True
        closing.wait(MAX_PLAY)

    return Play(run)


def endless(chunk: bytes = b" " * 65536, *, declared: int | None = None,
            encoding: str | None = None) -> Play:
    """A 200 answer that never ends (chunked, or with a `declared` Content-Length), until the
    client hangs up: a 50 MB page, a gzip bomb."""

    def run(handler: BaseHTTPRequestHandler, seen: Seen, closing: threading.Event) -> None:
        headers = {"Content-Type": "application/json"}
        if declared is not None:
            headers["Content-Length"] = str(declared)
        else:
            headers["Transfer-Encoding"] = "chunked"
        if encoding:
            headers["Content-Encoding"] = encoding
        handler.close_connection = True
        handler.wfile.write(_head(handler, 200, headers))
        sent = 0
        while not closing.is_set() and sent < 64 * 2**20:
            data = chunk if declared is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk)
            handler.wfile.write(data)
            sent += len(chunk)

    return Play(run)


def gzip_bomb(expanded: int) -> Play:
    """A small gzip body that expands to `expanded` bytes of spaces."""
    packed = gzip.compress(b" " * expanded, compresslevel=9)
    return raw_answer(200, packed, {"Content-Encoding": "gzip"})


def pages(items: list[dict[str, Any]], size: int = 50) -> Callable[[Seen], Play]:
    """An honest list: `size` items a page, the cursor is the offset."""

    def play(seen: Seen) -> Play:
        start = int(seen.query.get("$cursorNext", ["0"])[0])
        body: dict[str, Any] = {"results": items[start : start + size]}
        if start + size < len(items):
            body["cursorNext"] = str(start + size)
        return json_answer(200, body)

    return play


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ids(prefix: str, n: int, start: int = 0) -> Iterator[dict[str, Any]]:
    for i in range(start, start + n):
        yield {"_id": f"{prefix}{i:04d}", "name": f"{prefix} {i}"}
