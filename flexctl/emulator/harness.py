"""Test-harness endpoints under `/_emulator/`: outside the Flex dialect, no token needed.

reset, account status, faults, dialect, invoices (to make memberships and fees "invoiced"),
stats and info. They exist so tests and benchmarks can arrange the platform's state directly.
`POST /_emulator/dialect` `{"fee_update": "patch", ...}` changes the named settings, `DELETE`
goes back to the dialect the emulator started with, `GET` shows the current one.
"""

from __future__ import annotations

from typing import Any, Protocol

from flexctl.emulator import jsonutil
from flexctl.emulator.body import parse_body
from flexctl.emulator.clock import Clock
from flexctl.emulator.context import Context
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import bad_request, cannot
from flexctl.emulator.faults import Faults
from flexctl.emulator.invoices import create_invoice
from flexctl.emulator.store import ACCOUNT_STATUSES, Store


class Counters(Protocol):
    def reset(self) -> None: ...

    def as_dict(self) -> dict[str, int]: ...


class Harnessed(Protocol):
    """What the harness reaches into: the emulator (`app.Emulator`) as seen from here."""

    @property
    def profile(self) -> str: ...
    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def faults(self) -> Faults: ...
    @property
    def stats(self) -> Counters: ...
    @property
    def startup_dialect(self) -> Dialect: ...

    dialect: Dialect

    def reset(self) -> None: ...


PREFIX = "/_emulator/"


def handle(app: Harnessed, method: str, path: str, data: bytes) -> tuple[int, str]:
    parts = path[len(PREFIX) :].strip("/").split("/")
    route = (method, *parts)
    if route == ("POST", "reset"):
        app.reset()
        return 200, '{"reset":true}'
    if parts == ["faults"] and method in ("GET", "POST", "DELETE"):
        return 200, jsonutil.dumps(_faults(app, method, data))
    if parts == ["dialect"] and method in ("GET", "POST", "DELETE"):
        return 200, jsonutil.dumps(_dialect(app, method, data))
    if route == ("GET", "stats"):
        return 200, jsonutil.dumps(app.stats.as_dict())
    if route == ("POST", "stats", "reset"):
        app.stats.reset()
        return 200, jsonutil.dumps(app.stats.as_dict())
    if route == ("GET", "info"):
        return 200, jsonutil.dumps({"profile": app.profile, "orgs": app.store.orgs()})
    if len(parts) == 3 and parts[0] == "organizations":
        if (method, parts[2]) == ("PUT", "account"):
            return 200, jsonutil.dumps(_account(app, parts[1], parse_body(data)))
        if (method, parts[2]) == ("POST", "invoices"):
            with app.store.transaction():
                ctx = Context(app.store, parts[1], app.clock, app.dialect)
                return 201, jsonutil.dumps(create_invoice(ctx, parse_body(data)))
    raise cannot(method, path)


def _faults(app: Harnessed, method: str, data: bytes) -> dict[str, Any]:
    if method == "DELETE":
        app.faults.clear()
    elif method == "POST":
        try:
            app.faults.configure(jsonutil.loads(data) if data.strip() else None)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
    return app.faults.describe()


def _dialect(app: Harnessed, method: str, data: bytes) -> dict[str, str]:
    if method == "DELETE":
        app.dialect = app.startup_dialect
    elif method == "POST":
        settings = parse_body(data)
        try:
            app.dialect = app.dialect.with_settings(settings)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
    return app.dialect.describe()


def _account(app: Harnessed, org: str, body: dict[str, Any]) -> dict[str, Any]:
    status = body.get("status")
    if status not in ACCOUNT_STATUSES:
        allowed = ", ".join(ACCOUNT_STATUSES)
        raise bad_request(f"status must be one of the following values: {allowed}")
    app.store.set_account_status(org, status)
    return {"status": app.store.account_status(org)}
