"""One HTTP exchange, bounded, and what its answer says.

`exchange()` sends a request and reads its whole answer by a monotonic deadline that covers
connect, send, the headers and every byte of the body: it is enforced at each socket operation
(`enforce_deadlines` puts it into httpx's connection pools) and again as the body arrives, so a
server trickling a byte a second fails at the deadline instead of never. The body is capped at
`jsonwire.MAX_BODY_BYTES`, gzip included. A failure names the host, never a secret.

`decoded`, `platform_message` and `loggable` read an `Answer`'s body: its JSON (or a located
`MalformedAnswerError`), the message of an error answer, a redacted copy for the debug log.
"""

from __future__ import annotations

import contextvars
import html
import json
import os
import re
import ssl
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Before httpx: it then leaves its command-line tool (and rich) unimported.
from flexctl.platform import no_httpx_cli  # noqa: F401

# isort: split
import httpcore
import httpx

from flexctl.errors import MalformedAnswerError
from flexctl.platform.jsonwire import MAX_BODY_BYTES, MalformedJson, decode_json, decode_page
from flexctl.redaction import clipped, redact, redact_fields, redact_url

_LOG_BODY_LIMIT = 2000
_MESSAGE_LIMIT = 300  # characters of a platform message shown in an error
_MESSAGE_ITEMS = 20  # items of a message list
_HTML_SCAN = 20_000  # bytes of a web page looked at for its words

# The monotonic time by which the request in flight on this thread must be done.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("flexctl_deadline",
                                                                        default=None)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request for `flexctl.platform.direct`, built without httpx's models: `target` is the
    path and query sent to `origin` (scheme, host, port); `url` is the whole of it, for the
    debug log."""

    method: str
    origin: tuple[str, str, int]
    target: str
    url: str
    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True)
class Answer:
    """A whole answer: read within the deadline and the size cap, content-decoded."""

    request: httpx.Request | Prepared
    status: int
    headers: httpx.Headers
    body: bytes
    reason_phrase: str


class NoAnswer(Exception):
    """The exchange failed before a whole answer arrived; `reason` names the host."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out  # waited for the answer in vain (not refused, not reset)


class UnreadableBody(Exception):
    """The answer's body cannot be read: too large, or in an encoding flexctl did not ask for.
    `status` is the answer's status code."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _too_large(status: int) -> UnreadableBody:
    return UnreadableBody(status, f"the body is larger than {MAX_BODY_BYTES // 2**20} MiB; "
                                  "flexctl reads no more")


def origin_of(url: httpx.URL) -> str:
    """`https://identity.officernd.com`: what a network error names (no userinfo or path)."""
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def exchange(client: httpx.Client, request: httpx.Request, *, deadline: float,
             connect: float, read: float, via: object = None) -> Answer:
    """Send `request` and read its whole answer within `deadline` seconds.

    `connect`/`read` are the client's own timeouts, named in the reason of a failure, as is
    `via`, the proxy the request goes through (`netenv.Proxy`). Raises
    `NoAnswer` or `UnreadableBody`.
    """
    started = time.monotonic()
    until = started + deadline
    scope = _DEADLINE.set(until)
    try:
        response = client.send(request, stream=True)
        try:
            body = _read_body(response, until)
        finally:
            response.close()
    except (httpx.TransportError, OSError) as exc:
        # OSError: the in-process emulator raises ConnectionError to simulate a drop.
        late = time.monotonic() >= until - 0.01  # a socket timeout may wake a hair early
        where = origin_of(request.url) + (f" through {via}" if via is not None else "")
        if late:
            reason = f"no complete answer from {where} within {deadline:g} s (FLEXCTL_TIMEOUT)"
        else:
            reason = _reason(exc, where, connect, read)
        timed_out = late or isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout)
        raise NoAnswer(reason, timed_out=timed_out) from exc
    finally:
        _DEADLINE.reset(scope)
    return Answer(request, response.status_code, response.headers, body, response.reason_phrase)


def _reason(exc: Exception, where: str, connect: float, read: float) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection to {where} within {connect:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {where} within {read:g} s (FLEXCTL_TIMEOUT)"
    detail = failure_detail(exc)
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {where}: {detail}"
    return f"the connection to {where} failed: {type(exc).__name__}: {detail}"


# OpenSSL's words for a server that answered the TLS handshake with something else (plain HTTP).
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                      "HTTP_REQUEST", "UNKNOWN_PROTOCOL"})


def failure_detail(exc: BaseException) -> str:
    """What went wrong, in a user's words: the system's reason without its errno, and for TLS
    what it means (a server that does not speak TLS, a certificate not trusted and by which
    store). The exception's chain is searched: httpx wraps the `ssl` error twice."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            store = next((f"{name}={os.environ[name]}" for name in ("SSL_CERT_FILE",
                          "SSL_CERT_DIR") if os.environ.get(name)), None)
            trusted = (f"the certificates in {store}" if store else "certifi's store of public "
                       "authorities; a proxy or server with a private authority needs "
                       "SSL_CERT_FILE naming its certificate")
            return (f"its TLS certificate is not trusted ({cause.verify_message or cause.reason}"
                    f"); flexctl trusts {trusted}")
        if isinstance(cause, ssl.SSLError) and cause.reason in _NOT_TLS:
            return ("the server did not answer in TLS: if it serves plain HTTP, the URL must "
                    "start with http://")
        cause = cause.__cause__ or cause.__context__
    detail = str(exc).strip()
    if detail.startswith("[Errno"):  # "[Errno 111] Connection refused"
        detail = detail.split("]", 1)[-1].strip()
    return detail or type(exc).__name__


def _read_body(response: httpx.Response, until: float) -> bytes:
    if response.is_stream_consumed:  # built in memory (a mock transport): whole and decoded
        if len(response.content) > MAX_BODY_BYTES:
            raise _too_large(response.status_code)
        return response.content
    return collect_body(response.status_code, response.headers, response.iter_raw(), until)


def collect_body(status: int, headers: httpx.Headers, chunks: Iterable[bytes],
                 until: float) -> bytes:
    """The whole body from `chunks` (as they arrive off the socket), within the cap and by
    `until` (raising `httpx.ReadTimeout` when it passes); gzip, the only encoding flexctl asks
    for, is decoded. Raises `UnreadableBody`."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(status)
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip"):  # the only one flexctl asks for (Accept-Encoding)
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    else:
        raise UnreadableBody(status, f"the body is encoded as {encoding!r}, which "
                                     "flexctl did not ask for")
    body = bytearray()
    fed = False  # any compressed byte at all: an empty body is no gzip stream, nor a cut one
    try:
        for raw in chunks:
            fed = fed or bool(raw)
            # Decompressed no further than the cap: a small gzip bomb stays small.
            body += raw if decoder is None else decoder.decompress(
                raw, MAX_BODY_BYTES + 1 - len(body))
            if len(body) > MAX_BODY_BYTES or (decoder is not None and decoder.unconsumed_tail):
                raise _too_large(status)
            if time.monotonic() > until:
                raise httpx.ReadTimeout("the request's deadline has passed")
        if decoder is not None:
            body += decoder.flush()
            if fed and not decoder.eof:
                raise UnreadableBody(status, "the body's gzip stream is cut short")
    except zlib.error as exc:
        raise UnreadableBody(status, f"the body's gzip encoding is broken ({exc})") from None
    if len(body) > MAX_BODY_BYTES:
        raise _too_large(status)
    return bytes(body)


# --- reading an answer -----------------------------------------------------------------------


def _clip(text: str) -> str:
    return clipped(text.strip(), _MESSAGE_LIMIT)


def decoded(method: str, path: str, answer: Answer, *, write: bool = False) -> Any:
    """The parsed JSON of a successful answer; anything else (a proxy's or login page, a body
    too deep or with absurd numbers) is a `MalformedAnswerError`. A write was carried out, so
    its outcome is unknown to the caller (`write`)."""
    try:
        return decode_json(answer.body)
    except MalformedJson as exc:
        raise malformed(method, path, answer, exc, write=write) from None


def decoded_page(path: str, answer: Answer) -> tuple[Any, list[str] | None]:
    """`decoded` for a GET of a list page, with its results' texts (`jsonwire.decode_page`)."""
    try:
        return decode_page(answer.body)
    except MalformedJson as exc:
        raise malformed("GET", path, answer, exc, write=False) from None


def malformed(method: str, path: str, answer: Answer, exc: MalformedJson, *,
              write: bool) -> MalformedAnswerError:
    kind = answer.headers.get("content-type") or "no content type"
    if exc.not_json and is_html(answer):
        message = (f"a web page, not the API's JSON ({_clip(html_text(answer.body))}); check "
                   "that the URL is the Flex API v2's and that no proxy or sign-in page answers")
    elif exc.not_json and "json" not in kind.lower():
        message = f"the answer is not JSON ({kind}); check that the API URL is the Flex API v2"
    else:
        message = f"the answer cannot be used: {exc}"
    return MalformedAnswerError(method, path, answer.status, message, outcome_unknown=write)


def platform_message(answer: Answer) -> str | list[str]:
    """The platform's `message` (a string or a list, as NestJS sends it), else the body's
    text, clipped: an error shows it, never a megabyte of it."""
    try:
        body = decode_json(answer.body)
    except MalformedJson:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("message"), str | list):
        message = body["message"]
        if isinstance(message, list):
            return [_clip(str(m)) for m in message[:_MESSAGE_ITEMS]]
        return _clip(message)
    if is_html(answer):
        return _clip(f"a web page, not the API's JSON: {html_text(answer.body)}")
    text = _clip(answer.body.decode("utf-8", "replace"))
    return text or answer.reason_phrase or "no message"


def is_html(answer: Answer) -> bool:
    """Whether the answer is a web page (a proxy's, a sign-in page, another server's)."""
    if "html" in answer.headers.get("content-type", "").lower():
        return True
    start = answer.body[:64].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def html_text(body: bytes) -> str:
    """A web page's visible words, one line: its title's and body's text, tags dropped."""
    # Redacted before it is cut: a secret cut in two would no longer be recognised.
    page = redact(body.decode("utf-8", "replace"))[:_HTML_SCAN]
    title = re.search(r"<title[^>]*>(.*?)</title", page, re.IGNORECASE | re.DOTALL)
    text = _TAG.sub(" ", _INVISIBLE.sub(" ", page))
    words = " ".join(html.unescape(text).split())
    heading = " ".join(html.unescape(title.group(1)).split()) if title else ""
    if heading and not words.startswith(heading):
        words = f"{heading}: {words}" if words else heading
    return words or "(no text)"


def loggable(content: bytes, headers: httpx.Headers | Mapping[str, str]) -> str:
    """A body for the debug log, with secret-looking fields redacted."""
    kind = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    if "json" in kind:
        try:
            text = json.dumps(redact_fields(decode_json(content)), default=str)
        except MalformedJson:
            text = "(unusable JSON)"
    elif "x-www-form-urlencoded" in kind:
        text = redact_url("?" + content.decode("utf-8", "replace"))[1:]
    else:
        text = f"({len(content)} bytes of {kind or 'unknown type'})"
    return clipped(text, _LOG_BODY_LIMIT)


# --- the deadline at every socket operation ---------------------------------------------------


def _within_deadline(timeout: float | None, expired: type[Exception]) -> float | None:
    until = _DEADLINE.get()
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise expired("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write waits no longer than the request's deadline: a
    per-read timeout alone lets a byte a second (in the headers too) go on for ever."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(
            ssl_context, server_hostname, _within_deadline(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(
            host, port, _within_deadline(timeout, httpcore.ConnectTimeout), local_address,
            socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(
            path, _within_deadline(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def enforce_deadlines(client: httpx.Client) -> int:
    """Put the deadline into every connection pool of `client` (proxies included); returns how
    many. httpx has no public way to do this (a test fails if an upgrade moves these
    attributes); a transport without a pool (the in-process emulator, a mock) has no socket
    to bound, and its body is still read against the deadline."""
    transports = [getattr(client, "_transport", None),
                  *getattr(client, "_mounts", {}).values()]
    done = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend):
            if not isinstance(backend, _DeadlineBackend):
                pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
            done += 1
    return done
