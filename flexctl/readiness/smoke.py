"""`flexctl check --smoke-test`: "test with a small charge first", done for real and undone.

A tagged test member (`properties: {flexctl: smoke-test}`) gets a test card, a one-off fee of a
small amount, an invoice for it, and a payment collected through the organization's default
gateway; every step is reported. Whatever happens — a decline, an error, Ctrl-C — what was
created is removed again (invoice voided with its charge, fee, card, member), and anything that
could not be removed is named with its id. Every precondition is checked before the first
write: on a target that cannot do a step, nothing at all is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from flexctl.config.types import ConfigBase
from flexctl.errors import FlexctlError
from flexctl.kinds.base import Obj, Profile
from flexctl.readiness.checklist import is_connected
from flexctl.state.snapshot import Snapshot

TAG = {"flexctl": "smoke-test"}
# What the smoke test needs besides flexctl's usual scopes (emulator `full` profile).
SMOKE_SCOPES = (
    "flex.billing.paymentDetails.read", "flex.billing.paymentDetails.create",
    "flex.billing.paymentDetails.delete", "flex.billing.charges.read",
    "flex.billing.charges.delete", "flex.billing.payments.create",
    "flex.billing.payments.update", "flex.billing.payments.delete",
)
UNSUPPORTED = (
    "the OfficeRnD public API cannot create an invoice for a one-off charge (invoices come only "
    "from the bill run) nor collect a payment, so a test charge cannot be made through it; do it "
    "by hand: add a small one-off fee to a test member (Billing > Fees), issue its invoice, "
    "charge it with a test card, then void the invoice and delete the fee and the member"
)


class Outcome(StrEnum):
    PASSED = "passed"  # the payment cleared
    DECLINED = "declined"  # the gateway refused the card: not ready to get paid
    FAILED = "failed"  # a step failed with an error
    NOT_RUN = "not_run"  # a precondition or the target's capabilities: nothing written


class SmokeClient(Protocol):
    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, path: str, id: str) -> None: ...


@dataclass
class SmokeStep:
    name: str
    ok: bool
    message: str


@dataclass
class SmokeResult:
    outcome: Outcome
    reason: str | None = None
    steps: list[SmokeStep] = field(default_factory=list)
    cleanup: list[SmokeStep] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)  # "members/<id>" not removed
    charge: str = ""  # "1.00 EUR with test card tok_visa"


@dataclass(frozen=True)
class SmokePlan:
    """What the smoke test will use, all found before anything is written."""

    plan_id: str
    plan_name: str
    location_id: str
    gateway: str  # "stripe acct_1..."


def prepare(snapshot: Snapshot, config: ConfigBase) -> SmokePlan | str:
    """The plan of the smoke test, or why it cannot run on this target."""
    if snapshot.target.get("profile") != Profile.FULL.value:
        return UNSUPPORTED
    gateways = [g for g in snapshot.objects.get("gateways", ()) if is_connected(g)]
    default = next((g for g in gateways if g.fields.get("default")), None)
    chosen = default if default is not None else (gateways[0] if len(gateways) == 1 else None)
    if chosen is None or chosen.fields.get("provider") != "stripe":
        return ("no default Stripe gateway is connected (step 1), so there is nothing to charge "
                "a test card through")
    plan = _one_off_plan(snapshot, config)
    if plan is None:
        return "no one-off plan exists (step 2) to put the test charge on"
    locations = snapshot.objects.get("locations", ())
    if not locations:
        return "the organization has no location to give the test member"
    return SmokePlan(
        plan_id=str(plan.id),
        plan_name=str(plan.fields.get("name")),
        location_id=str(sorted(locations, key=lambda o: str(o.id))[0].id),
        gateway=f"{chosen.fields.get('provider')} {chosen.fields.get('account')}",
    )


def _one_off_plan(snapshot: Snapshot, config: ConfigBase) -> Obj | None:
    """A one-off plan the config declares (the first), else the first one live."""
    live = [p for p in snapshot.objects.get("plans", ()) if p.fields.get("billing") == "one_off"]
    by_address = {p.address: p for p in live}
    for key, plan in config.section("plans").items():
        if plan.billing == "one_off" and f"plans.{key}" in by_address:
            return by_address[f"plans.{key}"]
    return min(live, key=lambda p: str(p.id)) if live else None


def run_smoke_test(
    client: SmokeClient,
    plan: SmokePlan,
    *,
    amount: Decimal,
    card: str,
    currency: str,
    today: date,
    progress: Callable[[SmokeStep], None] = lambda step: None,
) -> SmokeResult:
    """Charge `amount` to a test member with `card`, report each step, then clean up."""
    result = SmokeResult(Outcome.FAILED, charge=f"{amount} {currency} with test card {card}")
    created: list[tuple[str, str, str]] = []  # (path, id, what) in creation order

    def step(name: str, ok: bool, message: str) -> None:
        result.steps.append(SmokeStep(name, ok, message))
        progress(result.steps[-1])

    try:
        _charge(client, plan, amount, card, currency, today, created, step, result)
    except FlexctlError as exc:
        result.outcome, result.reason = Outcome.FAILED, str(exc)
        step("error", False, str(exc))
    finally:
        _clean_up(client, created, result, progress)
    return result


def _charge(
    client: SmokeClient,
    plan: SmokePlan,
    amount: Decimal,
    card: str,
    currency: str,
    today: date,
    created: list[tuple[str, str, str]],
    step: Callable[[str, bool, str], None],
    result: SmokeResult,
) -> None:
    email = f"smoke-test+{secrets.token_hex(4)}@flexctl.invalid"
    member = client.create("members", {
        "name": "flexctl smoke test", "email": email, "location": plan.location_id,
        "properties": dict(TAG),
    })
    created.append(("members", str(member["_id"]), f"test member {email}"))
    step("member", True, f"created the test member {email}")
    details = client.create("payment-details", {
        "type": "stripe", "method": "card", "data": card, "member": member["_id"],
        "isPersonal": True,
    })
    created.append(("payment-details", str(details["_id"]), "test card"))
    shown = details.get("details") or {}
    step("card", True, f"saved the test card {shown.get('brand', '')} …{shown.get('last4', '')}")
    fee = client.create("fees", {
        "name": f"{plan.plan_name} (flexctl smoke test)", "plan": plan.plan_id,
        "member": member["_id"], "isPersonal": True, "location": plan.location_id,
        "issueDate": f"{today.isoformat()}T00:00:00.000Z", "price": amount, "quantity": 1,
        "properties": dict(TAG),
    })
    created.append(("fees", str(fee["_id"]), "one-off fee"))
    step("fee", True, f"added a one-off fee of {amount} {currency} ({plan.plan_name})")
    invoice = client.create("payments", {"member": member["_id"], "fees": [fee["_id"]]})
    created.append(("payments", str(invoice["_id"]), f"invoice {invoice.get('number', '')}"))
    step("invoice", True, f"issued invoice {invoice.get('number')} for {invoice.get('total')} "
                          f"{invoice.get('currency') or currency}")
    charge = client.create(f"payments/{invoice['_id']}/collect", {})
    if charge.get("status") == "success":
        result.outcome = Outcome.PASSED
        step("payment", True, f"collected {charge.get('amount')} {currency} through "
                              f"{plan.gateway} (charge {charge.get('providerChargeReference')})")
        return
    message = str(charge.get("failureMessage") or f"charge status {charge.get('status')}")
    result.outcome, result.reason = Outcome.DECLINED, f"the payment was declined: {message}"
    step("payment", False, f"the payment through {plan.gateway} was declined: {message}")


def _clean_up(
    client: SmokeClient,
    created: list[tuple[str, str, str]],
    result: SmokeResult,
    progress: Callable[[SmokeStep], None],
) -> None:
    # Reverse order: the invoice first (voiding it frees the fee), the member last.
    for path, object_id, what in reversed(created):
        try:
            client.delete(path, object_id)
        except FlexctlError as exc:
            result.left_behind.append(f"{path}/{object_id}")
            result.cleanup.append(SmokeStep("cleanup", False, f"could not remove {what}: {exc}"))
        else:
            verb = "voided" if path == "payments" else "removed"
            result.cleanup.append(SmokeStep("cleanup", True, f"{verb} the {what}"))
        progress(result.cleanup[-1])
