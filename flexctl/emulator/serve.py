"""Serving the emulator over real HTTP: a threaded werkzeug server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from flexctl.emulator.app import Emulator


class _QuietHandler(WSGIRequestHandler):
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
