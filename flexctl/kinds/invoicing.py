"""Invoicing automation (Settings > Billing > Invoicing): bill run, sending, collection, Pay
Now. Emulator `full` profile only; omitted settings are not managed. The automatic bill run
can only be turned on once the account status is Active."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase, Model
from flexctl.kinds._fields import Field
from flexctl.kinds._singleton import SingletonKind
from flexctl.kinds.base import MoneyContext, Obj, RuleContext
from flexctl.kinds.money import NO_EFFECT, Effect, MoneyEffect, changed_fields

COLLECTION = "automatic_payment_collection"
GATEWAYS = "gateways"
BILL_RUN = "automatic_bill_run"
# What turning each setting on or off does to future invoices (collection and the bill run
# together move money by themselves: see `money_effect`).
EFFECTS = {
    BILL_RUN: "invoices are issued at each bill run without anyone issuing them",
    "automatic_sending": "invoices are sent to customers as soon as they are issued",
    COLLECTION: "saved cards and mandates are charged for invoices as they fall due",
    "pay_now_button": "customers can pay invoices online",
}
BILL_RUN_BLOCKED = "the account status is onboarding; the automatic bill run needs Active"


class Invoicing(Model):
    """Settings > Billing > Invoicing. An omitted field is not managed."""

    automatic_bill_run: bool | None = None
    """The bill run issues invoices on each customer's billing day (needs an Active account)."""
    automatic_sending: bool | None = None
    """Invoices are emailed to customers when issued."""
    automatic_payment_collection: bool | None = None
    """Saved cards and mandates are charged when an invoice is due."""
    pay_now_button: bool | None = None
    """Invoices carry a Pay Now button for online payment."""


class InvoicingSettings(SingletonKind):
    name = "invoicing"
    noun = "invoicing settings"
    plural = "invoicing settings"
    rank = 10
    api_path = "invoicing-settings"
    scope_prefix = "flex.settings.billing"
    portal = "Settings > Billing > Invoicing"
    export_file = "invoicing.yaml"
    model = Invoicing
    section_description = "Settings > Billing > Invoicing; an omitted field is not managed."
    unreadable_reason = "the OfficeRnD public API does not expose the invoicing automation settings"
    fields_map = (
        Field("automatic_bill_run", "automaticBillRun", "bool"),
        Field("automatic_sending", "automaticSending", "bool"),
        Field("automatic_payment_collection", "automaticPaymentCollection", "bool"),
        Field("pay_now_button", "payNowButton", "bool"),
    )
    updatable = frozenset(f.name for f in fields_map)
    expected_fields = frozenset({f.api for f in fields_map})

    def desired(self, config: ConfigBase, secrets: SecretResolver) -> list[Obj]:
        """The settings, applied only after the plan's gateways: automatic payment collection
        must not start before the gateway it collects through exists."""
        gateways = config.section(GATEWAYS) or {}
        return [replace(obj, meta={**obj.meta, "after": tuple(f"{GATEWAYS}.{key}"
                                                              for key in gateways)})
                for obj in super().desired(config, secrets)]

    def comes_after(self, obj: Obj) -> set[str]:
        return set(obj.meta.get("after", ()))

    def refuse_change(
        self,
        obj: Obj,
        live: Obj | None,
        changed: Sequence[str],
        fixed: Sequence[str],
        ctx: RuleContext,
    ) -> str | None:
        if obj.fields.get("automatic_bill_run") is not True:
            return None
        if live is not None and live.fields.get("automatic_bill_run") is True:
            return None
        if ctx.account_status != "onboarding":
            return None
        return f"{BILL_RUN_BLOCKED}: {ctx.activation}"

    def verify_note(self, obj: Obj) -> str:
        if obj.fields.get("automatic_bill_run") is True:
            return "The automatic bill run can only be enabled once the account status is Active."
        return ""

    def money_effect(self, before: Obj | None, after: Obj | None, ctx: MoneyContext) -> MoneyEffect:
        """Turning on automatic payment collection moves money now: customers' saved cards and
        mandates are charged without anyone approving an invoice. So does turning on the bill
        run while collection is on: invoices are then issued and charged by themselves."""
        if after is None:
            return NO_EFFECT
        was = before.fields if before is not None else {}
        changed = changed_fields(was, after.fields, EFFECTS)
        if not changed:
            return NO_EFFECT
        words = "; ".join(
            f"{f} turned {'on' if after.fields[f] else 'off'}: "
            f"{EFFECTS[f] if after.fields[f] else 'no longer automatic'}"
            for f in changed
        )
        collects = after.fields.get(COLLECTION, was.get(COLLECTION)) is True
        turned_on = [f for f in (COLLECTION, BILL_RUN) if f in changed and after.fields[f]]
        if turned_on and (COLLECTION in turned_on or collects):
            return MoneyEffect(Effect.NOW, note=words)
        return MoneyEffect(Effect.FUTURE, note=words)
