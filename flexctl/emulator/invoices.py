"""Invoices (`payments` documents): what the platform's bill run would produce.

The public API cannot create an invoice, so the emulator makes them here for its test harness
and seeds (memberships and fees become "invoiced", which the platform's business rules
depend on) and for the `full` profile's `POST payments` (an invoice for one-off fees) and
`DELETE payments/{id}` (void it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flexctl.emulator.context import Context
from flexctl.emulator.errors import bad_request, not_found, server_error
from flexctl.emulator.resources import FEES, PAYMENTS
from flexctl.emulator.rules import check_references, existing
from flexctl.emulator.validation import F, is_object_id, validate

_INVOICE_FIELDS = {"member": F("id"), "company": F("id"), "fees": F("ids")}


CUSTOMERS = {"company": "companies", "member": "members"}  # field -> collection


def create_invoice(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Invoice the given memberships and fees: one `payments` document, and mark them invoiced."""
    if not ctx.store.org_exists(ctx.org):
        raise server_error("Organization not found")
    unknown = set(body) - {"memberships", "fees", "company", "member"}
    if unknown:
        raise bad_request(*(f"property {k} should not exist" for k in sorted(unknown)))
    picked: list[tuple[str, dict[str, Any]]] = []
    for kind in ("memberships", "fees"):
        ids = body.get(kind, [])
        if not isinstance(ids, list) or not all(is_object_id(i) for i in ids):
            raise bad_request(f"each value in {kind} must be a mongodb id")
        for object_id in ids:
            doc = ctx.store.get(ctx.org, kind, object_id)
            if doc is None:
                raise not_found(object_id)
            picked.append((kind, doc))
    if not picked:
        raise bad_request("memberships or fees should not be empty")
    payment_id = ctx.store.new_id()
    lines = [_line(kind, doc) for kind, doc in picked]
    # Addressed to the first object's customers, or to the one customer the body names (the
    # platform may address a member's membership to the member's company).
    named = {k: body[k] for k in CUSTOMERS if body.get(k)}
    for field, value in named.items():
        if not is_object_id(value) or ctx.store.get(ctx.org, CUSTOMERS[field], value) is None:
            raise bad_request(f"{field} must be the id of an existing {field}")
    addressed = picked[0][1]
    if named:
        addressed = {**addressed, "company": None, "member": None, **named}
    invoice = _invoice(ctx, payment_id, addressed, lines)
    invoice = ctx.store.insert(ctx.org, "payments", ctx.stamp(invoice, created=True))
    for kind, doc in picked:
        ctx.store.mark_invoiced(ctx.org, kind, doc["_id"], payment_id)
        if kind == "fees":
            doc["payment"] = {"_id": payment_id, "status": "awaiting_payment", "creditNote": None}
            doc["modifiedAt"] = ctx.clock.iso_now()
            ctx.store.replace(ctx.org, "fees", doc)
    return invoice


def _line(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    quantity = Decimal(doc.get("quantity", 1)) if kind == "fees" else Decimal(1)
    price = Decimal(doc.get("price", 0))
    total = price * quantity
    return {
        "description": doc["name"], "quantity": quantity, "unitPrice": price, "price": price,
        "subTotal": total, "total": total, "taxPercent": 0, "taxAmount": 0,
        "plan": doc.get("plan"), "location": doc.get("location"),
        "fee": doc["_id"] if kind == "fees" else None,
        "memberships": [doc["_id"]] if kind == "memberships" else [],
        "fees": [doc["_id"]] if kind == "fees" else [],
        "startDate": doc.get("startDate") if kind == "memberships" else doc.get("issueDate"),
        "endDate": doc.get("endDate") if kind == "memberships" else None,
    }


def _invoice(
    ctx: Context, payment_id: str, first: dict[str, Any], lines: list[dict[str, Any]]
) -> dict[str, Any]:
    total = sum((line["total"] for line in lines), Decimal(0))
    number = ctx.store.count(ctx.org, "payments") + 1
    today = datetime.fromtimestamp(ctx.clock.now(), UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    currency = ctx.store.get_singleton(ctx.org, "billing-settings").get("currency", "EUR")
    return {
        "_id": payment_id, "number": f"INV-{number:05d}", "documentType": "invoice",
        "date": _iso(today), "dueDate": _iso(today + timedelta(days=7)),
        "company": first.get("company"), "member": first.get("member"),
        "location": first.get("location"), "reference": None, "taxType": "excluded",
        "lines": lines, "taxAmounts": [], "allocations": [], "subTotal": total, "amount": total,
        "payableAmount": total, "total": total, "paidAmount": 0, "pendingAmount": total,
        "allocatedAmount": 0, "currency": currency, "isFailed": False, "isPaid": False,
        "isSent": False, "status": "awaiting_payment",
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def owner(ctx: Context, clean: dict[str, Any]) -> tuple[str, str]:
    """("member" | "company", id): exactly one customer, which must exist."""
    given = [k for k in ("member", "company") if clean.get(k)]
    if len(given) != 1:
        raise bad_request("exactly one of member or company should be given")
    check_references(ctx, {given[0]: clean[given[0]]})
    return given[0], str(clean[given[0]])


def issue_invoice(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """An invoice for one-off fees of one customer (`POST payments`, emulator-only)."""
    clean, errors = validate(body, _INVOICE_FIELDS, required=("fees",))
    if errors:
        raise bad_request(*errors)
    kind, owner_id = owner(ctx, clean)
    for fee_id in clean["fees"]:
        fee = existing(ctx, FEES, fee_id)
        if fee.get(kind) != owner_id:
            raise server_error(f"Fee {fee_id} does not belong to the given {kind}")
        if fee.get("payment") or ctx.store.is_invoiced(ctx.org, "fees", fee_id):
            raise server_error(f"Fee {fee_id} has already been invoiced")
    return create_invoice(ctx, {"fees": clean["fees"]})


def void_invoice(ctx: Context, payment_id: str) -> dict[str, Any]:
    """Void and remove an invoice with its charges; its fees become uninvoiced again."""
    invoice = existing(ctx, PAYMENTS, payment_id)
    for charge in ctx.store.find(ctx.org, "charges", "payment", payment_id):
        ctx.store.delete(ctx.org, "charges", charge["_id"])
    for fee in ctx.store.find(ctx.org, "fees", "payment._id", payment_id):
        fee.pop("payment", None)
        ctx.store.replace(ctx.org, "fees", fee)
    ctx.store.unmark_invoiced(ctx.org, payment_id)
    ctx.store.delete(ctx.org, "payments", payment_id)
    return {**invoice, "status": "voided"}
