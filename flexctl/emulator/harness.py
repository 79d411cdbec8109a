"""Test-harness endpoints under `/_emulator/`: outside the Flex dialect, no token needed.

reset, account status, faults, invoices (to make memberships and fees "invoiced"), stats and
info. They exist so tests and benchmarks can arrange the platform's state directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flexctl.emulator import jsonutil
from flexctl.emulator.api import cannot, parse_body
from flexctl.emulator.errors import HttpError, bad_request, not_found
from flexctl.emulator.rules import Context
from flexctl.emulator.store import ACCOUNT_STATUSES
from flexctl.emulator.validation import is_object_id

if TYPE_CHECKING:
    from flexctl.emulator.app import Emulator

PREFIX = "/_emulator/"


def handle(app: Emulator, method: str, path: str, data: bytes) -> tuple[int, str]:
    parts = path[len(PREFIX) :].strip("/").split("/")
    route = (method, *parts)
    if route == ("POST", "reset"):
        app.reset()
        return 200, '{"reset":true}'
    if parts == ["faults"] and method in ("GET", "POST", "DELETE"):
        return 200, jsonutil.dumps(_faults(app, method, data))
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
                ctx = Context(app.store, parts[1], app.clock)
                return 201, jsonutil.dumps(create_invoice(ctx, parse_body(data)))
    raise cannot(method, path)


def _faults(app: Emulator, method: str, data: bytes) -> dict[str, Any]:
    if method == "DELETE":
        app.faults.clear()
    elif method == "POST":
        try:
            app.faults.configure(jsonutil.loads(data) if data.strip() else None)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
    return app.faults.describe()


def _account(app: Emulator, org: str, body: dict[str, Any]) -> dict[str, Any]:
    status = body.get("status")
    if status not in ACCOUNT_STATUSES:
        allowed = ", ".join(ACCOUNT_STATUSES)
        raise bad_request(f"status must be one of the following values: {allowed}")
    app.store.set_account_status(org, status)
    return {"status": app.store.account_status(org)}


def create_invoice(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Invoice the given memberships and fees: one `payments` document, and mark them invoiced."""
    if not ctx.store.org_exists(ctx.org):
        raise HttpError(500, "Organization not found")
    unknown = set(body) - {"memberships", "fees"}
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
    invoice = _invoice(ctx, payment_id, picked[0][1], lines)
    ctx.store.insert(ctx.org, "payments", invoice)
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
