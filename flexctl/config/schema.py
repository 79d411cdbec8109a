"""The JSON Schema of the configuration format, generated from the models.

Generated, never hand-written, so it cannot drift from the code; `schemas/flexctl.schema.json`
is a committed copy that a test keeps current. Editors use it through the modeline
`# yaml-language-server: $schema=<path>/flexctl.schema.json`, and many of them implement only
draft-07, so the output sticks to keywords both drafts read the same way: `$ref` into `$defs`
is a plain JSON pointer, and the OpenAPI-only `discriminator` keyword is left out.
"""

from __future__ import annotations

import json
from typing import Any

from flexctl.config.models import KEYED_SECTIONS, SLUG_PATTERN, Config

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:flexctl:config:v1"


# Hover help for editors, keyed by model and field. Generation fails if a field is renamed.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Config": {
        "version": "Format version; always 1.",
        "organization": "Slug of the OfficeRnD organization this configuration describes.",
        "currency": "ISO 4217 code; every amount is an exact decimal in this currency.",
        "locations": "Existing locations, bound by code or name.",
        "gateways": "Payment gateways; secrets are {env: NAME} or {file: PATH} references.",
        "plans": "Billing plans: recurring memberships and one-off services.",
        "rates": "Resource rates for bookable spaces.",
        "companies": "Customer companies, with their memberships and fees.",
        "members": "Customer members (matched by email), with their memberships and fees.",
        "invoicing": "Settings > Billing > Invoicing; an omitted field is not managed.",
        "storefront": "Growth Hub storefront: what non-members can buy online.",
        "policy": "What flexctl may delete, and its safety threshold.",
    },
    "Plan": {
        "billing": "recurring (monthly membership) or one_off (day pass, printing, deposit).",
        "price": "Amount in the currency; a one-off plan's unit price may have 4 decimals.",
        "locations": "Location keys where the plan is offered; omitted = all.",
        "revenue_account": "Key of a revenue account.",
    },
    "Rate": {
        "unit": "hour (meeting rooms) or day (desks, event spaces).",
        "off_hours_price": "hour rates: price outside business hours.",
        "full_day_price": "hour rates: cap for a whole day.",
        "half_day_price": "day rates: price for half a day.",
        "week_price": "day rates: price for a week.",
        "month_price": "day rates: price for a month.",
        "weekend_price": "Price on weekends (hour or day rates).",
    },
    **{
        gateway: {
            "default": "The default gateway of its locations; at most one per location.",
            "locations": "Location keys; omitted = all locations.",
        }
        for gateway in (
            "StripeGateway",
            "GoCardlessGateway",
            "AuthorizeNetGateway",
            "PayPalGateway",
            "BankTransferGateway",
        )
    },
    "Membership": {
        "plan": "Key of a recurring plan.",
        "start": "First day (YYYY-MM-DD).",
        "end": "Last day, inclusive; omitted = open-ended.",
        "price": "Overrides the plan's price.",
        "location": "Location key; omitted = the customer's location.",
    },
    "Fee": {
        "plan": "Key of a one-off plan.",
        "price": "Unit price (up to 4 decimals); omitted = the plan's price.",
        "name": "Invoice line name; omitted = the plan's name.",
    },
    "Member": {"email": "Members are matched by email, ignoring case; unique."},
    "Policy": {
        "prune": "Kinds whose live objects missing from the config are deleted.",
        "max_change_ratio": "Updates and deletes over existing objects of a kind (10+) that "
        "block a plan unless forced.",
    },
}


def json_schema() -> dict[str, Any]:
    """The schema as a dict: Draft 2020-12, readable by draft-07 editors."""
    generated = Config.model_json_schema(mode="validation")
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "flexctl configuration (version 1)",
        "description": "OfficeRnD Flex billing configuration as code; see the flexctl README.",
    }
    # An editor checks each file on its own, and a configuration split over a directory has
    # `version`, `organization` and `currency` in one file only: whether they are present is
    # checked by `flexctl validate` on the merged configuration, not here.
    schema.update(
        (key, value) for key, value in generated.items() if key not in ("title", "required")
    )
    for section in KEYED_SECTIONS:
        schema["properties"][section]["propertyNames"] = {"pattern": SLUG_PATTERN}
    for model, fields in DESCRIPTIONS.items():
        properties = (
            schema["properties"] if model == "Config" else schema["$defs"][model]["properties"]
        )
        for field, description in fields.items():
            properties[field]["description"] = description
    _tidy(schema)
    return schema


def _tidy(node: Any) -> None:
    """Drop `discriminator`; give number fields numeric defaults (pydantic writes "0.3")."""
    if isinstance(node, dict):
        node.pop("discriminator", None)
        default = node.get("default")
        if node.get("type") == "number" and isinstance(default, str):
            number = float(default)
            node["default"] = int(number) if number.is_integer() else number
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for value in node:
            _tidy(value)


def schema_text() -> str:
    """The schema as the text `flexctl schema` prints and the repository commits."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
