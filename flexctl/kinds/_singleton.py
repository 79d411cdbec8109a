"""Singleton kinds (invoicing settings, storefront): one object per organization, updated with
PUT, never created or deleted; its address is the kind's name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from flexctl.config.models import Config
from flexctl.config.secrets import SecretResolver
from flexctl.kinds import _values as v
from flexctl.kinds._keyed import SETTINGS, KeyedKind
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap


class SingletonKind(KeyedKind):
    singleton = True
    capabilities = SETTINGS

    def desired(self, config: Config, secrets: SecretResolver) -> list[Obj]:
        model: BaseModel | None = getattr(config, self.section)
        if model is None:
            return []
        obj = self.desired_one(self.name, model, config, secrets)
        return [Obj(obj.kind, self.name, obj.fields, meta={})]

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        return (self.name,)

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        return ((self.name,),)

    def lookup_filters(self, obj: Obj, refs: RefMap) -> dict[str, str]:
        return {}

    def matches(self, obj: Obj, doc: Mapping[str, Any], refs: RefMap) -> bool:
        return True

    def from_api(self, doc: Mapping[str, Any], refs: RefMap, currency: str) -> Obj:
        return Obj(
            self.name, self.name, self.map_from_api(doc, refs, currency), meta=v.modified_meta(doc)
        )

    def create_body(self, obj: Obj, refs: RefMap, secrets: SecretResolver) -> dict[str, Any]:
        # A singleton always exists; "creating" it is writing all its managed fields.
        return self.update_body(obj, set(obj.fields), refs, secrets)
