"""Target selection (SPEC §1): which API, organization and credentials a command talks to.

Each setting comes from its flag, else its environment variable, else its default. `local`
(the default) is the embedded emulator with its state in `.flexctl/sandbox.db` next to the
config; `local:FILE` names another sandbox database; an http(s) URL is a served emulator or the
real platform and needs OAuth2 client credentials from the environment.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import shlex
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from flexctl.config.loader import display_name
from flexctl.errors import TargetError, UsageError
from flexctl.kinds.base import ACTIVATE_ON_PLATFORM, Profile
from flexctl.platform.client import FlexClient, profile_for_url
from flexctl.platform.environ import (
    API_URL_ENV,
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    HTTP_ENV,
    ORG_ENV,
    SCOPES_ENV,
    TIMEOUT_ENV,
    TOKEN_URL_ENV,
)
from flexctl.platform.http import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUTS,
    HttpSession,
    RetryPolicy,
    Timeouts,
)
from flexctl.platform.logs import logger
from flexctl.platform.pacing import READ_RATE_ENV, WRITE_RATE_ENV, Pacer
from flexctl.platform.scopes import parse_scopes, profile_scopes

log = logger("flexctl.target")


LOCAL = "local"
SANDBOX_DB = Path(".flexctl") / "sandbox.db"
OFFICERND_TOKEN_URL = "https://identity.officernd.com/oauth/token"
# The embedded emulator is reached through a WSGI transport; the host is never resolved.
_LOCAL_ORIGIN = "http://sandbox.flexctl.invalid"
_LOCAL_CREDENTIALS = ("emulator", "emulator")
UNPACED = "1000000/s"
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Target:
    """Where a command reads and writes. `client_secret` is never shown."""

    api_url: str  # as the user gave it: "local", "local:/x/sandbox.db", "https://…/api/v2"
    org: str
    token_url: str | None = None  # None for the embedded sandbox
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    profile: Profile | None = None  # once known (detected by the client)
    sandbox_db: Path | None = None  # for local targets

    @property
    def is_local(self) -> bool:
        return self.sandbox_db is not None

    def with_profile(self, profile: Profile) -> Target:
        return dataclasses.replace(self, profile=profile)

    def binding(self) -> dict[str, str | None]:
        """What a saved plan is bound to: the API (a sandbox by its absolute file), the token
        endpoint's host and the organization."""
        if self.sandbox_db is not None:
            api = f"{LOCAL}:{os.path.abspath(self.sandbox_db)}"
        else:
            api = self.api_url.rstrip("/")
        token_host = urlsplit(self.token_url).hostname if self.token_url else None
        return {"api": api, "token_host": token_host, "org": self.org}

    def describe(self) -> dict[str, str | None]:
        """The target as plans and plan files record it (no credentials)."""
        return {
            "api_url": self.api_url,
            "org": self.org,
            "profile": self.profile.value if self.profile else None,
        }


def resolve_target(
    api_url: str | None,
    org: str | None,
    token_url: str | None,
    config_org: str | None,
    config_root: Path | None,
    *,
    env: Mapping[str, str] | None = None,
) -> Target:
    """Combine flags, environment and defaults into a `Target` (SPEC §1 "Target selection")."""
    env = os.environ if env is None else env
    chosen_org = _resolve_org(org, env.get(ORG_ENV) or None, config_org)
    url = (api_url or env.get(API_URL_ENV) or LOCAL).strip()
    if url == LOCAL or url.startswith(LOCAL + ":"):
        return Target(api_url=url, org=chosen_org, sandbox_db=_sandbox_path(url, config_root))
    base = _check_http_url(url, "--api-url" if api_url else API_URL_ENV,
                           "local, local:FILE or an http(s) URL such as "
                           "https://app.officernd.com/api/v2")
    missing = [name for name in (CLIENT_ID_ENV, CLIENT_SECRET_ENV) if not env.get(name)]
    if missing:
        raise TargetError(
            f"the target {base} needs OAuth2 client credentials: set {CLIENT_ID_ENV} and "
            f"{CLIENT_SECRET_ENV} (missing: {', '.join(missing)}); or use --api-url local"
        )
    token = token_url or env.get(TOKEN_URL_ENV)
    if token:
        token = _check_http_url(token, "--token-url" if token_url else TOKEN_URL_ENV,
                                f"an http(s) URL such as {OFFICERND_TOKEN_URL}")
    token = token or default_token_url(base)
    _warn_without_tls(base, token)
    return Target(
        api_url=url,
        org=chosen_org,
        token_url=token,
        client_id=env[CLIENT_ID_ENV],
        client_secret=env[CLIENT_SECRET_ENV],
    )


def _resolve_org(flag: str | None, from_env: str | None, config_org: str | None) -> str:
    chosen, source = (flag, "--org") if flag else (from_env, ORG_ENV)
    if chosen and config_org and chosen != config_org:
        raise TargetError(
            f"{source} is {chosen!r} but the configuration describes organization "
            f"{config_org!r}; refusing to use one organization's configuration on another"
        )
    org = chosen or config_org
    if not org:
        raise TargetError(
            f"no organization: set `organization` in the configuration, --org or {ORG_ENV}"
        )
    if not _SLUG.match(org):
        raise TargetError(f"invalid organization slug {org!r}")
    return org


def activation_step(target: Target, config_root: Path | None) -> str:
    """How the account becomes Active on this target, as an instruction: the sandbox's own
    command, a served emulator's harness endpoint, or OfficeRnD finishing the onboarding."""
    if target.is_local:
        words = ["flexctl", "emulator", "account", "--status", "active"]
        if config_root is not None and display_name(config_root) != ".":
            words.append(display_name(config_root))
        if target.api_url != LOCAL:
            words += ["--api-url", target.api_url]
        return f"activate the sandbox's account with `{shlex.join(words)}`"
    if target.profile is Profile.FULL:  # only the emulator announces the full profile
        parts = urlsplit(target.api_url)
        url = f"{parts.scheme}://{parts.netloc}/_emulator/organizations/{target.org}/account"
        body = '{"status": "active"}'
        return (f"activate the emulator's account with `curl -X PUT {url} "
                f"-H 'Content-Type: application/json' -d '{body}'`")
    return ACTIVATE_ON_PLATFORM


def ensure_sandbox_directory(db: Path) -> None:
    """Create the default `.flexctl/` beside a configuration; any other directory of a sandbox
    database must exist (a typo in `local:FILE` must not create a tree of directories)."""
    if db.parent.is_dir():
        return
    if db.parent.name == SANDBOX_DB.parent.name and db.parent.parent.is_dir():
        db.parent.mkdir(exist_ok=True)
        return
    raise TargetError(f"the directory of the sandbox database {db} does not exist; create "
                      f"{db.parent} first, or fix the path in --api-url local:FILE")


def _sandbox_path(url: str, config_root: Path | None) -> Path:
    if url == LOCAL:
        return (config_root or Path.cwd()) / SANDBOX_DB
    name = url[len(LOCAL) + 1 :]
    if not name:
        raise UsageError("--api-url local:FILE needs a file name, e.g. local:./sandbox.db")
    return Path(name).expanduser()


def _check_http_url(url: str, source: str, expected: str) -> str:
    """An http(s) URL without credentials, else a `UsageError` (a bad option or environment
    value: exit 64) naming where it came from."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:  # "http://[::1/api" (an unclosed IPv6 address), "http://host:port"
        valid = False
    if not valid:
        raise UsageError(f"invalid {source} {url!r}: use {expected}")
    if parts.username or parts.password:
        raise UsageError(f"{source} must not contain credentials; use FLEXCTL_CLIENT_ID/SECRET")
    return url.rstrip("/")


def _warn_without_tls(*urls: str) -> None:
    hosts = {p.hostname for p in map(urlsplit, urls) if p.scheme == "http" and p.hostname}
    for host in sorted(h for h in hosts if not _is_loopback(h)):
        log.warning("credentials will be sent without TLS to %s", host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_token_url(api_url: str) -> str:
    """identity.officernd.com for app.officernd.com, else `<api origin>/oauth/token`."""
    parts = urlsplit(api_url)
    if (parts.hostname or "").lower() == "app.officernd.com":
        return OFFICERND_TOKEN_URL
    return f"{parts.scheme}://{parts.netloc}/oauth/token"


def default_scopes(
    target: Target, env: Mapping[str, str] | None = None, *, read_only: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The scopes to request, and a narrower set to fall back to if they are refused.

    `FLEXCTL_SCOPES` wins; the real platform gets what it can grant; any other server (an
    emulator) is asked for everything the `full` profile has, falling back to the public set
    (an `officernd`-profile emulator refuses extension scopes, like the platform).
    `read_only` (plan, drift) keeps only the read scopes, so a read-only application works.
    """
    env = os.environ if env is None else env
    if env.get(SCOPES_ENV):
        return parse_scopes(env[SCOPES_ENV]), None

    def kept(scopes: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(s for s in scopes if s.endswith(".read")) if read_only else scopes

    if profile_for_url(target.api_url) is Profile.OFFICERND:
        return kept(profile_scopes(Profile.OFFICERND)), None
    return kept(profile_scopes(Profile.FULL)), kept(profile_scopes(Profile.OFFICERND))


def open_client(
    target: Target,
    *,
    read_rate: str | None = None,
    write_rate: str | None = None,
    scopes: Sequence[str] | None = None,
    read_only: bool = False,
    app: Any = None,
    transport: Any = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    direct: bool | None = None,
) -> FlexClient:
    """A `FlexClient` for the target. For `local`, the emulator runs in this process.

    `app` (a WSGI app such as `flexctl.emulator.create_app(...)`) or `transport` (an httpx
    transport) replace the network: tests use them to reach an in-process emulator under any
    target URL. `sleep`/`clock` make retries and token expiry time-free in tests.
    `read_only` asks only for read scopes (see `default_scopes`). `direct` chooses the HTTP
    stack on real sockets (`flexctl.platform.direct`, else httpx); default: `FLEXCTL_HTTP`.
    """
    on_close: Callable[[], None] | None = None
    if target.is_local:
        # The embedded sandbox has no rate limit to respect: pace it only when asked to.
        read_rate = read_rate or os.environ.get(READ_RATE_ENV) or UNPACED
        write_rate = write_rate or os.environ.get(WRITE_RATE_ENV) or UNPACED
        if app is None:
            app = _sandbox_app(target)
            store_close = getattr(getattr(app, "store", None), "close", None)
            on_close = store_close if callable(store_close) else None
        base, token_url = f"{_LOCAL_ORIGIN}/api/v2", f"{_LOCAL_ORIGIN}/oauth/token"
        client_id, client_secret = _LOCAL_CREDENTIALS
    else:
        base, token_url = target.api_url.rstrip("/"), target.token_url or ""
        client_id, client_secret = target.client_id or "", target.client_secret or ""
    fallback: tuple[str, ...] | None = None
    if scopes is None:
        scopes, fallback = default_scopes(target, read_only=read_only)
    timing: dict[str, Any] = {}
    if sleep is not None:
        timing["sleep"] = sleep
    if clock is not None:
        timing["clock"] = clock
    session = HttpSession(
        org_url=f"{base}/organizations/{quote(target.org, safe='')}",
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        scopes=tuple(scopes),
        fallback_scopes=fallback,
        transport=transport,
        wsgi_app=app,
        timeouts=timeouts or timeouts_from_env(),
        retry=retry,
        pacer=Pacer.from_settings(read_rate, write_rate, **timing),
        direct=direct_from_env() if direct is None else direct,
        **timing,
    )
    return FlexClient(session, api_url=base, on_close=on_close)


def direct_from_env(env: Mapping[str, str] | None = None) -> bool:
    """`FLEXCTL_HTTP`: `auto` (the default: the standard library's HTTP where no proxy is
    configured) or `httpx` (always httpx); anything else is a `UsageError`."""
    value = (os.environ if env is None else env).get(HTTP_ENV, "").strip().lower()
    if value not in ("", "auto", "httpx"):
        raise UsageError(f"{HTTP_ENV} must be auto or httpx, not {value!r}")
    return value != "httpx"


def timeouts_from_env(env: Mapping[str, str] | None = None) -> Timeouts:
    """`FLEXCTL_TIMEOUT` (seconds) bounds one request, from connecting to the last byte of its
    answer; `FLEXCTL_RETRY_BUDGET` (seconds) bounds one request with all its retries and the
    waits between them (default: 3 x the timeout)."""
    env = os.environ if env is None else env

    def seconds(name: str, most: float) -> float | None:
        raw = env.get(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 < value <= most:  # NaN too
            raise UsageError(f"{name} must be a number of seconds (0 < s <= {most:g}), "
                             f"not {raw!r}")
        return value

    timeout = seconds(TIMEOUT_ENV, 3600)
    budget = seconds("FLEXCTL_RETRY_BUDGET", 86400)
    if timeout is None and budget is None:
        return DEFAULT_TIMEOUTS
    read = DEFAULT_TIMEOUTS.read if timeout is None else timeout
    return Timeouts(connect=min(DEFAULT_TIMEOUTS.connect, read), read=read, budget=budget)


def _sandbox_app(target: Target) -> Any:
    """The embedded emulator (profile `full`) on the sandbox database; creates the org."""
    from flexctl.emulator import create_app  # only local targets pay for importing it

    assert target.sandbox_db is not None
    ensure_sandbox_directory(target.sandbox_db)
    try:
        app = create_app(str(target.sandbox_db), profile="full", orgs=(target.org,))
        app.store.ensure_org(target.org)
    except (OSError, sqlite3.Error) as exc:
        raise TargetError(
            f"cannot open the sandbox database {target.sandbox_db}: {exc}; "
            "name another file with --api-url local:FILE"
        ) from exc
    return app


@dataclass(frozen=True)
class TargetOptions:
    """What the user asked for (flags, before the config is known); see `resolve`."""

    api_url: str | None = None
    org: str | None = None
    token_url: str | None = None
    read_rate: str | None = None
    write_rate: str | None = None
    refresh: bool = False  # read every kind in full, not through the snapshot cache

    def resolve(self, config_org: str | None, config_root: Path | None) -> Target:
        return resolve_target(self.api_url, self.org, self.token_url, config_org, config_root)

    def open_client(self, target: Target, **kwargs: Any) -> FlexClient:
        return open_client(target, read_rate=self.read_rate, write_rate=self.write_rate, **kwargs)
