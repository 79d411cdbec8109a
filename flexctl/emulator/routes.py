"""Routing: which operation a method and path name on a profile.

`resolve` turns `POST /api/v2/organizations/demo/plans` into an `Operation`, or raises the
NestJS 404 `Cannot POST /api/v2/...` when the route does not exist on this profile (as the real
API answers for the catalogue writes it does not have).
"""

from __future__ import annotations

from dataclasses import dataclass

from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import cannot
from flexctl.emulator.resources import ACTIONS, COLLECTIONS, SINGLETONS, Resource, Singleton

API_PREFIX = "/api/v2/organizations/"


@dataclass(frozen=True)
class Operation:
    name: str  # organization | singleton | list | count | get | create | update | delete | collect
    org: str
    scope: str
    resource: Resource | None = None
    singleton: Singleton | None = None
    object_id: str | None = None


def resolve(method: str, path: str, profile: str, dialect: Dialect) -> Operation:
    """The operation a request names on this profile; 404 `Cannot METHOD path` otherwise."""
    parts = path[len(API_PREFIX) :].split("/") if path.startswith(API_PREFIX) else []
    if parts[1:] == [""]:  # Express routes `/organizations/acme/` like `/organizations/acme`
        parts = parts[:1]
    if not parts or not parts[0] or len(parts) > 4 or "" in parts[1:]:
        raise cannot(method, path)
    org = parts[0]
    if len(parts) == 1:
        if method != "GET":
            raise cannot(method, path)
        return Operation("organization", org, "flex.settings.organization.read")
    name, rest = parts[1], parts[2:]
    if not dialect.has_route(name):
        raise cannot(method, path)
    if name in SINGLETONS and not rest:
        return _singleton(method, path, profile, org, SINGLETONS[name])
    resource = COLLECTIONS.get(name)
    updates = dialect.update_methods(name)
    operation = _operation_name(method, rest, updates)
    if resource is None or operation not in resource.operations(profile):
        raise cannot(method, path)
    scope = f"{resource.scope}.{ACTIONS[operation]}"
    object_id = rest[0] if rest and rest[0] != "count" else None
    return Operation(operation, org, scope, resource=resource, object_id=object_id)


def _operation_name(method: str, rest: list[str], updates: tuple[str, ...]) -> str | None:
    if not rest:
        return {"GET": "list", "POST": "create"}.get(method)
    if len(rest) == 2:
        return "collect" if (method, rest[1]) == ("POST", "collect") else None
    if rest[0] == "count":
        return "count" if method == "GET" else None
    if method in updates:
        return "update"
    return {"GET": "get", "DELETE": "delete"}.get(method)


def _singleton(method: str, path: str, profile: str, org: str, single: Singleton) -> Operation:
    if single.extension and profile != "full":
        raise cannot(method, path)
    if method not in ("GET", "PUT") or (method == "PUT" and not single.writable):
        raise cannot(method, path)
    action = "read" if method == "GET" else "update"
    return Operation("singleton", org, f"{single.scope}.{action}", singleton=single)
