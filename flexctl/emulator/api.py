"""Answering the Flex v2 operations: lists, counts, single reads, writes and settings.

`handle` runs one resolved `Operation` (see `routes`) inside the request's transaction and
returns the status and JSON text. Payment operations with their own rules are answered by
`billing.HANDLERS`; everything else is the generic dialect.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from flexctl.emulator import billing, jsonutil, query, rules
from flexctl.emulator.context import Context
from flexctl.emulator.errors import bad_request, server_error, unauthorized
from flexctl.emulator.resources import Singleton
from flexctl.emulator.routes import Operation
from flexctl.emulator.validation import validate


def handle(
    ctx: Context, op: Operation, method: str, args: MultiDict[str, str], body: dict[str, Any]
) -> tuple[int, str]:
    """Answer one operation: (status, JSON text). Runs inside the request's transaction."""
    org = ctx.store.organization(ctx.org)
    if org is None:
        raise server_error("Organization not found")
    if op.name == "organization":
        shown = {k: org[k] for k in ("_id", "name", "slug")}
        region = ctx.dialect.region_url(ctx.origin)
        extra = {"regionInfo": {"regionUrl": region}} if region else {}
        return 200, jsonutil.dumps({**shown, "imageUrl": None, "description": None, **extra})
    if op.singleton is not None:
        return 200, jsonutil.dumps(_singleton_answer(ctx, op.singleton, method, args, body))
    resource = op.resource
    assert resource is not None
    if op.name not in ("list", "count", "get"):
        query.refuse_params(args, billing.PARAMS.get((resource.path, op.name), ()))
    special = billing.HANDLERS.get((resource.path, op.name))
    if special is not None:
        status, answer = special(ctx, op.object_id or "", args, body)
        return status, jsonutil.dumps(answer)
    if op.name == "list":
        render = rules.renderer(ctx, resource)
        return 200, query.list_page(ctx.store, ctx.org, resource, args, ctx.dialect, render,
                                    shaping=ctx.shaping)
    if op.name == "count":
        return 200, jsonutil.dumps(query.count_answer(ctx.store, ctx.org, resource, args))
    object_id = op.object_id or ""
    if op.name == "get":  # like the platform's, it ignores every query parameter ($select too)
        doc = rules.existing(ctx, resource, object_id)
        return 200, jsonutil.dumps(rules.render(ctx, resource, doc, single=True))
    if op.name == "create":
        return 201, jsonutil.dumps(rules.create(ctx, resource, body))
    if op.name == "update":
        return 200, jsonutil.dumps(rules.update(ctx, resource, object_id, body))
    return 200, jsonutil.dumps(rules.delete(ctx, resource, object_id))


def _singleton_answer(
    ctx: Context, single: Singleton, method: str, args: MultiDict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    query.refuse_params(args)
    if single.path == "account":
        return {"status": ctx.store.account_status(ctx.org)}
    current = ctx.store.get_singleton(ctx.org, single.path)
    if single.path == "billing-settings":
        return _billing_settings(ctx, current)
    if method == "GET":
        return current
    clean, errors = validate(body, single.fields)
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


def _billing_settings(ctx: Context, current: dict[str, Any]) -> dict[str, Any]:
    variant = ctx.dialect.billing_settings
    if variant == "unauthorized":  # the scope exists, but no application is granted it
        raise unauthorized()
    if variant == "no-currency":
        return {k: v for k, v in current.items() if k != "currency"}
    return current
