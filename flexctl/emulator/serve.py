"""Serving the emulator over real HTTP: a threaded werkzeug server on loopback.

Connections are kept alive between requests (HTTP/1.1), as the platform keeps them: a client
pays for one connection per thread, not one per request. werkzeug's own request runner closes
every connection (the application may leave part of a request's body unread, which the next
request would then start in), so a request whose body has a `Content-Length` of at most
`KEEP_ALIVE_BODY` bytes is run here instead: its whole body is read before the application
runs, and its answer is sent with a `Content-Length`. Any other request (chunked, larger, or
one that asks to close) goes through werkzeug's runner and closes its connection, as before.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from flexctl.emulator.app import Emulator

# The largest request body read ahead so its connection can be kept alive (the platform's
# request bodies are a few KiB).
KEEP_ALIVE_BODY = 1024 * 1024


class _QuietHandler(WSGIRequestHandler):
    # An answer's headers and body go out in two writes: on a kept-alive connection Nagle's
    # algorithm would hold the body until the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if (self.close_connection or "Transfer-Encoding" in self.headers
                or not length.isdigit() or int(length) > KEEP_ALIVE_BODY):
            super().run_wsgi()  # answers with "Connection: close"
            return
        body = self.rfile.read(int(length)) if int(length) else b""
        if len(body) < int(length):  # the client went away mid-body
            self.close_connection = True
            return
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        self.environ = environ
        try:
            status, headers, content = _run(self.server.app, environ)
        except (ConnectionError, TimeoutError) as exc:  # the emulator dropped the connection
            self.close_connection = True
            self.connection_dropped(exc, environ)
            return
        except Exception:
            if self.server.passthrough_errors:
                raise
            self.close_connection = True
            self.server.log("exception", "Error on request")  # as werkzeug's runner
            status, headers, content = _run(InternalServerError(), environ)
        code, _, message = status.partition(" ")
        self.send_response(int(code), message)
        for key, value in headers:
            self.send_header(key, value)
        if int(code) not in (204, 304) and not any(k.lower() == "content-length"
                                                   for k, _ in headers):
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        self.wfile.flush()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None  # per-request access logs would drown test output

    def send_response(self, code: int, message: str | None = None) -> None:
        # As the standard handler, but without its own `Date`: the emulator sends one by its
        # clock, which tests may move; two would disagree.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


def build_server(app: Emulator, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded server for `app` (port 0 picks a free port: see `server.server_port`).

    Raises OSError when HOST:PORT cannot be bound (werkzeug would print and exit instead).
    """
    _check_bindable(host, port)
    return make_server(host, port, app, threaded=True, request_handler=_QuietHandler)


def _run(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """The status, headers and whole body of `app`'s answer to `environ`."""
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                       ) -> Any:
        started[:] = [status, headers]
        return written.append

    answer = app(environ, start_response)
    try:
        written.extend(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()
    return started[0], started[1], b"".join(written)


def _check_bindable(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        probe.bind((host, port))


def base_url(server: BaseWSGIServer) -> str:
    host = str(server.host)
    return f"http://{host}:{server.server_port}"


@contextmanager
def serve_background(app: Emulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` in a background thread; yields "http://HOST:PORT"; stops on exit."""
    server = build_server(app, host, port)
    # A short poll interval makes shutdown quick (tests start a server per test).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="flex-emulator",
        daemon=True,
    )
    thread.start()
    try:
        yield base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
