"""The emulator's WSGI application: request flow, stats and the `create_app` factory.

A request to `/api/v2/...` goes: route (404 `Cannot GET ...`), injected faults, token, scope,
rate limit, body (read only with a JSON content type), then one store transaction; a "drop"
fault fires after the commit. The dialect in force when the request arrives decides its
uncertain behaviours. Every answer, errors included, carries `X-Flex-Emulator-Profile`; nothing
ever answers with a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterable, Mapping, Sequence
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from flexctl.emulator import api, harness, jsonutil, routes
from flexctl.emulator.auth import Auth
from flexctl.emulator.body import is_json, parse_body
from flexctl.emulator.clock import Clock
from flexctl.emulator.context import Context, actor_id
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import EmulatorDroppedConnection, HttpError
from flexctl.emulator.faults import Faults
from flexctl.emulator.ratelimit import RateLimiter
from flexctl.emulator.resources import all_scopes
from flexctl.emulator.seed import apply_seed, read_seed, seed_dialect
from flexctl.emulator.store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("flexctl.emulator")

PROFILE_HEADER = "X-Flex-Emulator-Profile"
PROFILES = ("full", "officernd")
TOKEN_PATH = "/oauth/token"
JSON = "application/json; charset=utf-8"


class Stats:
    """Request counters (API and token requests; harness calls are not counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = self.reads = self.writes = self.tokens = 0

    def count(self, method: str) -> None:
        with self._lock:
            self.requests += 1
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1

    def count_token(self) -> None:
        with self._lock:
            self.requests += 1
            self.tokens += 1

    def reset(self) -> None:
        with self._lock:
            self.requests = self.reads = self.writes = self.tokens = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests, "reads": self.reads, "writes": self.writes,
            "tokens": self.tokens,
        }


class Emulator:
    """A Flex v2-compatible API as a WSGI callable.

    `dialect` names the variants of the platform's uncertain behaviours to play: settings
    (`"fee_update=patch"` or a mapping) over the profile's defaults and a seed's `dialect`, or
    a `Dialect`, taken as it is.
    """

    def __init__(
        self,
        db_path: str | None = None,
        *,
        profile: str = "full",
        orgs: Sequence[str] = ("demo",),
        client_id: str = "emulator",
        client_secret: str = "emulator",
        faults: str | None = None,
        rate_limit: str | None = None,
        seed: Path | None = None,
        dialect: Dialect | str | Mapping[str, Any] | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        self.profile = profile
        self.orgs = tuple(orgs)
        self.clock = Clock()
        self.store = Store(db_path, self.clock)
        self.auth = Auth(self.clock)
        self.auth.register_client(client_id, client_secret, all_scopes(profile))
        self.faults = Faults(self.clock)
        self.faults.configure(faults)
        self.rate_limiter = RateLimiter(self.clock, rate_limit)
        self.stats = Stats()
        self._seed = read_seed(seed) if seed else None
        if not isinstance(dialect, Dialect):
            settings = seed_dialect(self._seed) if self._seed else None
            dialect = Dialect.for_profile(profile).with_settings(settings).with_settings(dialect)
        self.startup_dialect = dialect
        self.dialect = dialect  # the harness changes it at run time
        self._populate()

    def _populate(self) -> None:
        if self._seed:
            apply_seed(self, self._seed)
        for org in self.orgs:
            self.store.ensure_org(org)

    def reset(self) -> None:
        """Forget every object, fault, rate-limit window and counter; re-create the orgs and
        go back to the dialect the emulator started with."""
        self.store.wipe()
        self.dialect = self.startup_dialect
        self.faults.clear()
        self.rate_limiter.reset()
        self.stats.reset()
        self._populate()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except EmulatorDroppedConnection:
            _shutdown(environ)
            raise
        except HttpError as err:
            response = self._error(err, request)
        except Exception:  # a bug in the emulator: still a NestJS body, never a traceback
            log.exception("emulator error on %s %s", request.method, request.path)
            response = self._error(HttpError(500, "Internal server error"), request)
        response.headers[PROFILE_HEADER] = self.profile
        # The platform's Date: by the emulator's clock, which tests move (clock skew).
        response.headers["Date"] = formatdate(self.clock.now(), usegmt=True)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        method, path = request.method, request.path
        if path.startswith(harness.PREFIX):
            status, text = harness.handle(self, method, path, request.get_data())
            return Response(text, status, content_type=JSON)
        if path == TOKEN_PATH and method == "POST":
            self.stats.count_token()
            return Response(jsonutil.dumps(self.auth.issue(request.form)), 200, content_type=JSON)
        dialect = self.dialect  # one dialect for the whole request
        operation = routes.resolve(method, path, self.profile, dialect)
        self.stats.count(method)
        query = request.query_string.decode("latin-1")
        self.faults.before(method, path, dialect, query)
        token = self.auth.authenticate(request.headers.get("Authorization"))
        self.auth.require(token, operation.scope)
        limits = self.rate_limiter.check(token.value, method, dialect)
        body = {} if method == "GET" else parse_body(
            request.get_data(), json_type=is_json(request.mimetype))
        with self.store.transaction():
            ctx = Context(self.store, operation.org, self.clock, dialect,
                          actor_id(token.client_id), origin=request.host_url.rstrip("/"),
                          shaping=self.faults.shaping(method, path, query))
            status, text = api.handle(ctx, operation, method, request.args, body)
        if self.faults.should_drop(method, path):
            raise EmulatorDroppedConnection()
        return Response(text, status, headers=limits, content_type=JSON)

    def _error(self, err: HttpError, request: Request) -> Response:
        if err.plain:
            return Response(str(err.message), err.status, headers=err.headers,
                            content_type="text/plain; charset=utf-8")
        query = request.query_string.decode("latin-1")
        url = request.path + (f"?{query}" if query else "")
        body = jsonutil.dumps(err.body(url, self.clock.iso_now()))
        return Response(body, err.status, headers=err.headers, content_type=JSON)


def _shutdown(environ: WSGIEnvironment) -> None:
    # Over a real socket (werkzeug's server), close it so the client sees no answer at all.
    sock: Any = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


# The documented factory: `create_app(db_path=None, *, profile, orgs, ...)`; `db_path=None`
# keeps state in memory (shared by all threads).
create_app = Emulator
