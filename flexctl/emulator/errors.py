"""Errors the emulator answers with, in the NestJS shape the real v2 API uses.

`HttpError` is raised anywhere inside a request and becomes
`{statusCode, message, error, timestamp, path}`. `EmulatorDroppedConnection` is how an injected
"drop" fault reaches an in-process client: it is an `httpx.RemoteProtocolError` (what httpx
raises when a real server closes the socket without answering) and a `ConnectionError` (what
werkzeug's server treats as a dropped connection, sending nothing).
"""

from __future__ import annotations

import httpx

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class HttpError(Exception):
    """An error response: status, NestJS `message` (string or list) and extra headers."""

    def __init__(
        self,
        status: int,
        message: str | list[str],
        headers: dict[str, str] | None = None,
        *,
        plain: bool = False,  # the message as a text/plain body, not the NestJS JSON
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.plain = plain

    def body(self, path: str, timestamp: str) -> dict[str, object]:
        body: dict[str, object] = {"statusCode": self.status, "message": self.message}
        if self.status in REASONS:
            body["error"] = REASONS[self.status]
        body["timestamp"] = timestamp
        body["path"] = path
        return body


def cannot(method: str, path: str) -> HttpError:
    """NestJS's answer for a route that does not exist (or lacks this method)."""
    return HttpError(404, f"Cannot {method} {path}")


def bad_request(*messages: str) -> HttpError:
    return HttpError(400, list(messages))


def unauthorized(message: str = "Unauthorized access") -> HttpError:
    return HttpError(401, message)


def not_found(item_id: str) -> HttpError:
    return HttpError(404, f"Item with Id ({item_id})")


def server_error(message: str) -> HttpError:
    return HttpError(500, message)


class EmulatorDroppedConnection(httpx.RemoteProtocolError, ConnectionError):
    """The emulator committed a write and then dropped the connection (an injected fault)."""

    def __init__(self, message: str = "Server disconnected without sending a response.") -> None:
        super().__init__(message)
