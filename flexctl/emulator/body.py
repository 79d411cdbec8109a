"""Request bodies as the platform reads them: Express's JSON parser in front of NestJS.

Only a JSON content type is parsed; any other body is left unread, so the endpoint sees an
empty body (a POST then fails validation with 400, as on the platform). Bad JSON is a 400
naming the position.
"""

from __future__ import annotations

from typing import Any

from flexctl.emulator import jsonutil
from flexctl.emulator.errors import HttpError, bad_request


def is_json(mimetype: str) -> bool:
    """Whether Express's `json()` parser reads a body of this type."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def parse_body(data: bytes, *, json_type: bool = True) -> dict[str, Any]:
    """The request body as an object (`{}` when empty or not of a JSON type)."""
    if not json_type or not data.strip():
        return {}
    try:
        body = jsonutil.loads(data)
    except UnicodeDecodeError:
        raise bad_request("Request body is not valid UTF-8") from None
    except ValueError as exc:
        position = getattr(exc, "pos", 0)
        raise HttpError(400, f"Unexpected token in JSON at position {position}") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be an object")
    return body
