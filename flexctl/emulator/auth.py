"""OAuth2 client credentials as the Flex identity server issues them, and scope checks.

`POST /oauth/token` (form-encoded) answers `{access_token, token_type, expires_in, scope}`.
A client may only ask for scopes it was granted; asking for any other fails the whole request
(as the real identity server does). Tokens live 3600 s by the emulator's clock; a valid token
without the scope an endpoint needs gets 401, like the real API (never 403), with the same
generic body as a bad token: the platform never says which scope was missing.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flexctl.emulator.clock import Clock
from flexctl.emulator.errors import HttpError, unauthorized

TOKEN_LIFETIME = 3600
EXPIRES_IN = 3599  # what the real endpoint reports


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Token:
    value: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


class Auth:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._clients: dict[str, Client] = {}
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def register_client(self, client_id: str, secret: str, scopes: Iterable[str]) -> None:
        """Accept this client, granted exactly `scopes` (tests use narrower grants)."""
        self._clients[client_id] = Client(client_id, secret, frozenset(scopes))

    def issue(self, form: Mapping[str, str]) -> dict[str, object]:
        """Answer a token request (raises `HttpError` for a bad one)."""
        if form.get("grant_type") != "client_credentials":
            raise HttpError(400, "grant_type must be client_credentials")
        client = self._clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(
            client.secret.encode(), form.get("client_secret", "").encode()
        ):
            raise unauthorized("Invalid client credentials")
        requested = form.get("scope", "").split()
        if not requested:
            scopes = client.scopes  # emulator leniency: no scope asked means every granted one
        else:
            ungranted = [s for s in requested if s not in client.scopes]
            if ungranted:
                raise HttpError(400, f"Invalid scope: {', '.join(ungranted)} not granted to client")
            scopes = frozenset(requested)
        token = Token(
            secrets.token_urlsafe(32),
            client.client_id,
            scopes,
            self.clock.now() + TOKEN_LIFETIME,
        )
        with self._lock:
            self._tokens[token.value] = token
        return {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": EXPIRES_IN,
            "scope": " ".join(sorted(scopes)),
        }

    def authenticate(self, header: str | None) -> Token:
        """The token behind an `Authorization: Bearer` header, or 401."""
        if not header or not header.startswith("Bearer "):
            raise unauthorized()
        with self._lock:
            token = self._tokens.get(header[len("Bearer ") :].strip())
        if token is None or token.expires_at <= self.clock.now():
            raise unauthorized()
        return token

    @staticmethod
    def require(token: Token, scope: str) -> None:
        if scope not in token.scopes:
            raise unauthorized()
