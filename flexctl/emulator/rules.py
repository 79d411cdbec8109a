"""Business rules: what a create, update or delete does beyond field validation.

References must exist (the real API answers 500 "Specified plan was not found"), membership
and fee rules from the reference (section 4.3, 4.4), invoiced history cannot be deleted, and
the emulator-only gateway secret is write-only (only its last four characters are kept).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flexctl.emulator import jsonutil
from flexctl.emulator.clock import Clock
from flexctl.emulator.errors import bad_request, not_found, server_error
from flexctl.emulator.resources import Resource
from flexctl.emulator.store import Store
from flexctl.emulator.validation import is_object_id, validate

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


@dataclass(frozen=True)
class Context:
    store: Store
    org: str
    clock: Clock


def check_references(ctx: Context, values: dict[str, Any], resource_path: str = "") -> None:
    for name, value in values.items():
        if name not in REFERENCES or value is None:
            continue
        kinds, message = REFERENCES[name]
        if name == "plan" and resource_path == "fees":
            kinds = FEE_PLAN_KINDS
        for object_id in value if isinstance(value, list) else [value]:
            if not any(ctx.store.get_raw(ctx.org, k, object_id) for k in kinds):
                raise server_error(message)


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
    clean, errors = validate(body, resource.fields, required=resource.required)
    _fail_on(errors)
    _BEFORE_CREATE.get(resource.path, _nothing)(ctx, clean)
    check_references(ctx, clean, resource.path)
    merged = {**_fresh_defaults(resource), **clean}
    # Documents list their fields in the resource's order, whatever order the body used.
    doc = {k: merged.pop(k) for k in resource.fields if k in merged} | merged
    if object_id is not None:  # seed fixtures may pin ids
        doc["_id"] = object_id
    _AFTER_MERGE.get(resource.path, _nothing)(ctx, doc)
    return render(ctx, resource, ctx.store.insert(ctx.org, resource.path, doc))


def update(
    ctx: Context, resource: Resource, object_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    current = existing(ctx, resource, object_id)
    clean, errors = validate(body, resource.updatable())
    _fail_on(errors)
    _BEFORE_UPDATE.get(resource.path, _nothing_update)(ctx, current, clean)
    check_references(ctx, clean, resource.path)
    merged = {**current, **clean}
    _AFTER_MERGE.get(resource.path, _nothing)(ctx, merged)
    if merged != current:  # a no-op PUT does not bump modifiedAt (reference 4.4)
        merged["modifiedAt"] = ctx.clock.iso_now()
        ctx.store.replace(ctx.org, resource.path, merged)
    return render(ctx, resource, merged)


def delete(ctx: Context, resource: Resource, object_id: str) -> dict[str, Any]:
    current = existing(ctx, resource, object_id)
    _BEFORE_DELETE.get(resource.path, _nothing_update)(ctx, current, {})
    ctx.store.delete(ctx.org, resource.path, object_id)
    return render(ctx, resource, current)


def render(ctx: Context, resource: Resource, doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the API shows it (computed fields added, write-only fields removed)."""
    if resource.path == "memberships":
        return {**doc, "calculatedStatus": membership_status(doc, ctx.clock.iso_now())}
    return doc


def membership_status(doc: dict[str, Any], now: str) -> str:
    if doc.get("status") == "not_approved":
        return "not_approved"
    if doc["startDate"] > now:
        return "not_started"
    if doc.get("endDate") and doc["endDate"] < now:
        return "expired"
    return "active"


def _fresh_defaults(resource: Resource) -> dict[str, Any]:
    # Defaults hold lists and dicts; each document gets its own copies.
    return {
        k: (v.copy() if isinstance(v, list | dict) else v) for k, v in resource.defaults.items()
    }


def _nothing(ctx: Context, doc: dict[str, Any]) -> None:
    return None


def _nothing_update(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    return None


# -- memberships -------------------------------------------------------------------------------


def _membership_create(ctx: Context, clean: dict[str, Any]) -> None:
    owner = "member" if clean.get("isPersonal") else "company"
    errors = [f"{owner} should not be empty"] if not clean.get(owner) else []
    if clean.get("type") == "fixed" and not clean.get("endDate"):
        errors.append("endDate should not be empty")
    _fail_on(errors)
    _check_dates(clean.get("startDate"), clean.get("endDate"))


def _membership_update(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    start = clean.get("startDate", current["startDate"])
    invoiced = ctx.store.is_invoiced(ctx.org, "memberships", current["_id"])
    if start != current["startDate"] and invoiced:
        raise server_error("Cannot change the start date of a membership that has been invoiced")
    _check_dates(start, clean.get("endDate", current.get("endDate")))


def _check_dates(start: str | None, end: str | None) -> None:
    if start and end and end < start:
        raise server_error("End date must be after the start date")


def _membership_delete(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    if ctx.store.is_invoiced(ctx.org, "memberships", current["_id"]):
        raise server_error("Cannot delete a membership that has been invoiced")


# -- fees ----------------------------------------------------------------------------------------


def _fee_create(ctx: Context, clean: dict[str, Any]) -> None:
    if not clean.get("company") and not clean.get("member"):
        raise bad_request("company should not be empty")


def _fee_merge(ctx: Context, doc: dict[str, Any]) -> None:
    is_rate = ctx.store.get_raw(ctx.org, "resource-rates", doc["plan"]) is not None
    doc["planType"] = "ResourceRate" if is_rate else "Plan"


def _fee_update(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    if current.get("payment"):
        raise server_error("Cannot update a fee that has been invoiced")


def _fee_delete(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    if current.get("payment") or ctx.store.is_invoiced(ctx.org, "fees", current["_id"]):
        raise server_error("Cannot delete a fee that has been invoiced")


# -- members, accounts, rates, gateways --------------------------------------------------------


def _member_email(ctx: Context, clean: dict[str, Any], self_id: str | None = None) -> None:
    email = clean.get("email")
    if not email:
        return
    for other in ctx.store.find_email(ctx.org, email):
        if other != self_id:
            raise server_error(f"A member with email {email} already exists")


def _member_update(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    _member_email(ctx, clean, current["_id"])


def _keep_sub_ids(current: dict[str, Any], clean: dict[str, Any], field: str) -> None:
    # A PUT re-sending the same sub-documents without ids must not mint new ids (which would
    # make every such PUT a change); an unchanged sub-document keeps its id.
    old = {_content(item): item["_id"] for item in current.get(field) or []}
    for item in clean.get(field) or []:
        if "_id" not in item and _content(item) in old:
            item["_id"] = old.pop(_content(item))


def _content(item: dict[str, Any]) -> str:
    return jsonutil.dumps({k: item[k] for k in sorted(item) if k != "_id"})


def _rate_update(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    _keep_sub_ids(current, clean, "rates")


def _tax_update(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    if "rate" in clean and "components" not in clean:
        clean["components"] = []  # a new flat rate replaces the old components
    _keep_sub_ids(current, clean, "components")


def _account_delete(ctx: Context, current: dict[str, Any], clean: dict[str, Any]) -> None:
    if current.get("defaultFor"):
        raise server_error("Default revenue accounts cannot be deleted")


def _with_ids(ctx: Context, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"_id": item.get("_id") or ctx.store.new_id(), **item} for item in items]


def _rate_merge(ctx: Context, doc: dict[str, Any]) -> None:
    doc["rates"] = _with_ids(ctx, doc.get("rates", []))


def _tax_merge(ctx: Context, doc: dict[str, Any]) -> None:
    components = doc.get("components")
    if not components:
        rate = doc.get("rate", Decimal(0))
        components = [{"name": doc["name"], "rate": rate}]
    doc["components"] = _with_ids(ctx, components)
    doc["rate"] = sum((Decimal(c.get("rate", 0)) for c in doc["components"]), Decimal(0))


def _gateway_merge(ctx: Context, doc: dict[str, Any]) -> None:
    # The secret is write-only and never stored: only what the platform shows is kept.
    if "secret" in doc:
        secret = doc.pop("secret")
        doc["secretLast4"] = secret[-4:] if secret else None
    doc.setdefault("secretLast4", None)


def _webhook_merge(ctx: Context, doc: dict[str, Any]) -> None:
    # The platform generates the signing secret (reference 5) and shows it on the webhook.
    doc.setdefault("secret", secrets.token_hex(16))


_BEFORE_CREATE = {
    "memberships": _membership_create,
    "fees": _fee_create,
    "members": _member_email,
}
_BEFORE_UPDATE = {
    "memberships": _membership_update,
    "fees": _fee_update,
    "members": _member_update,
    "tax-rates": _tax_update,
    "resource-rates": _rate_update,
}
_BEFORE_DELETE = {
    "memberships": _membership_delete,
    "fees": _fee_delete,
    "revenue-accounts": _account_delete,
}
_AFTER_MERGE = {
    "fees": _fee_merge,
    "resource-rates": _rate_merge,
    "tax-rates": _tax_merge,
    "payment-gateways": _gateway_merge,
    "webhooks": _webhook_merge,
}
