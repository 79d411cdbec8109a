"""HTTP/1.1 over the standard library's `http.client`, for a session that reaches its hosts
directly: no proxy configured, no in-process transport (the emulator's, a test's mock).

httpx spends about 0.6 ms of CPU on a request (its client's models, httpcore's pool, h11's
parser) and 50-90 ms on each client it builds; a full plan reads about 1,100 pages. This path
costs about 0.15 ms a request, builds an SSL context only for an https host, and keeps every
rule of `wire.exchange`:
- one deadline covers connecting, the TLS handshake, sending, the headers and every byte of the
  body: each socket operation waits no longer than what is left of it (nor than the read
  timeout), so a server trickling a byte a second fails at the deadline, as it does on httpx;
- the body is capped (gzip included) by `wire.collect_body`; redirects are never followed;
- TLS is verified against the trust store httpx uses (certifi's, or `SSL_CERT_FILE` /
  `SSL_CERT_DIR`), with the host name checked;
- a kept-alive connection is reused only while the server has not closed it (an idle socket
  that has become readable is closed and a new one opened); a request takes an idle connection
  to its host, whichever thread left it, and gives it back once it has read the whole answer;
- an answer cut short is an error (never a shorter body); informational answers (1xx) are
  skipped; header values are kept as the bytes they were.
A proxy in the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, or the system's settings
that Python reads) leaves the session on httpx, which goes through it.
"""

from __future__ import annotations

import http.client
import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from flexctl.platform.netenv import trust_context
from flexctl.platform.wire import Answer, NoAnswer, Prepared, collect_body, failure_detail

_CHUNK = 65536
MAX_IDLE = 8  # idle connections kept per host (a plan reads on four threads)
# What a path may hold unescaped (RFC 3986's pchar, "/" and escapes already made): the ids in it
# are escaped by the client; anything else is escaped as httpx would.
_PATH_SAFE = "/%:@!$&'()*+,;="


@dataclass(frozen=True, slots=True)
class Address:
    """Where a URL's requests go on a direct connection: its host (`origin`), the path and
    query they start with (percent-encoded, as sent), and its origin as errors name it."""

    origin: tuple[str, str, int]  # scheme, host, port
    shown: str  # "https://identity.officernd.com"
    host: str  # the Host header, as httpx writes it (no default port)
    path: str
    query: str

    @classmethod
    def of(cls, url: httpx.URL) -> Address:
        scheme, netloc = url.scheme, url.netloc.decode("ascii")
        port = url.port or (443 if scheme == "https" else 80)
        path, _, query = url.raw_path.decode("ascii").partition("?")
        return cls((scheme, url.raw_host.decode("ascii"), port), f"{scheme}://{netloc}",
                   netloc, path, query)

    def prepared(self, method: str, path: str, query: str, content: bytes,
                 headers: dict[str, str]) -> Prepared:
        """The request for `path` below this address, with `query` (encoded) and `headers`."""
        target = self.path + quote(path.lstrip("/"), safe=_PATH_SAFE)
        joined = "&".join(part for part in (self.query, query) if part)
        if joined:
            target += "?" + joined
        return Prepared(method, self.origin, target, self.shown + target,
                        {"Host": self.host, **headers}, content)


class Direct:
    """The connections of one session to its hosts: each request takes an idle one (or opens
    one) and gives it back whole, so any thread reuses what another left; see the module."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._context: ssl.SSLContext | None = None
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def exchange(self, request: Prepared, *, deadline: float, connect: float,
                 read: float) -> Answer:
        """Send `request` and read its whole answer within `deadline` seconds (see
        `wire.exchange`). Raises `NoAnswer` or `UnreadableBody`."""
        started = time.monotonic()
        until = started + deadline
        conn = self._checkout(request.origin, connect, read)
        conn.until = until
        connecting = conn.sock is None
        response: http.client.HTTPResponse | None = None
        whole = False
        try:
            if connecting:
                conn.connect()
                connecting = False
            conn.request(request.method, request.target, body=request.content or None,
                         headers=request.headers)
            response = conn.getresponse()
            # As bytes: a header's value may hold any byte (http.client read them as latin-1).
            headers = httpx.Headers([(name.encode("latin-1"), value.encode("latin-1"))
                                     for name, value in response.getheaders()])
            body = collect_body(response.status, headers, _chunks(response), until)
            whole = not response.will_close
        except (OSError, http.client.HTTPException, httpx.TransportError, ValueError) as exc:
            # ValueError: http.client refuses a header or target it cannot send.
            late = time.monotonic() >= until - 0.01  # a socket timeout may wake a hair early
            where = request.url[:len(request.url) - len(request.target)]
            if late:
                reason = f"no complete answer from {where} within {deadline:g} s (FLEXCTL_TIMEOUT)"
            else:
                reason = _reason(exc, where, connect, read, connecting=connecting)
            waited = isinstance(exc, TimeoutError | httpx.TimeoutException)
            timed_out = late or (waited and not connecting)
            raise NoAnswer(reason, timed_out=timed_out) from exc
        finally:
            if response is not None:
                response.close()  # lets go of the socket (closed with its connection's close)
            if whole:
                self._checkin(request.origin, conn)
            else:
                conn.close()
        return Answer(request, response.status, headers, body, response.reason)

    # -- connections ---------------------------------------------------------------------------

    def _checkout(self, origin: tuple[str, str, int], connect: float,
                  read: float) -> _Connection:
        while True:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the session's connections are closed")
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
            if conn is None:
                break
            if conn.idle():
                conn.set_timeouts(connect, read)
                return conn
            conn.close()  # the server closed it (or wrote out of turn)
        scheme, host, port = origin
        context = self._ssl_context() if scheme == "https" else None
        return _Connection(host, port, connect=connect, read=read, context=context)

    def _checkin(self, origin: tuple[str, str, int], conn: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if not self._closed and len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        conn.close()

    def _ssl_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                # httpx's store: certifi's unless SSL_CERT_FILE / SSL_CERT_DIR name one.
                self._context = trust_context()
            return self._context


def _reason(exc: BaseException, where: str, connect: float, read: float, *,
            connecting: bool) -> str:
    if isinstance(exc, TimeoutError):
        if connecting:
            return f"no connection to {where} within {connect:g} s"
        return f"no answer from {where} within {read:g} s (FLEXCTL_TIMEOUT)"
    detail = failure_detail(exc)
    if connecting:
        return f"cannot connect to {where}: {detail}"
    return f"the connection to {where} failed: {type(exc).__name__}: {detail}"


def _chunks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    while True:
        chunk = response.read(_CHUNK)
        if not chunk:
            if response.length:  # http.client ends a body cut short without a word
                raise http.client.IncompleteRead(b"", response.length)
            return
        yield chunk


class _Response(http.client.HTTPResponse):
    """An answer read as `http.client` reads one, with its own `begin`: the status line by
    http.client's parser, informational answers (100, 102, 103 Early Hints) skipped and an
    unrequested 101 refused; the headers by a plain loop instead of the email package's parser
    (a fifth of this stack's CPU), as many as fit in httpx's 100 KiB; framing as strict as
    httpx's: a Transfer-Encoding other than chunked, an invalid or disagreeing Content-Length,
    or headers cut short are errors, not a body read until the connection closes."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:
            # A private method, but the one place http.client reads a status line: the tests of
            # informational answers fail if a new Python moves it.
            version, status, reason = self._read_status()
            if status == 101:
                raise http.client.HTTPException("an unrequested 101 Switching Protocols")
            if not 100 <= status < 200:
                break
            _header_lines(self.fp)  # an informational answer's, skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        headers = http.client.HTTPMessage()
        for name, value in _header_lines(self.fp):
            headers[name] = value
        self.headers = self.msg = headers
        coding = headers.get("transfer-encoding")
        self.chunked = coding is not None
        self.chunk_left = None
        if coding is not None and coding.strip().lower() != "chunked":
            raise http.client.HTTPException(f"Transfer-Encoding {coding!r} is not chunked")
        self.will_close = self._check_close()
        self.length = None
        lengths = {part.strip() for value in headers.get_all("content-length") or ()
                   for part in value.split(",")}  # "26, 26": one length, said twice
        if lengths and not self.chunked:  # a chunked body's Content-Length is ignored (RFC)
            if len(lengths) > 1 or not next(iter(lengths)).isdigit():
                raise http.client.HTTPException(f"Content-Length {sorted(lengths)!r}")
            self.length = int(next(iter(lengths)))
        if status in (204, 304) or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # the body ends when the connection does


def _header_lines(fp: Any) -> list[tuple[str, str]]:
    """The header lines up to the blank one, as (name, value), within httpx's limit (100 KiB of
    headers); a folded line (obs-fold) continues the one before it."""
    lines: list[tuple[str, str]] = []
    size = 0
    while True:
        line = fp.readline(_MAX_HEADER_BYTES + 1)
        size += len(line)
        if size > _MAX_HEADER_BYTES:
            raise http.client.HTTPException(
                f"the headers are larger than {_MAX_HEADER_BYTES // 1024} KiB")
        if line in (b"\r\n", b"\n"):
            return lines
        if not line.endswith(b"\n"):
            raise http.client.RemoteDisconnected("the answer ends within its headers")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in _BLANK and text and lines:
            name, value = lines[-1]
            lines[-1] = (name, value + " " + text.strip(_BLANK))
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or name.strip() != name:
            raise http.client.HTTPException(f"a header line is not 'name: value': {text[:60]!r}")
        lines.append((name, value.strip(_BLANK)))


_MAX_HEADER_BYTES = 100 * 1024  # an answer's header section at most, as httpx reads one
_BLANK = " \t"


class _Connection(http.client.HTTPConnection):
    """One connection whose socket operations are bounded by `until` (set per exchange)."""

    response_class = _Response

    def __init__(self, host: str, port: int, *, connect: float, read: float,
                 context: ssl.SSLContext | None) -> None:
        super().__init__(host, port)
        self.until = 0.0
        self._context = context
        self.set_timeouts(connect, read)

    def set_timeouts(self, connect: float, read: float) -> None:
        self._connect_timeout = connect
        self._read_timeout = read

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port),
                                        _left(self.until, self._connect_timeout))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._context is not None:
                sock.settimeout(_left(self.until, self._connect_timeout))
                sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = _Bounded(sock, self)

    def idle(self) -> bool:
        """Whether the kept socket is still quiet: one that is readable while no request is
        out has been closed by the server (or holds bytes nobody asked for)."""
        bounded = self.sock
        assert isinstance(bounded, _Bounded)
        raw = bounded.raw
        if isinstance(raw, ssl.SSLSocket) and raw.pending():
            return False
        try:
            if hasattr(select, "poll"):  # any descriptor number, where the system has it
                poller = select.poll()
                poller.register(raw, select.POLLIN)
                return not poller.poll(0)
            return not select.select([raw], [], [], 0)[0]
        except (OSError, ValueError):
            return False


def _left(until: float, timeout: float) -> float:
    """How long the next socket operation may wait: the timeout, or what is left of the
    deadline if less; TimeoutError once it has passed."""
    left = until - time.monotonic()
    if left <= 0:
        raise TimeoutError("the request's deadline has passed")
    return min(timeout, left)


class _Bounded:
    """A connected socket as `http.client` uses it (sendall, makefile, close), each read and
    send bounded by the connection's deadline. As Python's own socket does, it closes only
    once its readers are done: http.client closes the connection of an answer that ends it
    before reading that answer's body."""

    def __init__(self, raw: socket.socket, conn: _Connection) -> None:
        self.raw = raw
        self._conn = conn
        self._readers = 0
        self._closing = False

    def _bound(self) -> None:
        self.raw.settimeout(_left(self._conn.until, self._conn._read_timeout))

    def sendall(self, data: Any) -> None:
        self._bound()
        self.raw.sendall(data)

    def recv_into(self, buffer: Any) -> int:
        self._bound()
        return self.raw.recv_into(buffer)

    def makefile(self, mode: str) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_Reader(self))

    def released(self) -> None:
        self._readers -= 1
        if self._closing and self._readers <= 0:
            self.raw.close()

    def close(self) -> None:
        self._closing = True
        if self._readers <= 0:
            self.raw.close()


class _Reader(io.RawIOBase):
    def __init__(self, bounded: _Bounded) -> None:
        super().__init__()
        self._bounded = bounded

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._bounded.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._bounded.released()
        super().close()
