"""The organization's currency for `flexctl export`: the public API names it only on invoices.

Its billing settings are never read (their shape is undocumented and their scope may not be
grantable); `--currency` wins, then a configuration of the same organization, then invoices.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flexctl.config.loader import peek
from flexctl.errors import AuthError, NoRouteError, TargetError, ValidationError
from flexctl.platform.client import FlexClient

INVOICES = "payments"  # the platform's invoices, credit notes and overpayments


def configured_currency(paths: Sequence[Path], org: str) -> str | None:
    """The `currency` of the first configuration of `org` among `paths` (read unvalidated:
    a value that is not a three-letter code is passed over)."""
    for path in paths:
        currency = peek(path, "currency")
        if peek(path, "organization") == org and currency and len(currency) == 3 \
                and currency.isalpha():
            return currency
    return None


def live_currency(client: FlexClient) -> str:
    """The organization's currency as its invoices show it (the public API has no documented
    settings that name it); a clear `TargetError` when there is no invoice to read, or its
    read is refused (a 401: the application lacks the scope)."""
    fix = "pass --currency (e.g. --currency EUR)"
    try:
        for invoice in client.list(INVOICES, select=("currency",),
                                   filters={"documentType": "invoice"}):
            currency = invoice.get("currency")
            if isinstance(currency, str) and len(currency) == 3 and currency.isalpha():
                client.learned.learn("currency", currency.upper(), "read from an invoice")
                return currency.upper()
    except (AuthError, NoRouteError, ValidationError) as exc:
        raise TargetError(f"cannot tell the organization's currency: reading its invoices "
                          f"failed ({exc}); {fix}") from None
    raise TargetError(f"cannot tell the organization's currency: no invoice names one yet; {fix}")
