"""Payment gateways (emulator `full` profile only: the OfficeRnD public API exposes none).

The secret of a gateway (Stripe secret key, GoCardless access token, ...) is compared by its
fingerprint, "…" plus the last four characters, which is what the platform shows
(`secretLast4`). The reference itself stays in `meta["secret_refs"]` so apply can read the
value when a create or a key change must send it (API field `secret`, write-only).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, StringConstraints
from pydantic import Field as ModelField

from flexctl.config.rules import Checker
from flexctl.config.secrets import FINGERPRINT_PREFIX, SecretResolver, ref_to_dict
from flexctl.config.types import ConfigBase, Model, ObjectId, Ref, SecretRef, looks_like_a_key
from flexctl.kinds import _values as v
from flexctl.kinds._fields import EXTENSION, Field
from flexctl.kinds._keyed import KeyedKind
from flexctl.kinds.base import MoneyContext, Obj, RuleContext
from flexctl.kinds.money import NO_EFFECT, Effect, MoneyEffect, changed_fields
from flexctl.kinds.refs import RefMap


class _Gateway(Model):
    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live gateway this entry is pinned to."""
    account: Annotated[str, StringConstraints(min_length=1)]
    """The account's public identifier at the provider (e.g. acct_... on Stripe); never a
    secret."""
    locations: list[Ref] | None = ModelField(
        None, description="Location keys; omitted = all locations."
    )
    default: bool = ModelField(
        False, description="The default gateway of its locations; at most one per location."
    )


def _publishable(value: str) -> str:
    # A secret or restricted key pasted here would be shown in every plan; never echo it.
    if looks_like_a_key(value):
        raise ValueError("this is a secret key, not a publishable one (pk_...); put it in "
                         "secret_key as {env: NAME} or {file: PATH} and rotate it")
    return value


class StripeGateway(_Gateway):
    provider: Literal["stripe"]
    """The payment provider."""
    secret_key: SecretRef
    """Where to read the Stripe secret key (sk_...): {env: NAME} or {file: PATH}."""
    publishable_key: Annotated[str, AfterValidator(_publishable)] | None = None
    """The Stripe publishable key (pk_...), which is not secret."""


class GoCardlessGateway(_Gateway):
    provider: Literal["gocardless"]
    """The payment provider."""
    access_token: SecretRef
    """Where to read the GoCardless access token: {env: NAME} or {file: PATH}."""


class AuthorizeNetGateway(_Gateway):
    provider: Literal["authorize_net"]
    """The payment provider."""
    transaction_key: SecretRef
    """Where to read the Authorize.Net transaction key: {env: NAME} or {file: PATH}."""


class PayPalGateway(_Gateway):
    provider: Literal["paypal"]
    """The payment provider."""
    client_secret: SecretRef
    """Where to read the PayPal client secret: {env: NAME} or {file: PATH}."""


class BankTransferGateway(_Gateway):
    provider: Literal["bank_transfer"]
    """The payment provider."""
    instructions: str | None = None
    """What invoices tell customers about paying by bank transfer."""


Gateway = Annotated[
    StripeGateway | GoCardlessGateway | AuthorizeNetGateway | PayPalGateway | BankTransferGateway,
    ModelField(discriminator="provider"),
]
# Provider -> the fields holding its secret (the platform keeps one, write-only, per gateway).
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "stripe": ("secret_key",),
    "gocardless": ("access_token",),
    "authorize_net": ("transaction_key",),
    "paypal": ("client_secret",),
    "bank_transfer": (),
}
ALL_SECRET_FIELDS = frozenset(f for fields in SECRET_FIELDS.values() for f in fields)


def secret_field(provider: str) -> str | None:
    fields = SECRET_FIELDS.get(provider, ())
    return fields[0] if fields else None


def is_connected(gateway: Obj) -> bool:
    """Whether a live gateway has its secret (a bank transfer needs none)."""
    name = secret_field(str(gateway.fields.get("provider")))
    return name is None or gateway.fields.get(name) is not None


class Gateways(KeyedKind):
    name = "gateways"
    noun = "gateway"
    plural = "gateways"
    portal_noun = "payment gateway"
    rank = 3
    section = "gateways"
    api_path = "payment-gateways"
    scope_prefix = "flex.billing.paymentGateways"
    portal = "Settings > Integrations > Payment Gateways"
    export_file = "gateways.yaml"
    export_quiet = frozenset({"default"})
    sensitive = ALL_SECRET_FIELDS
    model = Gateway
    section_description = "Payment gateways; secrets are {env: NAME} or {file: PATH} references."
    unreadable_reason = "the OfficeRnD public API does not expose payment gateways"
    references = ("locations",)
    fields_map = (
        Field("provider", "provider"),
        Field("account", "account"),
        Field("locations", "locations", "refs", ref="locations", empty="(all)"),
        Field("default", "isDefault", "bool"),
        Field("publishable_key", "publishableKey"),
        Field("instructions", "instructions"),
    )
    select_extra = ("secretLast4",)
    implied = MappingProxyType({"locations": (), "default": False})
    # provider and account are the gateway's identity: changing them is a new gateway.
    updatable = ALL_SECRET_FIELDS | {"locations", "default", "publishable_key", "instructions"}
    capabilities = EXTENSION
    expected_fields = frozenset({"provider", "account"})

    def check(self, config: ConfigBase, checker: Checker) -> None:
        super().check(config, checker)
        defaults: dict[str, str] = {}
        every_location = list(config.section("locations"))
        for key, gateway in self.entries(config).items():
            path = (self.name, key)
            checker.refs((*path, "locations"), gateway.locations, "locations")
            if not gateway.default:
                continue
            for location in gateway.locations or every_location:
                other = defaults.setdefault(location, key)
                if other != key:
                    checker.add(
                        (*path, "default"),
                        f"gateway '{other}' is already the default for location '{location}'",
                    )

    def identity_field(self, fields: Mapping[str, Any]) -> tuple[str, str]:
        return "account", f"{fields.get('provider')} account '{fields.get('account')}'"

    def desired_one(
        self, key: str, model: BaseModel, config: ConfigBase, secrets: SecretResolver
    ) -> Obj:
        obj = super().desired_one(key, model, config, secrets)
        fields = {
            k: val for k, val in obj.fields.items() if k.split(".")[0] not in ALL_SECRET_FIELDS
        }
        refs: dict[str, dict[str, str]] = {}
        missing: dict[str, str] = {}
        for name in SECRET_FIELDS.get(str(fields["provider"]), ()):
            ref = getattr(model, name)
            refs[name] = ref_to_dict(ref)
            where = f"{obj.address}.{name}"
            fingerprint = secrets.fingerprint(ref, where)
            if fingerprint is not None:
                fields[name] = fingerprint
            else:  # unreadable: unmanaged for this plan (warned), and no create can send it
                missing[name] = secrets.missing.get(where, "cannot be read")
        meta = {**obj.meta, "secret_refs": refs, "missing_secrets": missing}
        return Obj(obj.kind, obj.address, fields, id=obj.id, meta=meta)

    def refuse_change(
        self,
        obj: Obj,
        live: Obj | None,
        changed: Sequence[str],
        fixed: Sequence[str],
        ctx: RuleContext,
    ) -> str | None:
        """A new gateway (a create, or a replace) must send its secret: one that cannot be
        read blocks the plan, naming the reference."""
        missing = obj.meta.get("missing_secrets") or {}
        if not missing or (live is not None and not fixed):
            return None
        names = "; ".join(f"{obj.address}.{name}: {why}" for name, why in missing.items())
        return f"{names}; a new gateway must send its secret: make it readable, then plan again"

    def money_effect(self, before: Obj | None, after: Obj | None, ctx: MoneyContext) -> MoneyEffect:
        """A gateway decides where future payments go; a new key for the same account does
        not change that."""
        if before is None:
            return MoneyEffect(Effect.FUTURE, note="future payments can be collected through it")
        if after is None:
            return MoneyEffect(Effect.FUTURE,
                               note="future payments can no longer be collected through it")
        routing = ("provider", "account", "locations", "default")
        changed = changed_fields(before.fields, after.fields, routing)
        if not changed:
            return NO_EFFECT
        return MoneyEffect(Effect.FUTURE, note=f"{', '.join(changed)} changed: where future "
                                               "payments are collected")

    def secrets_needed(
        self, obj: Obj, action: str, changed: Collection[str]
    ) -> list[tuple[Mapping[str, str], str]]:
        refs: Mapping[str, Mapping[str, str]] = obj.meta.get("secret_refs", {})
        sent = refs if action in ("create", "replace") else {
            name: ref for name, ref in refs.items() if name in changed
        }
        return [(ref, f"{obj.address}.{name}") for name, ref in sent.items()]

    def confirmed_state(self, obj: Obj) -> Mapping[str, Any]:
        """A secret by its reference: its fingerprint needs the secret, which a CI job that
        only plans may not have; a new reference (a rotated key) is a new confirmation."""
        fields = {k: val for k, val in obj.fields.items() if k not in ALL_SECRET_FIELDS}
        return {**fields, "secret_refs": obj.meta.get("secret_refs", {})}

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        return (fields.get("provider"), fields.get("account"))

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        return (self.natural_key(obj),)  # one key: no code to match by

    def lookup_filters(self, obj: Obj, refs: RefMap) -> dict[str, str]:
        return {"provider": str(obj.fields["provider"]), "account": str(obj.fields["account"])}

    def slug_base(self, obj: Obj) -> str:
        return v.slugify(f"{obj.fields.get('provider')}-{obj.fields.get('account')}")

    def extra_from_api(
        self, doc: Mapping[str, Any], fields: dict[str, Any], refs: RefMap, currency: str
    ) -> None:
        name = secret_field(str(doc.get("provider")))
        if name is not None:
            last4 = doc.get("secretLast4")
            fields[name] = FINGERPRINT_PREFIX + str(last4) if last4 else None

    def create_body(self, obj: Obj, refs: RefMap, secrets: SecretResolver) -> dict[str, Any]:
        # A new gateway always needs its secret, even when plan could not fingerprint it.
        names = set(obj.fields) | set(obj.meta.get("secret_refs", {}))
        body: dict[str, Any] = {}
        self.put_fields(body, obj, names, refs, secrets)
        return body

    def extra_body(
        self,
        body: dict[str, Any],
        obj: Obj,
        names: set[str],
        refs: RefMap,
        secrets: SecretResolver,
    ) -> None:
        for name, ref in obj.meta.get("secret_refs", {}).items():
            if name in names:
                body["secret"] = secrets.value(ref, f"{obj.address}.{name}")

    def export_values(self, values: dict[str, Any], comments: dict[str, str], obj: Obj) -> None:
        """The platform never reveals a secret: export names a variable to set instead."""
        name = secret_field(str(obj.fields.get("provider")))
        values.pop(name or "", None)
        if name is None:
            return
        key = re.sub(r"[^A-Z0-9]+", "_", obj.key.upper()).strip("_")
        values[name] = {"env": f"FLEXCTL_{key}_SECRET"}
        comments[name] = (
            "not exported: the platform never reveals it; set this variable to change it"
        )
