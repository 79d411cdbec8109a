"""The HTTP layer under `FlexClient`: auth, pacing, retries, errors, logging, over one of two
stacks: Python's `http.client` (`direct.py`) on real sockets where no proxy is configured, else
httpx (`wire.exchange`: a proxy, `FLEXCTL_HTTP=httpx`, an in-process transport).

This module, `wire.py` (one exchange within a deadline and a size cap) and `direct.py` are the
only ones that import httpx. `HttpSession.send()` takes a method, a path relative to the
organization and a JSON body, and returns the parsed JSON answer (decimals as `Decimal`) or
raises a `flexctl.errors` error.

Time is bounded at two levels (`Timeouts`): one request has a deadline covering connect, send
and every byte of the answer (see `wire.py`); one logical request (its attempts and the waits
between them) has a retry budget: a retry whose wait would overrun it is not made, and a
`Retry-After` beyond it fails at once, saying so.

Retries (stamina counts the attempts; the waits go through an injectable `sleep`):
- GET and the token request: 429, any 5xx but a business rule's 500 (`Organization not
  found`: `PERMANENT`), and transport errors;
- PUT, PATCH and DELETE: 429, 502/503/504 and transport errors (a 500 is usually a business
  rule and permanent); a DELETE answered 404 after such a retry was done by the earlier attempt;
- POST: only 429 (rejected before anything was written). A POST answered 5xx or lost in transit
  raises with `outcome_unknown=True`: the platform has no idempotency keys, so the caller
  settles it by looking the object up by natural key, never by sending it again. A 500 whose
  message is one of the platform's validations (`Path 'name' is required.`, a cast error,
  `Specified plan was not found`: `PERMANENT`) wrote nothing and is not "unknown".
A request that timed out is tried twice at most. A `Retry-After` header (on a 429 or a 5xx) sets
the wait; otherwise the wait grows exponentially with jitter.

The token is fetched before a request's attempt, by the token's own retry loop (two attempts):
a request never retries a failed token fetch, and `ClientCredentialsAuth` shares one failure
with every thread waiting for the token, so an unreachable identity server costs two token
requests, not two per read per thread.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

# Before httpx: it then leaves its command-line tool (and rich) unimported.
from flexctl.platform import no_httpx_cli  # noqa: F401
from flexctl.platform.logs import logger

# isort: split
import httpx
import stamina

from flexctl import __version__, redaction
from flexctl.errors import (
    ApiError,
    AuthError,
    MalformedAnswerError,
    NoRouteError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    UsageError,
    ValidationError,
)
from flexctl.platform.auth import ClientCredentialsAuth
from flexctl.platform.direct import Address, Direct
from flexctl.platform.jsonwire import encode_json
from flexctl.platform.netenv import check_proxies, proxies, proxy_for, trust_context
from flexctl.platform.pacing import LOUD_WAIT, BudgetSpent, Pacer
from flexctl.platform.scopes import scope_for
from flexctl.platform.stopping import pause
from flexctl.platform.wire import (
    Answer,
    NoAnswer,
    Prepared,
    UnreadableBody,
    decoded,
    decoded_page,
    enforce_deadlines,
    exchange,
    is_html,
    loggable,
    origin_of,
    platform_message,
)
from flexctl.redaction import RedactingFilter, redact_headers, redact_url

log = logger("flexctl.http")
# A filter on a logger sees only that logger's records; the CLI's handler filter sees the rest.
log.addFilter(RedactingFilter())
# stamina reports each scheduled retry at WARNING on the "stamina" logger; without a handler
# Python would print that bare line to stderr. flexctl logs its retries itself (flexctl.http);
# with --debug the root handler still shows stamina's records.
logging.getLogger("stamina").addHandler(logging.NullHandler())

USER_AGENT = f"flexctl/{__version__}"
PROFILE_HEADER = "x-flex-emulator-profile"
API_URL_EXAMPLE = "https://app.officernd.com/api/v2"
# The emulator's documented credentials (the sandbox's, and `emulator serve`'s default) are no
# secret: registered with the redactor, every mention of the emulator would be masked.
PUBLIC_CLIENT_SECRETS = frozenset({"emulator"})


@dataclass(frozen=True)
class Timeouts:
    """How long flexctl waits for the platform, in seconds.

    `read` is the longest silence accepted, and the deadline of a whole request (connect, send,
    every byte of the answer) unless `total` sets that apart. `budget` bounds one logical
    request: its attempts and the waits between them (default: 3 x the deadline).
    """

    connect: float = 10.0
    read: float = 60.0
    total: float | None = None
    budget: float | None = None

    @property
    def deadline(self) -> float:
        return self.read if self.total is None else self.total

    @property
    def retry_budget(self) -> float:
        return 3.0 * self.deadline if self.budget is None else self.budget

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.read,
                             pool=self.connect)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # per request, including the first
    backoff: float = 0.5  # first wait in seconds; doubles per attempt, plus up to this in jitter
    backoff_cap: float = 30.0


DEFAULT_TIMEOUTS = Timeouts()
READ_TIMEOUT_ATTEMPTS = 2  # a request that timed out waiting for its answer is tried once more
TOKEN_ATTEMPTS = 2  # the token request is retried once: a wrong or dead URL fails fast
DEFAULT_RETRY = RetryPolicy()


@dataclass
class RequestStats:
    """Requests sent to the API (every attempt counts), and token requests (every attempt)."""

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


class _Budget:
    """The time one logical request may take: its attempts plus the waits between them."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.spent = 0.0

    def allows(self, wait: float) -> bool:
        return self.spent + wait <= self.limit


# The platform's 500s for a request its rules refuse (a body its database refused, an unknown
# organization): nothing was written, and sending it again changes nothing.
PERMANENT = re.compile(
    r"^(Path '[^']*' is required\.|Cast to \w+ failed .*|Specified [\w ]+ was not found"
    r"|.* should be before the \w+|Organization not found)$"
)


def api_error(
    method: str, path: str, answer: Answer, *, outcome_unknown: bool = False,
    hint: str | None = None,
) -> ApiError:
    """The `flexctl.errors` error for an error answer; a 401 names the scope it needed."""
    status = answer.status
    message = platform_message(answer)
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
    if status == 405 or (status == 404 and str(message).startswith(f"Cannot {method} ")):
        cls = NoRouteError  # no such route, which is not an object that is gone
    return cls(method, path, status, message, hint, outcome_unknown=outcome_unknown)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
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
    if method in ("PUT", "PATCH", "DELETE"):
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
        sleep: Callable[[float], None] = pause,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        direct: bool = True,
    ) -> None:
        """`direct=False` keeps a session on real sockets on httpx (`FLEXCTL_HTTP=httpx`)."""
        if wsgi_app is not None:
            transport = httpx.WSGITransport(app=wsgi_app)
        if client_secret not in PUBLIC_CLIENT_SECRETS:
            redaction.register(client_secret)
        self._token_url = token_url
        self._token_form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": " ".join(scopes),
        }
        self.scopes = tuple(scopes)
        self._fallback_scopes = tuple(fallback_scopes) if fallback_scopes else None
        self._timeouts = timeouts
        self._retry = retry
        self._pacer = pacer or Pacer.from_settings(sleep=sleep)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.stats = RequestStats()
        self.announced_profile: str | None = None
        # The last answer's `Date` and rate-limit headers (`x-ratelimit-*`), for `doctor`.
        self.observed: dict[str, str] = {}
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json",
                         "Accept-Encoding": "gzip"}  # gzip only: wire.py decodes it, capped
        token_address = httpx.URL(token_url)
        self._token_path = token_address.path  # "/oauth/token", as errors show it
        self._token_origin = origin_of(token_address)
        self.auth = ClientCredentialsAuth(self._fetch_token, clock=clock,
                                          where=self._token_path)
        base = httpx.URL(org_url if org_url.endswith("/") else org_url + "/")
        self.base_path = base.path  # "/api/v2/organizations/acme/"
        # The proxy each host is reached through (real sockets only), named by its failures.
        self._api_proxy = self._token_proxy = None
        if transport is None:
            self._api_proxy = proxy_for(base.scheme, base.host, base.port)
            self._token_proxy = proxy_for(token_address.scheme, token_address.host,
                                          token_address.port)
        # Real sockets and no proxy: the standard library's HTTP (flexctl.platform.direct).
        proxied = self._api_proxy is not None or self._token_proxy is not None
        self._direct = Direct() if direct and transport is None and not proxied else None
        self._api = Address.of(base)
        self._token = Address.of(token_address)
        self.deadline_pools = 0  # connection pools carrying the deadline (httpx's, below)
        log.debug("HTTP: %s", self._stack(transport, direct))
        if self._direct is None:
            if transport is None:
                check_proxies()  # httpx mounts every proxy of the environment: a SOCKS one fails
            common: dict[str, Any] = {
                "transport": transport,
                "timeout": timeouts.httpx(),
                "headers": self._headers,
                # TLS verification is never switched off; the store is httpx's (netenv).
                "verify": True if transport is not None else trust_context(),
                "follow_redirects": False,
            }
            try:
                self._client = httpx.Client(base_url=base, **common)
                self._token_client = httpx.Client(**common)
            except (httpx.InvalidURL, ValueError):  # a proxy's URL (nothing else is read here)
                names = sorted({p.variable for p in proxies().values()})
                names += [n for n in ("no_proxy", "NO_PROXY") if os.environ.get(n)][:1]
                raise UsageError(
                    f"{', '.join(names) or 'the proxy settings'}: a proxy URL (or NO_PROXY "
                    "entry) that cannot be read; write a proxy as http://host:port or "
                    "http://user:password@host:port, with any /, ?, #, @, [ or ] in the user or "
                    "password percent-encoded (%2F ...), and NO_PROXY as host names and "
                    "addresses") from None
            # 0 for an in-process transport, which has no socket to bound.
            self.deadline_pools = enforce_deadlines(self._client) + enforce_deadlines(
                self._token_client)

    def _stack(self, transport: httpx.BaseTransport | None, direct: bool) -> str:
        """Which HTTP stack this session uses, and why (for --debug)."""
        if transport is not None:
            return "in process (no network)"
        if self._direct is not None:
            return "Python's http.client, no proxy"
        routes = [f"{name} through {proxy}" if proxy else f"{name} direct"
                  for name, proxy in (("the API", self._api_proxy),
                                      ("the token host", self._token_proxy))]
        why = "" if direct else " (FLEXCTL_HTTP=httpx)"
        return f"httpx{why}; {', '.join(routes)}"

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
        else:
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
        answer = self._answer(method, path, params, body)
        return decoded(method, self.path_of(path), answer, write=method != "GET")

    def read_page(self, path: str, params: Mapping[str, str]) -> tuple[Any, list[str] | None]:
        """GET one page of a list: its parsed answer and the text of each of its results as
        the platform wrote them (None when it is no `{"results": [...]}` object)."""
        return decoded_page(self.path_of(path), self._answer("GET", path, params, None))

    def _answer(self, method: str, path: str, params: Mapping[str, str] | None,
                body: Any) -> Answer:
        content = encode_json(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        full_path = self.path_of(path)
        query = urlencode(params) if params else ""  # as httpx writes a query

        def request(token: str) -> httpx.Request | Prepared:
            if self._direct is not None:
                return self._api.prepared(
                    method, path, query, content or b"",
                    {**self._headers, **headers, "Authorization": f"Bearer {token}"})
            return self._client.build_request(
                method, path, params=params, content=content,
                headers={**headers, "Authorization": f"Bearer {token}"})

        def attempt() -> Answer:
            self._pace(method, full_path)
            token, fresh = self.auth.token()  # fails on its own, never retried from here
            answer = self._exchange(method, full_path, request(token))
            if answer.status == 401 and not fresh:
                # The cached token may have been revoked or expired early: renew it once. A
                # 401 to a token fetched just now is a missing scope; a new one will not help.
                token, _ = self.auth.token(stale=token)
                self._pace(method, full_path)
                answer = self._exchange(method, full_path, request(token))
            return answer

        return self._with_retries(method, full_path, attempt, token=False)

    # -- internals --

    def _pace(self, method: str, path: str) -> None:
        """Wait for the pacer; a wait for the platform's budget beyond the retry budget fails
        at once, as a `Retry-After` beyond it does."""
        limit = self._timeouts.retry_budget
        try:
            self._pacer.acquire(method, longest=limit)
        except BudgetSpent as exc:
            raise RateLimitedError(
                method, path, 429,
                f"not sent: the platform's {exc.kind} budget is spent "
                f"(x-ratelimit-remaining-{exc.kind}-minute: 0)",
                f"it resets in {exc.wait:.0f} s, longer than the retry budget of {limit:g} s "
                "(FLEXCTL_RETRY_BUDGET); try again later") from None

    def _exchange(self, method: str, path: str, request: httpx.Request | Prepared, *,
                  token: bool = False) -> Answer:
        """One request and its whole answer within the deadline; counted and logged."""
        with self._lock:
            if token:
                self.stats.token_requests += 1
            else:
                self.stats.requests += 1
                if method == "GET":
                    self.stats.reads += 1
                else:
                    self.stats.writes += 1
        write = method != "GET" and not token  # a write that may have been carried out
        started = time.monotonic()
        timeouts = self._timeouts
        try:
            if isinstance(request, Prepared):
                assert self._direct is not None
                answer = self._direct.exchange(request, deadline=timeouts.deadline,
                                               connect=timeouts.connect, read=timeouts.read)
            else:
                answer = exchange(self._token_client if token else self._client, request,
                                  deadline=timeouts.deadline, connect=timeouts.connect,
                                  read=timeouts.read,
                                  via=self._token_proxy if token else self._api_proxy)
        except NoAnswer as exc:
            log.debug("%s %s -> %s (%.0f ms)", method, redact_url(str(request.url)), exc.reason,
                      (time.monotonic() - started) * 1000)
            if not token:
                self._pacer.observe(method, {})
            raise
        except UnreadableBody as exc:
            raise MalformedAnswerError(method, path, exc.status,
                                       f"the answer cannot be used: {exc}",
                                       outcome_unknown=write) from None
        self._log(method, answer, started)
        limits = self._observe(answer)
        if not token:
            self._pacer.observe(method, limits)  # the platform's own budget paces the next
        return answer

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
        path = self._token_path

        def attempt() -> Answer:
            request: httpx.Request | Prepared
            if self._direct is not None:
                request = self._token.prepared(
                    "POST", "", "", urlencode(self._token_form).encode("ascii"),
                    {**self._headers, "Content-Type": "application/x-www-form-urlencoded"})
            else:
                request = self._token_client.build_request("POST", self._token_url,
                                                           data=self._token_form)
            return self._exchange("POST", path, request, token=True)

        answer = self._with_retries("POST", path, attempt, token=True)
        if is_html(answer):  # a sign-in page, another server's: not a token endpoint
            raise AuthError("POST", path, answer.status, platform_message(answer),
                            f"{self._token_url} is not a token endpoint; check --token-url "
                            "(FLEXCTL_TOKEN_URL)")
        body = decoded("POST", path, answer)
        if not isinstance(body, Mapping):
            raise AuthError("POST", path, answer.status, "the token response is not a JSON object",
                            f"is {self._token_url} the token endpoint? check --token-url")
        return body

    def _with_retries(
        self, method: str, path: str, attempt_once: Callable[[], Answer], *, token: bool
    ) -> Answer:
        budget = _Budget(self._timeouts.retry_budget)
        attempts = TOKEN_ATTEMPTS if token else self._retry.attempts
        delay = 0.0
        maybe_done = False  # an earlier attempt may have been carried out by the platform

        def tried(num: int) -> Answer:
            nonlocal delay, maybe_done
            try:
                return self._attempt(method, path, attempt_once, num, token=token,
                                     maybe_done=maybe_done, budget=budget)
            except _Retryable as exc:
                delay = exc.delay
                maybe_done = maybe_done or isinstance(exc.error, TransportError) or (
                    exc.error.status >= 500
                )
                if num < attempts:
                    # A long wait is shown without --debug, so a run never sits silent.
                    level = logging.WARNING if delay >= LOUD_WAIT else logging.INFO
                    log.log(level, "retrying %s %s in %.0fs: %s", method, path, delay,
                            exc.error)
                raise

        try:
            # The first attempt outside stamina's loop (tens of microseconds a request): nearly
            # every request needs no other.
            return tried(1)
        except _Retryable as exc:
            if attempts < 2:
                raise exc.error from None
        try:
            for attempt in stamina.retry_context(
                on=_Retryable, attempts=attempts - 1, timeout=None,
                wait_initial=0.0, wait_max=0.0, wait_jitter=0.0,
            ):
                with attempt:
                    with self._lock:
                        self.stats.retries += 1
                    self._sleep(delay)
                    budget.spent += delay
                    return tried(attempt.num + 1)
        except _Retryable as exc:
            raise exc.error from None
        raise AssertionError("unreachable: stamina re-raises the last failure")

    def _attempt(
        self,
        method: str,
        path: str,
        attempt_once: Callable[[], Answer],
        num: int,
        *,
        token: bool,
        maybe_done: bool,
        budget: _Budget,
    ) -> Answer:
        started = time.monotonic()
        try:
            answer = attempt_once()
        except NoAnswer as exc:
            lost = TransportError(method, path, exc.reason,
                                  outcome_unknown=method != "GET" and not token)
            if exc.timed_out and num >= READ_TIMEOUT_ATTEMPTS:
                # A server that accepts but never answers: waiting out every attempt would
                # leave the user staring at nothing for many minutes.
                raise lost from None
            if token or method != "POST":
                raise self._retry_within(budget, started, lost, self._backoff(num)) from None
            raise lost from None
        status = answer.status
        if 300 <= status < 400:
            # Never followed: the request (and its token) must go only where the user said.
            where = answer.headers.get("location") or "an unnamed location"
            raise ApiError(method, path, status,
                           f"redirected to {redact_url(where)}; use the final URL as --api-url "
                           "or --token-url")
        if status < 400:
            return answer
        if status == 404 and method == "DELETE" and maybe_done:
            log.info("DELETE %s: 404 after a retry; the earlier attempt deleted it", path)
            return answer
        if token and status < 500 and status != 429:
            raise self._token_error(path, answer)
        permanent = status == 500 and bool(PERMANENT.match(str(platform_message(answer))))
        unknown = method == "POST" and not token and status >= 500 and not permanent
        error = api_error(method, path, answer, outcome_unknown=unknown,
                          hint=self._answer_hint(method, answer, token=token))
        # The token request is retried like a read: it changes nothing on the platform.
        if permanent or not _retries_status("GET" if token else method, status):
            raise error
        wait = _retry_after(answer.headers)  # 429, or a 503 during maintenance
        if wait is not None and not budget.allows(time.monotonic() - started + wait):
            raise api_error(method, path, answer, outcome_unknown=unknown, hint=(
                f"the platform asks to wait {wait:.0f} s before trying again, longer than the "
                f"retry budget of {budget.limit:g} s (FLEXCTL_RETRY_BUDGET); try again later"))
        raise self._retry_within(budget, started, error,
                                 self._backoff(num) if wait is None else wait)

    @staticmethod
    def _retry_within(budget: _Budget, started: float, error: ApiError | TransportError,
                      delay: float) -> Exception:
        """A `_Retryable` for `error`, or `error` itself when the wait would overrun the budget."""
        budget.spent += time.monotonic() - started
        return _Retryable(error, delay) if budget.allows(delay) else error

    def _answer_hint(self, method: str, answer: Answer, *, token: bool) -> str | None:
        """What an error answer that is not the platform's suggests about --api-url (or
        --token-url): a web page (another server, a proxy, a sign-in page), or no such route
        under a URL that does not end in /api/v2."""
        if token:
            return (f"{self._token_url} answered with a web page: is it the token endpoint? "
                    "check --token-url (FLEXCTL_TOKEN_URL)") if is_html(answer) else None
        route = answer.status in (404, 405) and str(platform_message(answer)).startswith(
            f"Cannot {method} ")
        if not (is_html(answer) or route):
            return None
        api_url = self.base_path.rsplit("/organizations/", 1)[0]
        if not api_url.endswith("/api/v2"):
            return (f"is --api-url (FLEXCTL_API_URL) right? the platform's API URL ends in "
                    f"/api/v2 ({API_URL_EXAMPLE}), not in {api_url or '/'}")
        if is_html(answer):
            return ("a web page is no answer of the platform's API: is --api-url "
                    "(FLEXCTL_API_URL) the platform's, and is a proxy or sign-in page answering?")
        return None

    def _token_error(self, path: str, answer: Answer) -> AuthError:
        if answer.status in (404, 405) or is_html(answer):
            hint = (f"{self._token_url} is not a token endpoint; check --token-url "
                    "(FLEXCTL_TOKEN_URL)")
        else:
            hint = (
                f"{self._token_origin} refused the token request: check FLEXCTL_CLIENT_ID and "
                "FLEXCTL_CLIENT_SECRET, and that the application is granted every requested "
                f"scope ({' '.join(self.scopes)}); FLEXCTL_SCOPES narrows the request"
            )
        return AuthError("POST", path, answer.status, platform_message(answer), hint)

    def _backoff(self, num: int) -> float:
        base = self._retry.backoff * 2.0 ** (num - 1)
        return min(self._retry.backoff_cap, base) + self._rng.uniform(0, self._retry.backoff)

    def _observe(self, answer: Answer) -> dict[str, str]:
        profile = answer.headers.get(PROFILE_HEADER)
        if profile and self.announced_profile is None:
            self.announced_profile = profile
        # The latest rate-limit headers (error answers may carry none) and the latest Date.
        limits = {k.lower(): v for k, v in answer.headers.items()
                  if k.lower().startswith("x-ratelimit-")}
        date = answer.headers.get("date")
        with self._lock:
            if limits:
                self.observed = {**{k: v for k, v in self.observed.items()
                                    if not k.startswith("x-ratelimit-")}, **limits}
            if date:
                self.observed["date"] = date
        return limits

    def _log(self, method: str, answer: Answer, started: float) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        request = answer.request
        log.debug("%s %s -> %d (%.0f ms)", method, redact_url(str(request.url)),
                  answer.status, (time.monotonic() - started) * 1000)
        log.debug("  request headers: %s",  # named as httpx names them, whichever sent it
                  redact_headers((name.lower(), value) for name, value in request.headers.items()))
        if request.content:
            log.debug("  request body: %s", loggable(request.content, request.headers))
        if answer.status >= 400:
            log.debug("  response body: %s", loggable(answer.body, answer.headers))
