"""Payments: saved cards, charges, and the `full` profile's invoice and collection endpoints.

What `flexctl check --smoke-test` needs to take a real small payment end to end:
- `payment-details` (a real v2 endpoint, on both profiles): POST `{type: stripe, method: card,
  data: <token>, member|company, isPersonal}`; DELETE `/{id}` takes the documented `member` /
  `company` parameters. Tokens are Stripe's test tokens; the card they stand for decides the
  outcome: `tok_visa`, `tok_mastercard` succeed, `tok_chargeDeclined`,
  `tok_insufficientFunds`, `tok_expiredCard` decline. A card needs a Stripe gateway, which on
  the `officernd` profile only a seed can connect (as only the admin UI can on the platform).
- `POST payments` `{member|company, fees: [ids]}` (emulator-only: the real API cannot create
  an invoice) issues an invoice for one-off fees; `DELETE payments/{id}` voids and removes it,
  with its charges, releasing its fees.
- `POST payments/{id}/collect` (emulator-only) charges the customer's saved card through the
  organization's default gateway and records a `charges` document, `success` or `fail`.
`HANDLERS` names the operations answered here; the other operations of these resources
(lists, single reads, deleting a charge) are the generic ones.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from flexctl.emulator import jsonutil
from flexctl.emulator.context import Context
from flexctl.emulator.errors import bad_request, not_found, server_error
from flexctl.emulator.invoices import issue_invoice, owner, void_invoice
from flexctl.emulator.resources import CHARGES, PAYMENT_DETAILS, PAYMENTS
from flexctl.emulator.rules import delete, existing, render
from flexctl.emulator.validation import validate

# (ctx, object id, query args, body) -> (status, answer)
Handler = Callable[[Context, str, MultiDict[str, str], dict[str, Any]], tuple[int, Any]]


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


def _gateways(ctx: Context) -> list[dict[str, Any]]:
    return [jsonutil.loads(doc) for _, doc in
            ctx.store.page(ctx.org, "payment-gateways", [], limit=1_000_000)]


def add_payment_details(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    clean, errors = validate(body, PAYMENT_DETAILS.fields, required=PAYMENT_DETAILS.required)
    if errors:
        raise bad_request(*errors)
    kind, owner_id = owner(ctx, clean)
    if kind == "company" and not any(
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
        "company": clean.get("company"), "isPersonal": kind == "member",
        "details": {"id": source, "name": None, "brand": card.brand, "funding": "credit",
                    "expirationMonth": 12, "expirationYear": 2034, "country": "US",
                    "cvcCheck": "pass", "last4": card.last4},
        "paymentCustomer": "cus_" + secrets.token_hex(7), "paymentSource": source,
        "locations": [],
    }
    return ctx.store.insert(ctx.org, PAYMENT_DETAILS.path, ctx.stamp(doc, created=True))


def collect(ctx: Context, payment_id: str) -> dict[str, Any]:
    """Charge the invoice's customer through the default gateway; record the charge."""
    invoice = existing(ctx, PAYMENTS, payment_id)
    if invoice.get("status") in ("paid", "voided"):
        raise server_error(f"The invoice is already {invoice['status']}")
    gateway = _default_gateway(ctx)
    kind = "member" if invoice.get("member") else "company"
    saved = ctx.store.find(ctx.org, PAYMENT_DETAILS.path, kind, invoice.get(kind))
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
    stored = ctx.store.insert(ctx.org, CHARGES.path, ctx.stamp(charge, created=True))
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


def _add_card(
    ctx: Context, object_id: str, args: MultiDict[str, str], body: dict[str, Any]
) -> tuple[int, Any]:
    return 201, render(ctx, PAYMENT_DETAILS, add_payment_details(ctx, body))


def _remove_card(
    ctx: Context, object_id: str, args: MultiDict[str, str], body: dict[str, Any]
) -> tuple[int, Any]:
    card = existing(ctx, PAYMENT_DETAILS, object_id)
    if any(key in args and args[key] != card.get(key) for key in PARAMS[REMOVE_CARD]):
        raise not_found(object_id)  # not this customer's card
    return 200, delete(ctx, PAYMENT_DETAILS, object_id)


def _invoice(
    ctx: Context, object_id: str, args: MultiDict[str, str], body: dict[str, Any]
) -> tuple[int, Any]:
    return 201, issue_invoice(ctx, body)


def _collect(
    ctx: Context, object_id: str, args: MultiDict[str, str], body: dict[str, Any]
) -> tuple[int, Any]:
    return 201, collect(ctx, object_id)


def _void(
    ctx: Context, object_id: str, args: MultiDict[str, str], body: dict[str, Any]
) -> tuple[int, Any]:
    return 200, void_invoice(ctx, object_id)


REMOVE_CARD = (PAYMENT_DETAILS.path, "delete")
# The query parameters a write takes (the others are a 400): documented for removing a card.
PARAMS: dict[tuple[str, str], tuple[str, ...]] = {REMOVE_CARD: ("member", "company")}
HANDLERS: dict[tuple[str, str], Handler] = {
    (PAYMENT_DETAILS.path, "create"): _add_card,
    REMOVE_CARD: _remove_card,
    (PAYMENTS.path, "create"): _invoice,
    (PAYMENTS.path, "collect"): _collect,
    (PAYMENTS.path, "delete"): _void,
}
