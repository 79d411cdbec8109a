"""Payments in the emulator's `full` profile: saved cards, one-off invoices and collection.

What `flexctl check --smoke-test` needs to take a real small payment end to end:
- `payment-details` (a real v2 endpoint, reference 4.9): GET list (filter `member`/`company`),
  POST `{type: stripe, method: card, data: <token>, member|company, isPersonal}`, GET/DELETE
  `/{id}`. Tokens are Stripe's test tokens; the card they stand for decides the outcome:
  `tok_visa`, `tok_mastercard` succeed, `tok_chargeDeclined`, `tok_insufficientFunds`,
  `tok_expiredCard` decline.
- `POST payments` `{member|company, fees: [ids]}` (emulator-only: the real API cannot create
  an invoice) issues an invoice for one-off fees; `DELETE payments/{id}` voids and removes it,
  with its charges, releasing its fees.
- `POST payments/{id}/collect` (emulator-only) charges the customer's saved card through the
  organization's default gateway and records a `charges` document, `success` or `fail`.
- `charges` (real, reference 4.8): GET list (filters `payment`, `status`), GET/DELETE `/{id}`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from flexctl.emulator import jsonutil, query
from flexctl.emulator.api import Operation, cannot, parse_body
from flexctl.emulator.errors import bad_request, not_found, server_error
from flexctl.emulator.harness import create_invoice
from flexctl.emulator.resources import ID, Resource
from flexctl.emulator.rules import Context, check_references
from flexctl.emulator.validation import F, is_object_id, validate

PAYMENT_DETAILS = Resource(
    "payment-details",
    "flex.billing.paymentDetails",
    fields={
        "type": F("enum", ("stripe",)), "method": F("enum", ("card",)), "data": F("string"),
        "member": ID, "company": ID, "isPersonal": F("boolean"),
    },
    required=("type", "method", "data"),
    filters={"_id": "id", "member": "id", "company": "id"},
    writable=False,
)
CHARGES = Resource(
    "charges",
    "flex.billing.charges",
    filters={"_id": "id", "payment": "id", "status": "enum", "source": "string"},
    in_filters=frozenset({"_id", "status"}),
    writable=False,
)
_INVOICE_FIELDS = {"member": ID, "company": ID, "fees": F("ids")}
_PREFIX = "billing:"
# Scope stems; the emulator grants them on the full profile only.
_SCOPES = {
    "payment-details": PAYMENT_DETAILS.scope,
    "charges": CHARGES.scope,
    "payments": "flex.billing.payments",
}


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    decline_code: str | None = None
    decline_message: str | None = None


# Stripe's test tokens (https://docs.stripe.com/testing), by the card they stand for.
TEST_CARDS: dict[str, TestCard] = {
    "tok_visa": TestCard("Visa", "4242"),
    "tok_mastercard": TestCard("MasterCard", "4444"),
    "tok_chargeDeclined": TestCard("Visa", "0002", "card_declined", "Your card was declined."),
    "tok_insufficientFunds": TestCard(
        "Visa", "9995", "insufficient_funds", "Your card has insufficient funds."
    ),
    "tok_expiredCard": TestCard("Visa", "0069", "expired_card", "Your card has expired."),
}
_BY_LAST4 = {card.last4: card for card in TEST_CARDS.values()}


def scopes(profile: str) -> frozenset[str]:
    if profile != "full":
        return frozenset()
    actions = {
        "payment-details": ("read", "create", "delete"),
        "charges": ("read", "delete"),
        "payments": ("create", "update", "delete"),
    }
    return frozenset(f"{_SCOPES[n]}.{a}" for n, acts in actions.items() for a in acts)


def resolve(method: str, path: str, profile: str, org: str, rest: list[str]) -> Operation | None:
    """The billing operation a request names, or None to let the regular routes answer."""
    name = rest[0]
    if name not in _SCOPES or profile != "full":
        return None
    object_id = rest[1] if len(rest) > 1 else None
    routes = {
        "payment-details": {(1, "GET"): "list", (1, "POST"): "create",
                            (2, "GET"): "get", (2, "DELETE"): "delete"},
        "charges": {(1, "GET"): "list", (2, "GET"): "get", (2, "DELETE"): "delete"},
        "payments": {(1, "POST"): "invoice", (2, "DELETE"): "void"},
    }[name]
    action = routes.get((len(rest), method))
    if name == "payments" and len(rest) == 3 and rest[2] == "collect" and method == "POST":
        action = "collect"
    if action is None:
        if name == "payments" and method == "GET":
            return None  # listing and reading invoices are the regular read-only routes
        raise cannot(method, path)
    verb = {"list": "read", "get": "read", "invoice": "create", "collect": "update",
            "void": "delete"}.get(action, action)
    return Operation(f"{_PREFIX}{name}:{action}", org, f"{_SCOPES[name]}.{verb}",
                     object_id=object_id)


def is_billing(op: Operation) -> bool:
    return op.name.startswith(_PREFIX)


def handle(
    ctx: Context, op: Operation, method: str, args: MultiDict[str, str], data: bytes
) -> tuple[int, str]:
    name, action = op.name[len(_PREFIX) :].split(":")
    resource = PAYMENT_DETAILS if name == "payment-details" else CHARGES
    if action == "list":
        return 200, query.list_page(ctx.store, ctx.org, resource, args)
    if args:
        raise bad_request(*(f"property {k} should not exist" for k in args))
    object_id = op.object_id or ""
    if action == "get":
        return 200, jsonutil.dumps(_existing(ctx, resource.path, object_id))
    if action == "delete":
        doc = _existing(ctx, resource.path, object_id)
        ctx.store.delete(ctx.org, resource.path, object_id)
        return 200, jsonutil.dumps(doc)
    if action == "create":
        return 201, jsonutil.dumps(add_payment_details(ctx, parse_body(data)))
    if action == "invoice":
        return 201, jsonutil.dumps(issue_invoice(ctx, parse_body(data)))
    if action == "collect":
        return 201, jsonutil.dumps(collect(ctx, object_id))
    return 200, jsonutil.dumps(void_invoice(ctx, object_id))


def _existing(ctx: Context, kind: str, object_id: str) -> dict[str, Any]:
    doc = ctx.store.get(ctx.org, kind, object_id) if is_object_id(object_id) else None
    if doc is None:
        raise not_found(object_id)
    return doc


def _owner(ctx: Context, clean: dict[str, Any]) -> tuple[str, str]:
    """("member" | "company", id): exactly one customer, which must exist."""
    given = [k for k in ("member", "company") if clean.get(k)]
    if len(given) != 1:
        raise bad_request("exactly one of member or company should be given")
    check_references(ctx, {given[0]: clean[given[0]]})
    return given[0], str(clean[given[0]])


def _gateways(ctx: Context) -> list[dict[str, Any]]:
    return [jsonutil.loads(doc) for _, doc in
            ctx.store.page(ctx.org, "payment-gateways", [], limit=1_000_000)]


def add_payment_details(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    clean, errors = validate(body, PAYMENT_DETAILS.fields, required=PAYMENT_DETAILS.required)
    if errors:
        raise bad_request(*errors)
    owner, owner_id = _owner(ctx, clean)
    if owner == "company" and not any(
        m.get("isBillingPerson") for m in ctx.store.find(ctx.org, "members", "company", owner_id)
    ):
        raise server_error("The company needs a billing person before adding payment details")
    if not any(g.get("provider") == "stripe" for g in _gateways(ctx)):
        raise server_error("No Stripe payment gateway is connected")
    card = TEST_CARDS.get(str(clean["data"]))
    if card is None:
        raise bad_request(f"No such token: '{clean['data']}' (use a Stripe test token)")
    source = "card_" + secrets.token_hex(12)
    doc: dict[str, Any] = {
        "type": "stripe", "method": "card", "member": clean.get("member"),
        "company": clean.get("company"), "isPersonal": owner == "member",
        "details": {"id": source, "name": None, "brand": card.brand, "funding": "credit",
                    "expirationMonth": 12, "expirationYear": 2034, "country": "US",
                    "cvcCheck": "pass", "last4": card.last4},
        "paymentCustomer": "cus_" + secrets.token_hex(7), "paymentSource": source,
        "locations": [],
    }
    return ctx.store.insert(ctx.org, PAYMENT_DETAILS.path, doc)


def issue_invoice(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """An invoice for one-off fees of one customer (what the bill run would produce)."""
    clean, errors = validate(body, _INVOICE_FIELDS, required=("fees",))
    if errors:
        raise bad_request(*errors)
    owner, owner_id = _owner(ctx, clean)
    for fee_id in clean["fees"]:
        fee = _existing(ctx, "fees", fee_id)
        if fee.get(owner) != owner_id:
            raise server_error(f"Fee {fee_id} does not belong to the given {owner}")
        if fee.get("payment") or ctx.store.is_invoiced(ctx.org, "fees", fee_id):
            raise server_error(f"Fee {fee_id} has already been invoiced")
    return create_invoice(ctx, {"fees": clean["fees"]})


def collect(ctx: Context, payment_id: str) -> dict[str, Any]:
    """Charge the invoice's customer through the default gateway; record the charge."""
    invoice = _existing(ctx, "payments", payment_id)
    if invoice.get("status") in ("paid", "voided"):
        raise server_error(f"The invoice is already {invoice['status']}")
    gateway = _default_gateway(ctx)
    owner = "member" if invoice.get("member") else "company"
    saved = ctx.store.find(ctx.org, PAYMENT_DETAILS.path, owner, invoice.get(owner))
    if not saved:
        raise server_error("The customer has no saved payment method")
    card = _BY_LAST4.get(str(saved[-1]["details"]["last4"]), TEST_CARDS["tok_visa"])
    amount = Decimal(str(invoice.get("pendingAmount", invoice.get("total", 0))))
    charge = {
        "amount": amount, "currency": invoice.get("currency"), "account": gateway["account"],
        "reference": invoice.get("number"), "date": ctx.clock.iso_now(), "source": "stripe",
        "status": "fail" if card.decline_code else "success", "payment": payment_id,
        "providerChargeReference": "ch_" + secrets.token_hex(12),
        "failureCode": card.decline_code, "failureMessage": card.decline_message,
    }
    stored = ctx.store.insert(ctx.org, CHARGES.path, charge)
    paid = card.decline_code is None
    invoice.update({
        "status": "paid" if paid else "failed", "isPaid": paid, "isFailed": not paid,
        "paidAmount": amount if paid else 0, "pendingAmount": 0 if paid else amount,
        "chargeMethod": "card", "modifiedAt": ctx.clock.iso_now(),
    })
    ctx.store.replace(ctx.org, "payments", invoice)
    return stored


def _default_gateway(ctx: Context) -> dict[str, Any]:
    gateways = _gateways(ctx)
    chosen = next((g for g in gateways if g.get("isDefault")), None)
    if chosen is None and len(gateways) == 1:
        chosen = gateways[0]
    if chosen is None:
        raise server_error(
            "No default payment gateway is connected (Settings > Integrations > Payment Gateways)"
        )
    if chosen.get("provider") != "stripe":
        raise server_error(
            f"The default payment gateway ({chosen.get('provider')}) cannot charge a card"
        )
    if not chosen.get("secretLast4"):
        raise server_error("The Stripe gateway has no secret key: reconnect it")
    return chosen


def void_invoice(ctx: Context, payment_id: str) -> dict[str, Any]:
    """Void and remove an invoice with its charges; its fees become uninvoiced again."""
    invoice = _existing(ctx, "payments", payment_id)
    for charge in ctx.store.find(ctx.org, CHARGES.path, "payment", payment_id):
        ctx.store.delete(ctx.org, CHARGES.path, charge["_id"])
    for fee in ctx.store.find(ctx.org, "fees", "payment._id", payment_id):
        fee.pop("payment", None)
        ctx.store.replace(ctx.org, "fees", fee)
    with ctx.store.transaction():
        # The store has no "uninvoice"; this extension is the only thing that needs one.
        ctx.store.conn.execute(
            "DELETE FROM invoiced WHERE org = ? AND payment = ?", (ctx.org, payment_id)
        )
    ctx.store.delete(ctx.org, "payments", payment_id)
    return {**invoice, "status": "voided"}
