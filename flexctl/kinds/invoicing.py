"""Invoicing automation (Settings > Billing > Invoicing): bill run, sending, collection, Pay
Now. Emulator `full` profile only; the automatic bill run needs the account status Active.
Omitted settings are not managed."""

from __future__ import annotations

from flexctl.kinds._keyed import Field
from flexctl.kinds._singleton import SingletonKind


class Invoicing(SingletonKind):
    name = "invoicing"
    rank = 10
    section = "invoicing"
    api_path = "invoicing-settings"
    scope_prefix = "flex.settings.billing"
    portal = "Settings > Billing > Invoicing"
    unreadable_reason = "the OfficeRnD public API does not expose the invoicing automation settings"
    fields_map = (
        Field("automatic_bill_run", "automaticBillRun", "bool"),
        Field("automatic_sending", "automaticSending", "bool"),
        Field("automatic_payment_collection", "automaticPaymentCollection", "bool"),
        Field("pay_now_button", "payNowButton", "bool"),
    )
    updatable = frozenset(f.name for f in fields_map)
