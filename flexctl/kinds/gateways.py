"""Payment gateways (emulator `full` profile only: the OfficeRnD public API exposes none).

The secret of a gateway (Stripe secret key, GoCardless access token, ...) is compared by its
fingerprint, "…" plus the last four characters, which is what the platform shows
(`secretLast4`). The reference itself stays in `meta["secret_refs"]` so apply can read the
value when a create or a key change must send it (API field `secret`, write-only).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from flexctl.config.models import SECRET_FIELDS, Config
from flexctl.config.secrets import FINGERPRINT_PREFIX, SecretResolver, ref_to_dict
from flexctl.kinds import _values as v
from flexctl.kinds._keyed import EXTENSION, Field, KeyedKind
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap

ALL_SECRET_FIELDS = frozenset(f for fields in SECRET_FIELDS.values() for f in fields)


def secret_field(provider: str) -> str | None:
    fields = SECRET_FIELDS.get(provider, ())
    return fields[0] if fields else None


class Gateways(KeyedKind):
    name = "gateways"
    rank = 3
    section = "gateways"
    api_path = "payment-gateways"
    scope_prefix = "flex.billing.paymentGateways"
    portal = "Settings > Integrations > Payment Gateways"
    unreadable_reason = "the OfficeRnD public API does not expose payment gateways"
    references = ("locations",)
    fields_map = (
        Field("provider", "provider"),
        Field("account", "account"),
        Field("locations", "locations", "refs", ref="locations"),
        Field("default", "isDefault", "bool"),
        Field("publishable_key", "publishableKey"),
        Field("instructions", "instructions"),
    )
    select_extra = ("secretLast4",)
    implied = MappingProxyType({"locations": (), "default": False})
    # provider and account are the gateway's identity: changing them is a new gateway.
    updatable = ALL_SECRET_FIELDS | {"locations", "default", "publishable_key", "instructions"}
    capabilities = EXTENSION

    def desired_one(
        self, key: str, model: BaseModel, config: Config, secrets: SecretResolver
    ) -> Obj:
        obj = super().desired_one(key, model, config, secrets)
        fields = {
            k: val for k, val in obj.fields.items() if k.split(".")[0] not in ALL_SECRET_FIELDS
        }
        refs: dict[str, dict[str, str]] = {}
        for name in SECRET_FIELDS.get(str(fields["provider"]), ()):
            ref = getattr(model, name)
            refs[name] = ref_to_dict(ref)
            fingerprint = secrets.fingerprint(ref, f"{obj.address}.{name}")
            if fingerprint is not None:  # unreadable: unmanaged for this plan (warned)
                fields[name] = fingerprint
        return Obj(obj.kind, obj.address, fields, id=obj.id, meta={**obj.meta, "secret_refs": refs})

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        return (obj.fields.get("provider"), obj.fields.get("account"))

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        return (self.natural_key(obj),)

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
