"""Writes and reads of one document, in the order the platform checks things.

A create runs: field validation and the resource's cross-field rules (one 400 listing every
problem), then the database's view: a reference that is not an ObjectId is a cast error (500),
one that does not exist is `Specified plan was not found` and the like (500), an empty
required string is `Path 'name' is required.` (500), then the resource's business rules
(`policies`). An update that changes nothing does not bump `modifiedAt`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from flexctl.emulator.context import Context
from flexctl.emulator.errors import bad_request, not_found, server_error
from flexctl.emulator.policies import policy
from flexctl.emulator.resources import Resource
from flexctl.emulator.validation import F, is_object_id, validate

# field -> (collection(s) it may point to, the 500 message when it does not exist)
REFERENCES: dict[str, tuple[tuple[str, ...], str]] = {
    "location": (("locations",), "Specified office was not found"),
    "locations": (("locations",), "Specified office was not found"),
    "plan": (("plans",), "Specified plan was not found"),
    "plans": (("plans",), "Specified plan was not found"),
    "resourceRates": (("resource-rates",), "Specified resource rate was not found"),
    "company": (("companies",), "Specified company was not found"),
    "member": (("members",), "Specified member was not found"),
    "revenueAccount": (("revenue-accounts",), "Specified revenue account was not found"),
    "taxRate": (("tax-rates",), "Specified tax rate was not found"),
}
FEE_PLAN_KINDS = ("plans", "resource-rates")
# What Mongoose answers for a reference that is not an ObjectId.
CAST_ERROR = (
    'Cast to ObjectId failed for value "{value}" (type string) at path "{path}" '
    'because of "BSONError"'
)


def _ids(value: Any) -> list[Any]:
    return [v for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]


def check_references(ctx: Context, values: Mapping[str, Any], resource_path: str = "") -> None:
    """Every reference must be an ObjectId (else a cast error) of an existing object."""
    for name, value in values.items():
        if name not in REFERENCES:
            continue
        kinds, message = REFERENCES[name]
        if name == "plan" and resource_path == "fees":
            kinds = FEE_PLAN_KINDS
        for object_id in _ids(value):
            if not is_object_id(object_id):
                raise server_error(CAST_ERROR.format(value=object_id, path=name))
            if not any(ctx.store.get_raw(ctx.org, k, object_id) for k in kinds):
                raise server_error(message)


def _check_cast(values: Mapping[str, Any], fields: Mapping[str, F]) -> None:
    for name, spec in fields.items():
        if spec.kind in ("id", "ids") and name not in REFERENCES:
            for value in _ids(values.get(name)):
                if not is_object_id(value):
                    raise server_error(CAST_ERROR.format(value=value, path=name))


def _check_filled(values: Mapping[str, Any], required: tuple[str, ...]) -> None:
    for name in required:
        if values.get(name) == "":
            raise server_error(f"Path '{name}' is required.")


def _fail_on(errors: list[str]) -> None:
    if errors:
        raise bad_request(*errors)


def existing(ctx: Context, resource: Resource, object_id: str) -> dict[str, Any]:
    doc = ctx.store.get(ctx.org, resource.path, object_id) if is_object_id(object_id) else None
    if doc is None:
        raise not_found(object_id)
    return doc


def create(
    ctx: Context, resource: Resource, body: dict[str, Any], object_id: str | None = None
) -> dict[str, Any]:
    rules = policy(resource.path)
    refused = ctx.dialect.refused_on_create(resource.path)
    fields = {k: v for k, v in resource.fields.items() if k not in refused}
    required = (*resource.required, *ctx.dialect.required_on_create(resource.path))
    clean, errors = validate(body, fields, required=required)
    _fail_on(errors + rules.create_errors(clean))
    _check_cast(clean, resource.fields)
    check_references(ctx, clean, resource.path)
    _check_filled(clean, required)
    rules.before_create(ctx, clean)
    merged = {**_fresh_defaults(resource), **clean}
    # Documents list their fields in the resource's order, whatever order the body used.
    doc = {k: merged.pop(k) for k in resource.fields if k in merged} | merged
    if object_id is not None:  # seed fixtures may pin ids
        doc["_id"] = object_id
    rules.after_merge(ctx, doc)
    stored = ctx.store.insert(ctx.org, resource.path, ctx.stamp(doc, created=True))
    return render(ctx, resource, stored)


def update(
    ctx: Context, resource: Resource, object_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    rules = policy(resource.path)
    current = existing(ctx, resource, object_id)
    rules.guard_update(ctx, current, body)
    clean, errors = validate(body, resource.updatable())
    _fail_on(errors)
    _check_cast(clean, resource.fields)
    check_references(ctx, clean, resource.path)
    _check_filled(clean, resource.required)
    rules.before_update(ctx, current, clean)
    merged = {**current, **clean}
    rules.after_merge(ctx, merged)
    if _meaning(merged) != _meaning(current):  # a no-op PUT does not bump modifiedAt
        merged["modifiedAt"] = ctx.clock.iso_now()
        ctx.stamp(merged)
    if merged != current:
        ctx.store.replace(ctx.org, resource.path, merged)
    return render(ctx, resource, merged)


def _meaning(doc: Mapping[str, Any]) -> dict[str, Any]:
    # An absent field and a null one mean the same (`PUT {endDate: null}` on an open-ended
    # membership changes nothing).
    return {k: v for k, v in doc.items() if v is not None}


def delete(ctx: Context, resource: Resource, object_id: str) -> dict[str, Any]:
    current = existing(ctx, resource, object_id)
    policy(resource.path).before_delete(ctx, current)
    ctx.store.delete(ctx.org, resource.path, object_id)
    return render(ctx, resource, current)


def render(
    ctx: Context, resource: Resource, doc: dict[str, Any], *, single: bool = False
) -> dict[str, Any]:
    """The document as the API shows it: in a list (and a write's answer), or alone (`single`,
    a GET by id)."""
    show = policy(resource.path).show
    return doc if show is None else show(ctx, doc, single)


def renderer(ctx: Context, resource: Resource) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """How a list shows each document; None when the stored one is the answer."""
    return partial(render, ctx, resource) if policy(resource.path).show else None


def _fresh_defaults(resource: Resource) -> dict[str, Any]:
    # Defaults hold lists and dicts; each document gets its own copies.
    return {
        k: (v.copy() if isinstance(v, list | dict) else v) for k, v in resource.defaults.items()
    }
