"""Each resource's own business rules: what a write checks or adds beyond field validation.

Memberships and fees follow what the platform was seen to do (its exact messages); invoiced
history cannot be changed or deleted; member emails are unique; rate and tax components keep
their ids; the emulator-only gateway secret is write-only (only its last four characters are
kept); a membership shows its computed status, and its empty fields as the dialect says; saved
cards do not show their owner. `rules` calls these hooks; the ones a resource does not define
do nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flexctl.emulator import jsonutil
from flexctl.emulator.context import Context
from flexctl.emulator.errors import server_error
from flexctl.emulator.validation import normalize_date

Doc = dict[str, Any]


def _no_errors(clean: Doc) -> list[str]:
    return []


def _nothing(ctx: Context, doc: Doc) -> None:
    return None


def _nothing_update(ctx: Context, current: Doc, values: Doc) -> None:
    return None


@dataclass(frozen=True)
class Policy:
    """One resource's hooks, in the order a write runs them."""

    # 400s, collected with the field errors: rules across fields (class-validator in a DTO).
    create_errors: Callable[[Doc], list[str]] = _no_errors
    # Before any validation, with the raw body: what the platform checks first.
    guard_update: Callable[[Context, Doc, Doc], None] = _nothing_update
    # 500s of the service, after references were found.
    before_create: Callable[[Context, Doc], None] = _nothing
    before_update: Callable[[Context, Doc, Doc], None] = _nothing_update
    before_delete: Callable[[Context, Doc], None] = _nothing
    # The stored document, complete: computed fields.
    after_merge: Callable[[Context, Doc], None] = _nothing
    # How the API shows a stored document (alone: a GET by id); None: as stored.
    show: Callable[[Context, Doc, bool], Doc] | None = None


# -- memberships -------------------------------------------------------------------------------


def _membership_errors(clean: Doc) -> list[str]:
    errors = []
    if clean.get("isPersonal"):
        if not clean.get("member"):
            errors.append("A member field must be provided if the isPersonal field is set to true.")
    elif not clean.get("company"):
        errors.append("A company field must be provided if the isPersonal field is set to false.")
    if clean.get("type") == "fixed" and not clean.get("endDate"):
        errors.append("End date is required for fixed memberships")
    return errors


def _discounts(ctx: Context, doc: Doc) -> None:
    # The emulator knows no discounts: nothing is taken off the price.
    doc.update(discountAmount=0, calculatedDiscountAmount=0, discountedPrice=doc.get("price", 0))


def _membership_create(ctx: Context, clean: Doc) -> None:
    _check_dates(clean.get("startDate"), clean.get("endDate"))


def _membership_guard(ctx: Context, current: Doc, body: Doc) -> None:
    # The platform refuses a new start date of an invoiced membership before it even
    # validates the date's format.
    if "startDate" not in body:
        return
    given = body["startDate"]
    start = normalize_date(given) if isinstance(given, str) else None
    if start != current["startDate"] and ctx.store.is_invoiced(
        ctx.org, "memberships", current["_id"]
    ):
        raise server_error("Cannot update membership's start date when the membership is invoiced")


def _membership_update(ctx: Context, current: Doc, clean: Doc) -> None:
    start = clean.get("startDate", current["startDate"])
    _check_dates(start, clean.get("endDate", current.get("endDate")))


def _check_dates(start: str | None, end: str | None) -> None:
    if start and end and end < start:  # equal dates are accepted
        raise server_error("Membership startDate should be before the endDate")


def _membership_delete(ctx: Context, current: Doc) -> None:
    if ctx.store.is_invoiced(ctx.org, "memberships", current["_id"]):
        raise server_error("Cannot delete invoiced membership")


def _membership_show(ctx: Context, doc: Doc, single: bool) -> Doc:
    # calculatedStatus depends on today: computed on every read.
    shown = {**doc, "calculatedStatus": membership_status(doc, ctx.clock.iso_now())}
    # A membership stores an end date, its non-owner (company or member) and properties only
    # when it has them (or, for endDate, when a write set it to null).
    style = ctx.dialect.single_get if single else "empty"
    other = "company" if doc.get("isPersonal") else "member"
    if style == "empty":  # as lists show them
        return {**shown, "endDate": doc.get("endDate"), other: doc.get(other),
                "properties": doc.get("properties") or {}}
    if style == "null":
        return {**shown, "endDate": doc.get("endDate"), other: doc.get(other),
                "properties": doc.get("properties") or None}
    return {k: v for k, v in shown.items() if not (k in (other, "properties") and not v)}


def membership_status(doc: Doc, now: str) -> str:
    if doc.get("status") == "not_approved":
        return "not_approved"
    if doc["startDate"] > now:
        return "not_started"
    if doc.get("endDate") and doc["endDate"] < now:
        return "expired"
    return "active"


# -- fees ----------------------------------------------------------------------------------------


def _fee_errors(clean: Doc) -> list[str]:
    if not clean.get("company") and not clean.get("member"):
        return ["company should not be empty"]
    return []


def _fee_merge(ctx: Context, doc: Doc) -> None:
    _discounts(ctx, doc)
    is_rate = ctx.store.get_raw(ctx.org, "resource-rates", doc["plan"]) is not None
    doc["planType"] = "ResourceRate" if is_rate else "Plan"


def _fee_update(ctx: Context, current: Doc, clean: Doc) -> None:
    if current.get("payment"):
        raise server_error("Cannot update a fee that has been invoiced")


def _fee_delete(ctx: Context, current: Doc) -> None:
    if current.get("payment") or ctx.store.is_invoiced(ctx.org, "fees", current["_id"]):
        raise server_error("Cannot delete a fee that has been invoiced")


# -- members, accounts, rates, taxes, gateways, webhooks ---------------------------------------


def _card_show(ctx: Context, doc: Doc, single: bool) -> Doc:
    # Stored to find a customer's cards; the platform's answer does not show them.
    return {k: v for k, v in doc.items() if k not in ("member", "company", "isPersonal")}


def _member_email(ctx: Context, clean: Doc, self_id: str | None = None) -> None:
    email = clean.get("email")
    if not email:
        return
    for other in ctx.store.find_email(ctx.org, email):
        if other != self_id:
            raise server_error(f"A member with email {email} already exists")


def _member_update(ctx: Context, current: Doc, clean: Doc) -> None:
    _member_email(ctx, clean, current["_id"])


def _keep_sub_ids(current: Doc, clean: Doc, field: str) -> None:
    # A PUT re-sending the same sub-documents without ids must not mint new ids (which would
    # make every such PUT a change); an unchanged sub-document keeps its id.
    old = {_content(item): item["_id"] for item in current.get(field) or []}
    for item in clean.get(field) or []:
        if "_id" not in item and _content(item) in old:
            item["_id"] = old.pop(_content(item))


def _content(item: Doc) -> str:
    return jsonutil.dumps({k: item[k] for k in sorted(item) if k != "_id"})


def _rate_update(ctx: Context, current: Doc, clean: Doc) -> None:
    _keep_sub_ids(current, clean, "rates")


def _tax_update(ctx: Context, current: Doc, clean: Doc) -> None:
    if "rate" in clean and "components" not in clean:
        clean["components"] = []  # a new flat rate replaces the old components
    _keep_sub_ids(current, clean, "components")


def _account_delete(ctx: Context, current: Doc) -> None:
    if current.get("defaultFor"):
        raise server_error("Default revenue accounts cannot be deleted")


def _with_ids(ctx: Context, items: Iterable[Doc]) -> list[Doc]:
    return [{"_id": item.get("_id") or ctx.store.new_id(), **item} for item in items]


def _rate_merge(ctx: Context, doc: Doc) -> None:
    doc["rates"] = _with_ids(ctx, doc.get("rates", []))


def _tax_merge(ctx: Context, doc: Doc) -> None:
    components = doc.get("components")
    if not components:
        rate = doc.get("rate", Decimal(0))
        components = [{"name": doc["name"], "rate": rate}]
    doc["components"] = _with_ids(ctx, components)
    doc["rate"] = sum((Decimal(c.get("rate", 0)) for c in doc["components"]), Decimal(0))


def _gateway_merge(ctx: Context, doc: Doc) -> None:
    # The secret is write-only and never stored: only what the platform shows is kept.
    if "secret" in doc:
        secret = doc.pop("secret")
        doc["secretLast4"] = secret[-4:] if secret else None
    doc.setdefault("secretLast4", None)


def _webhook_merge(ctx: Context, doc: Doc) -> None:
    # The platform generates the signing secret and shows it on the webhook.
    doc.setdefault("secret", secrets.token_hex(16))


DEFAULT = Policy()
POLICIES: dict[str, Policy] = {
    "memberships": Policy(
        create_errors=_membership_errors, guard_update=_membership_guard,
        before_create=_membership_create, before_update=_membership_update,
        before_delete=_membership_delete, after_merge=_discounts, show=_membership_show,
    ),
    "payment-details": Policy(show=_card_show),
    "fees": Policy(
        create_errors=_fee_errors, before_update=_fee_update, before_delete=_fee_delete,
        after_merge=_fee_merge,
    ),
    "members": Policy(before_create=_member_email, before_update=_member_update),
    "revenue-accounts": Policy(before_delete=_account_delete),
    "resource-rates": Policy(before_update=_rate_update, after_merge=_rate_merge),
    "tax-rates": Policy(before_update=_tax_update, after_merge=_tax_merge),
    "payment-gateways": Policy(after_merge=_gateway_merge),
    "webhooks": Policy(after_merge=_webhook_merge),
}


def policy(path: str) -> Policy:
    return POLICIES.get(path, DEFAULT)
