"""The Flex v2 routes: which operation a method and path name, and how each is answered.

`resolve` turns `POST /api/v2/organizations/demo/plans` into an `Operation` (or the NestJS 404
`Cannot POST /api/v2/...` when the route does not exist on this profile, as the real API
answers for the catalogue writes it does not have). `handle` runs it inside the request's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from werkzeug.datastructures import MultiDict

from flexctl.emulator import jsonutil, query, rules
from flexctl.emulator.errors import HttpError, bad_request, server_error
from flexctl.emulator.resources import COLLECTIONS, SINGLETONS, Resource, Singleton
from flexctl.emulator.rules import Context
from flexctl.emulator.validation import validate

API_PREFIX = "/api/v2/organizations/"
_ACTIONS = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}


@dataclass(frozen=True)
class Operation:
    name: str  # organization | list | count | get | create | update | delete | singleton
    org: str
    scope: str
    resource: Resource | None = None
    singleton: Singleton | None = None
    object_id: str | None = None


def cannot(method: str, path: str) -> HttpError:
    return HttpError(404, f"Cannot {method} {path}")


def resolve(method: str, path: str, profile: str) -> Operation:
    """The operation a request names on this profile; 404 `Cannot METHOD path` otherwise."""
    parts = path[len(API_PREFIX) :].split("/") if path.startswith(API_PREFIX) else []
    if 2 <= len(parts) <= 4 and parts[0] and "" not in parts[1:]:
        from flexctl.emulator import billing  # payments extension (it imports this module)

        found = billing.resolve(method, path, profile, parts[0], parts[1:])
        if found is not None:
            return found
    if not parts or not parts[0] or len(parts) > 3 or "" in parts[1:]:
        raise cannot(method, path)
    org = parts[0]
    if len(parts) == 1:
        if method != "GET":
            raise cannot(method, path)
        return Operation("organization", org, "flex.settings.organization.read")
    name = parts[1]
    if name in SINGLETONS and len(parts) == 2:
        return _singleton(method, path, profile, org, SINGLETONS[name])
    resource = COLLECTIONS.get(name)
    if resource is None or (resource.extension and profile != "full"):
        raise cannot(method, path)
    if method != "GET" and not _can_write(resource, profile):
        raise cannot(method, path)
    scope = f"{resource.scope}.{_ACTIONS.get(method, 'read')}"
    if len(parts) == 2:
        names = {"GET": "list", "POST": "create"}
    elif parts[2] == "count":
        names = {"GET": "count"}
    else:
        names = {"GET": "get", "PUT": "update", "DELETE": "delete"}
    if method not in names:
        raise cannot(method, path)
    object_id = parts[2] if len(parts) == 3 else None
    return Operation(names[method], org, scope, resource=resource, object_id=object_id)


def _can_write(resource: Resource, profile: str) -> bool:
    return resource.writable and (resource.public_writes or profile == "full")


def _singleton(method: str, path: str, profile: str, org: str, single: Singleton) -> Operation:
    if single.extension and profile != "full":
        raise cannot(method, path)
    if method not in ("GET", "PUT") or (method == "PUT" and not single.writable):
        raise cannot(method, path)
    action = "read" if method == "GET" else "update"
    return Operation("singleton", org, f"{single.scope}.{action}", singleton=single)


def parse_body(data: bytes) -> dict[str, Any]:
    """The JSON request body as Express parses it: bad JSON is a 400 naming the position."""
    if not data.strip():
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


def handle(
    ctx: Context, op: Operation, method: str, args: MultiDict[str, str], data: bytes
) -> tuple[int, str]:
    """Answer one operation: (status, JSON text). Runs inside the request's transaction."""
    org = ctx.store.organization(ctx.org)
    if org is None:
        raise server_error("Organization not found")
    if op.name == "organization":
        query.check_single_args(args)
        shown = {k: org[k] for k in ("_id", "name", "slug")}
        return 200, jsonutil.dumps({**shown, "imageUrl": None, "description": None})
    if op.singleton is not None:
        return 200, jsonutil.dumps(_singleton_answer(ctx, op.singleton, method, args, data))
    if op.name.startswith("billing:"):
        from flexctl.emulator import billing

        return billing.handle(ctx, op, method, args, data)
    resource = op.resource
    assert resource is not None
    if op.name == "list":
        # Memberships carry calculatedStatus, which depends on today: render each one.
        render = partial(rules.render, ctx, resource) if resource.path == "memberships" else None
        return 200, query.list_page(ctx.store, ctx.org, resource, args, render)
    if op.name == "count":
        where = [] if resource.path == "memberships" else query.parse_filters(args, resource)
        return 200, jsonutil.dumps(dict(query.count_answer(ctx.store, ctx.org, resource, where)))
    object_id = op.object_id or ""
    if op.name == "get":
        query.check_single_args(args)
        doc = rules.render(ctx, resource, rules.existing(ctx, resource, object_id))
        return 200, jsonutil.dumps(query.apply_select(doc, query.parse_select(args)))
    if args:
        raise bad_request(*(f"property {k} should not exist" for k in args))
    if op.name == "create":
        return 201, jsonutil.dumps(rules.create(ctx, resource, parse_body(data)))
    if op.name == "update":
        return 200, jsonutil.dumps(rules.update(ctx, resource, object_id, parse_body(data)))
    return 200, jsonutil.dumps(rules.delete(ctx, resource, object_id))


def _singleton_answer(
    ctx: Context, single: Singleton, method: str, args: MultiDict[str, str], data: bytes
) -> dict[str, Any]:
    if args:
        raise bad_request(*(f"property {k} should not exist" for k in args))
    if single.path == "account":
        return {"status": ctx.store.account_status(ctx.org)}
    current = ctx.store.get_singleton(ctx.org, single.path)
    if method == "GET":
        return current
    clean, errors = validate(parse_body(data), single.fields)
    if errors:
        raise bad_request(*errors)
    if (
        single.path == "invoicing-settings"
        and clean.get("automaticBillRun") is True
        and ctx.store.account_status(ctx.org) != "active"
    ):
        raise server_error(
            "The automatic bill run can only be enabled when the account status is Active"
        )
    if single.path == "storefront":
        rules.check_references(ctx, clean)
    updated = {**current, **clean}
    ctx.store.put_singleton(ctx.org, single.path, updated)
    return updated
