"""OAuth2 client credentials for the Flex API.

Tokens live an hour and there is no refresh token, so a token is cached and a new one requested
shortly before it expires, and once when the API answers 401 to a cached token. The scopes
asked for and the scope each request needs are in `flexctl.platform.scopes`; redaction of what
must never be shown is in `flexctl.redaction`.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flexctl import redaction
from flexctl.errors import AuthError, FlexctlError

# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float  # on the auth's clock


# A token is renewed this long before it runs out, so a request never carries a token that
# expires in flight; short-lived tokens (tests) are renewed at half their lifetime.
REFRESH_MARGIN = 60.0
# A failed token request is not repeated for this long: the reads running beside it, and the
# changes of an apply that follow, fail with its error at once instead of each trying again.
FAILURE_MEMORY = 30.0
# A token's lifetime when the answer omits it, and the longest believed (a day).
DEFAULT_LIFETIME, MAX_LIFETIME = 3600.0, 86400.0
# A bearer token as RFC 6750 writes one (b64token): nothing that could break a header line.
_BEARER = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class ClientCredentialsAuth:
    """A cached client-credentials token, shared by all threads.

    `fetch()` performs the token request (with its own retries) and returns the parsed JSON
    body (`{access_token, expires_in, ...}`); it raises `AuthError`/`TransportError` itself.
    `where` names the token request in errors ("POST /oauth/token").
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        clock: Callable[[], float] = time.monotonic,
        where: str = "/oauth/token",
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._where = where
        self._token: Token | None = None
        self.granted: frozenset[str] | None = None  # the token answer's `scope`, if it has one
        self._failure: FlexctlError | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()

    def token(self, *, stale: str | None = None) -> tuple[str, bool]:
        """A valid token, and whether it was fetched by this call.

        `stale` is a token the API just rejected: it is replaced unless another thread
        already replaced it. Raises the error of a token request that failed less than
        `FAILURE_MEMORY` seconds ago without asking again.
        """
        with self._lock:
            current = self._token
            usable = current is not None and current.value != stale
            if current is not None and usable and self._clock() < current.expires_at:
                return current.value, False
            if self._failure is not None and self._clock() - self._failed_at < FAILURE_MEMORY:
                raise self._failure.with_traceback(None)
            try:
                self._token = self._new_token()
            except FlexctlError as exc:
                self._failure, self._failed_at = exc, self._clock()
                raise
            self._failure = None
            return self._token.value, True

    def _new_token(self) -> Token:
        body = self._fetch()
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError("POST", self._where, 200, "the token response has no access_token")
        redaction.register(value)
        if not _BEARER.fullmatch(value):  # it goes into a header line, as written
            raise AuthError("POST", self._where, 200,
                            "the token response's access_token is not a bearer token: only "
                            "letters, digits and -._~+/ then = may be sent (RFC 6750)")
        raw = body.get("expires_in") or DEFAULT_LIFETIME
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            seconds = math.nan
        if isinstance(raw, bool) or not seconds > 0:  # NaN too: it would renew on every request
            raise AuthError("POST", self._where, 200,
                            "the token response has an invalid expires_in")
        seconds = min(seconds, MAX_LIFETIME)
        margin = min(REFRESH_MARGIN, seconds / 2)
        scope = body.get("scope")
        self.granted = frozenset(scope.split()) if isinstance(scope, str) else None
        return Token(value=value, expires_at=self._clock() + seconds - margin)
