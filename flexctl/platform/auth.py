"""OAuth2 client credentials for the Flex API, and redaction of what must never be logged.

Tokens live an hour and there is no refresh token, so a token is cached and a new one requested
shortly before it expires, and once when the API answers 401 to a cached token. The scopes
asked for and the scope each request needs are in `flexctl.platform.scopes`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from flexctl.errors import AuthError

# --- redaction --------------------------------------------------------------------------------

REDACTED = "(redacted)"
_SECRET_KEY = re.compile(r"secret|token|password|authorization|api[-_]?key|cookie", re.I)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-looking field's value replaced."""
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_url(url: str) -> str:
    """The URL with secret-looking query parameters and any userinfo removed."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [(k, REDACTED if is_secret_key(k) else v) for k, v in parse_qsl(parts.query, True)],
        safe="$,[]:()",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: REDACTED if is_secret_key(k) else v for k, v in headers}


# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float  # on the auth's clock


# A token is renewed this long before it runs out, so a request never carries a token that
# expires in flight; short-lived tokens (tests) are renewed at half their lifetime.
REFRESH_MARGIN = 60.0


class ClientCredentialsAuth(httpx.Auth):
    """Bearer auth with a cached client-credentials token, shared by all threads.

    `fetch()` performs the token request and returns the parsed JSON body
    (`{access_token, expires_in, ...}`); it raises `AuthError`/`TransportError` itself.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()

    def token(self, *, stale: str | None = None) -> tuple[str, bool]:
        """A valid token, and whether it was fetched by this call.

        `stale` is a token the API just rejected: it is replaced unless another thread
        already replaced it.
        """
        with self._lock:
            current = self._token
            usable = current is not None and current.value != stale
            if current is not None and usable and self._clock() < current.expires_at:
                return current.value, False
            self._token = self._new_token()
            return self._token.value, True

    def _new_token(self) -> Token:
        body = self._fetch()
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError("POST", "/oauth/token", 200, "the token response has no access_token")
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            raise AuthError("POST", "/oauth/token", 200,
                            "the token response has an invalid expires_in") from None
        margin = min(REFRESH_MARGIN, lifetime / 2)
        return Token(value=value, expires_at=self._clock() + lifetime - margin)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token, fresh = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and not fresh:
            # The cached token may have been revoked or expired early: renew it once. A 401
            # to a token fetched just now is a missing scope, and a new token will not help.
            token, _ = self.token(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
