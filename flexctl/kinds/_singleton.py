"""Singleton kinds (invoicing settings, storefront): one object per organization, updated with
PUT, never created or deleted; its address is the kind's name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic import Field as ModelField

from flexctl.config.rules import Checker
from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.kinds import _values as v
from flexctl.kinds._fields import SETTINGS
from flexctl.kinds._keyed import KeyedKind
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap


class SingletonKind(KeyedKind):
    singleton = True
    prunable = False
    capabilities = SETTINGS

    def section_type(self) -> Any:
        description = self.section_description or None
        return (self.model | None, ModelField(default=None, description=description))

    def count(self, config: ConfigBase) -> int | None:
        return None

    def pins(self, config: ConfigBase) -> Iterable[tuple[tuple[str | int, ...], str]]:
        return ()

    def check(self, config: ConfigBase, checker: Checker) -> None:
        """Hook: rules of the settings; none by default."""

    def desired(self, config: ConfigBase, secrets: SecretResolver) -> list[Obj]:
        model: BaseModel | None = config.section(self.section or self.name)
        if model is None:
            return []
        obj = self.desired_one(self.name, model, config, secrets)
        return [Obj(obj.kind, self.name, obj.fields, meta={})]

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
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

    def export_omits(self, name: str, value: Any) -> bool:
        return False  # a setting written in the configuration is managed: keep every one
