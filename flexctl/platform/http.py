"""The HTTP layer under `FlexClient`: one httpx client, auth, pacing, retries, errors, logging.

This module and `auth.py` are the only ones that import httpx. `HttpSession.send()` takes a
method, a path relative to the organization and a JSON body, and returns the parsed JSON answer
(decimals as `Decimal`) or raises a `flexctl.errors` error.

Retries (stamina counts the attempts; the waits go through an injectable `sleep`):
- GET and the token request: 429, any 5xx and transport errors;
- PUT and DELETE: 429, 502/503/504 and transport errors (a 500 is usually a business rule and
  permanent); a DELETE answered 404 after such a retry was done by the earlier attempt;
- POST: only 429 (rejected before anything was written). A POST answered 5xx or lost in transit
  raises with `outcome_unknown=True`: the platform has no idempotency keys, so the caller
  settles it by looking the object up by natural key, never by sending it again.
A `Retry-After` header (on a 429 or a 5xx) sets the wait; otherwise the wait grows
exponentially with jitter.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import stamina

from flexctl import __version__
from flexctl.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from flexctl.platform.auth import (
    ClientCredentialsAuth,
    redact,
    redact_headers,
    redact_url,
)
from flexctl.platform.jsonwire import decode_json, encode_json
from flexctl.platform.pacing import Pacer
from flexctl.platform.scopes import scope_for

log = logging.getLogger("flexctl.http")
# stamina reports each scheduled retry at WARNING on the "stamina" logger; without a handler
# Python would print that bare line to stderr. flexctl logs its retries itself (flexctl.http);
# with --debug the root handler still shows stamina's records.
logging.getLogger("stamina").addHandler(logging.NullHandler())

USER_AGENT = f"flexctl/{__version__}"
PROFILE_HEADER = "x-flex-emulator-profile"
_LOG_BODY_LIMIT = 2000


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 60.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.read,
                             pool=self.connect)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # per request, including the first
    backoff: float = 0.5  # first wait in seconds; doubles per attempt, plus up to this in jitter
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0  # a longer Retry-After is waited this long, then re-tried


DEFAULT_TIMEOUTS = Timeouts()
READ_TIMEOUT_ATTEMPTS = 2  # a request that timed out waiting for its answer is tried once more
LOUD_WAIT = 5.0  # seconds: a retry wait at least this long is logged as a warning
DEFAULT_RETRY = RetryPolicy()


@dataclass
class RequestStats:
    """Requests sent to the API (every attempt counts), and token requests."""

    requests: int = 0
    reads: int = 0
    writes: int = 0
    retries: int = 0
    token_requests: int = 0


# --- errors -----------------------------------------------------------------------------------


class _Retryable(Exception):
    """One attempt failed in a way worth retrying; `error` is raised when attempts run out."""

    def __init__(self, error: ApiError | TransportError, delay: float) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


def _answer(method: str, path: str, response: httpx.Response, *, write: bool = False) -> Any:
    """The parsed JSON of a successful answer; anything else (a proxy's or login page) is an
    `ApiError`. A write was carried out, so its outcome is unknown to the caller."""
    try:
        return decode_json(response.content)
    except ValueError:
        kind = response.headers.get("content-type") or "no content type"
        raise ApiError(
            method, path, response.status_code,
            f"the answer is not JSON ({kind}); check that the API URL is the Flex API v2",
            outcome_unknown=write,
        ) from None


def _platform_message(response: httpx.Response) -> str | list[str]:
    try:
        body = decode_json(response.content)
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("message"), str | list):
        message = body["message"]
        return [str(m) for m in message] if isinstance(message, list) else message
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase or "no message"


def api_error(
    method: str, path: str, response: httpx.Response, *, outcome_unknown: bool = False
) -> ApiError:
    """The `flexctl.errors` error for an error answer; a 401 names the scope it needed."""
    status = response.status_code
    message = _platform_message(response)
    if status == 401:
        scope = scope_for(method, path)
        hint = (
            f"the token may lack the scope {scope}: grant it to the application in OfficeRnD "
            "(Settings > Data & Extensibility > Developer Tools > Applications)"
            if scope
            else "the credentials were not accepted"
        )
        return AuthError(method, path, status, message, hint)
    cls: type[ApiError] = {400: ValidationError, 404: NotFoundError, 429: RateLimitedError}.get(
        status, ServerError if status >= 500 else ApiError
    )
    return cls(method, path, status, message, outcome_unknown=outcome_unknown)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retries_status(method: str, status: int) -> bool:
    if status == 429:
        return True
    if method == "GET":
        return status >= 500
    if method in ("PUT", "DELETE"):
        return status in (502, 503, 504)
    return False


# --- the session ------------------------------------------------------------------------------


class HttpSession:
    """An authenticated, paced, retrying connection to one organization's API."""

    def __init__(
        self,
        *,
        org_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        scopes: Sequence[str],
        fallback_scopes: Sequence[str] | None = None,
        transport: httpx.BaseTransport | None = None,
        wsgi_app: Any = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_RETRY,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if wsgi_app is not None:
            transport = httpx.WSGITransport(app=wsgi_app)
        self._token_url = token_url
        self._token_form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": " ".join(scopes),
        }
        self.scopes = tuple(scopes)
        self._fallback_scopes = tuple(fallback_scopes) if fallback_scopes else None
        self._retry = retry
        self._pacer = pacer or Pacer.from_settings(sleep=sleep)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.stats = RequestStats()
        self.announced_profile: str | None = None
        common: dict[str, Any] = {
            "transport": transport,
            "timeout": timeouts.httpx(),
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
            "verify": True,  # TLS verification is never switched off
            "follow_redirects": False,
        }
        self.auth = ClientCredentialsAuth(self._fetch_token, clock=clock)
        base = org_url if org_url.endswith("/") else org_url + "/"
        self._client = httpx.Client(base_url=base, auth=self.auth,
                                    event_hooks={"request": [self._count]}, **common)
        self._token_client = httpx.Client(**common)
        self.base_path = self._client.base_url.path  # "/api/v2/organizations/acme/"

    def close(self) -> None:
        self._client.close()
        self._token_client.close()

    def path_of(self, path: str) -> str:
        """The full API path, as errors show it (no host, no query)."""
        return self.base_path + path.lstrip("/")

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        """Send one API request (retried per the module rules); return the parsed answer."""
        content = encode_json(body) if body is not None else None

        def call() -> httpx.Response:
            self._pacer.acquire(method)
            headers = {"Content-Type": "application/json"} if content is not None else None
            return self._client.request(method, path, params=params, content=content,
                                        headers=headers)

        response = self._with_retries(method, self.path_of(path), call, token=False)
        return _answer(method, self.path_of(path), response, write=method != "GET")

    # -- internals --

    def _count(self, request: httpx.Request) -> None:
        with self._lock:
            self.stats.requests += 1
            if request.method == "GET":
                self.stats.reads += 1
            else:
                self.stats.writes += 1

    def _fetch_token(self) -> Mapping[str, Any]:
        try:
            return self._request_token()
        except AuthError as exc:
            # A server of unknown kind was asked for every scope the emulator's `full` profile
            # has; one that grants fewer (the real platform's set) fails the whole request.
            if exc.status != 400 or not self._fallback_scopes:
                raise
            log.info("token request refused (%s); asking for the public API's scopes", exc)
            self.scopes, self._fallback_scopes = self._fallback_scopes, None
            self._token_form = {**self._token_form, "scope": " ".join(self.scopes)}
            return self._request_token()

    def _request_token(self) -> Mapping[str, Any]:
        def call() -> httpx.Response:
            return self._token_client.post(self._token_url, data=self._token_form)

        path = httpx.URL(self._token_url).path
        with self._lock:
            self.stats.token_requests += 1
        response = self._with_retries("POST", path, call, token=True)
        body = _answer("POST", path, response)
        if not isinstance(body, Mapping):
            raise AuthError("POST", path, response.status_code, "the token response is not JSON")
        return body

    def _with_retries(
        self, method: str, path: str, call: Callable[[], httpx.Response], *, token: bool
    ) -> httpx.Response:
        delay = 0.0
        maybe_done = False  # an earlier attempt may have been carried out by the platform
        try:
            for attempt in stamina.retry_context(
                on=_Retryable, attempts=self._retry.attempts, timeout=None,
                wait_initial=0.0, wait_max=0.0, wait_jitter=0.0,
            ):
                with attempt:
                    if attempt.num > 1:
                        with self._lock:
                            self.stats.retries += 1
                        self._sleep(delay)
                    try:
                        return self._attempt(method, path, call, attempt.num, token=token,
                                             maybe_done=maybe_done)
                    except _Retryable as exc:
                        delay = exc.delay
                        maybe_done = maybe_done or isinstance(exc.error, TransportError) or (
                            exc.error.status >= 500
                        )
                        if attempt.num < self._retry.attempts:
                            # A long wait is shown without --debug, so a run never sits silent.
                            level = logging.WARNING if delay >= LOUD_WAIT else logging.INFO
                            log.log(level, "retrying %s %s in %.0fs: %s", method, path, delay,
                                    exc.error)
                        raise
        except _Retryable as exc:
            raise exc.error from None
        raise AssertionError("unreachable: stamina re-raises the last failure")

    def _attempt(
        self,
        method: str,
        path: str,
        call: Callable[[], httpx.Response],
        num: int,
        *,
        token: bool,
        maybe_done: bool,
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = call()
        except (httpx.TransportError, OSError) as exc:
            # OSError: the in-process emulator raises ConnectionError to simulate a drop.
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.debug("%s %s -> %s (%.0f ms)", method, path, reason,
                      (time.perf_counter() - started) * 1000)
            lost = TransportError(method, path, reason,
                                  outcome_unknown=method != "GET" and not token)
            if isinstance(exc, httpx.ReadTimeout) and num >= READ_TIMEOUT_ATTEMPTS:
                # A server that accepts but never answers: waiting out every attempt would
                # leave the user staring at nothing for many minutes.
                raise lost from exc
            if token or method != "POST":
                raise _Retryable(lost, self._backoff(num)) from exc
            raise lost from exc
        self._log(method, response, started)
        self._observe(response)
        status = response.status_code
        if 300 <= status < 400:
            # Never followed: the request (and its token) must go only where the user said.
            where = response.headers.get("location") or "an unnamed location"
            raise ApiError(method, path, status,
                           f"redirected to {redact_url(where)}; use the final URL as --api-url "
                           "or --token-url")
        if status < 400:
            return response
        if status == 404 and method == "DELETE" and maybe_done:
            log.info("DELETE %s: 404 after a retry; the earlier attempt deleted it", path)
            return response
        if token and status < 500 and status != 429:
            raise self._token_error(path, response)
        unknown = method == "POST" and not token and status >= 500
        error = api_error(method, path, response, outcome_unknown=unknown)
        # The token request is retried like a read: it changes nothing on the platform.
        if _retries_status("GET" if token else method, status):
            wait = _retry_after(response)  # 429, or a 503 during maintenance
            delay = min(wait, self._retry.retry_after_cap) if wait is not None else None
            raise _Retryable(error, self._backoff(num) if delay is None else delay)
        raise error

    def _token_error(self, path: str, response: httpx.Response) -> AuthError:
        if response.status_code in (404, 405):
            hint = (f"{self._token_url} is not a token endpoint; check --token-url "
                    "(FLEXCTL_TOKEN_URL)")
        else:
            hint = (
                "check FLEXCTL_CLIENT_ID and FLEXCTL_CLIENT_SECRET, and that the application "
                f"is granted every requested scope ({' '.join(self.scopes)}); "
                "FLEXCTL_SCOPES narrows the request"
            )
        return AuthError("POST", path, response.status_code, _platform_message(response), hint)

    def _backoff(self, num: int) -> float:
        base = self._retry.backoff * 2.0 ** (num - 1)
        return min(self._retry.backoff_cap, base) + self._rng.uniform(0, self._retry.backoff)

    def _observe(self, response: httpx.Response) -> None:
        profile = response.headers.get(PROFILE_HEADER)
        if profile and self.announced_profile is None:
            self.announced_profile = profile

    def _log(self, method: str, response: httpx.Response, started: float) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        request = response.request
        log.debug("%s %s -> %d (%.0f ms)", method, redact_url(str(request.url)),
                  response.status_code, (time.perf_counter() - started) * 1000)
        log.debug("  request headers: %s", redact_headers(request.headers.items()))
        if request.content:
            log.debug("  request body: %s", _loggable(request.content, request.headers))
        if response.status_code >= 400:
            log.debug("  response body: %s", _loggable(response.content, response.headers))


def _loggable(content: bytes, headers: httpx.Headers) -> str:
    """A body for the debug log, with secret-looking fields redacted."""
    kind = headers.get("content-type", "")
    if "json" in kind:
        try:
            text = json.dumps(redact(decode_json(content)), default=str)
        except ValueError:
            text = "(unparseable JSON)"
    elif "x-www-form-urlencoded" in kind:
        text = redact_url("?" + content.decode("utf-8", "replace"))[1:]
    else:
        text = f"({len(content)} bytes of {kind or 'unknown type'})"
    return text if len(text) <= _LOG_BODY_LIMIT else text[:_LOG_BODY_LIMIT] + "…"
