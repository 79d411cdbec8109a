"""Keyed kinds (a config section of `key: object`): catalogue kinds, gateways and customers.

From the field table this module derives the desired objects, the normalized live objects, the
request bodies and the config section; kinds override the hooks for what does not fit a table
(plan billing, rate components, gateway secrets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel
from pydantic import Field as ModelField

from flexctl.config.rules import Checker
from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase, no_entries
from flexctl.kinds import _values as v
from flexctl.kinds._fields import (
    MARKER,
    NOTHING,
    FieldKind,
    fields_from_api,
    matches_by_pin_marker_or_key,
)
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap


class KeyedKind(FieldKind):
    """A kind whose config section maps keys to objects."""

    model: ClassVar[Any]  # the pydantic model of one object (or a tagged union of models)
    section_description: ClassVar[str] = ""  # hover help of the section in editors
    create_constants: ClassVar[Mapping[str, Any]] = NOTHING  # sent on every create
    select_extra: ClassVar[tuple[str, ...]] = ()  # API fields read besides the field map's

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and "section" not in cls.__dict__:
            cls.section = cls.name
        if "fields_map" in cls.__dict__:
            tops = {f.api.split(".")[0] for f in cls.fields_map}
            marker = ("properties",) if cls.marker else ()
            cls.select = tuple(sorted(tops | {"modifiedAt", *marker, *cls.select_extra}))

    # --- the configuration -------------------------------------------------------------------

    def section_type(self) -> Any:
        return (
            dict[str, self.model],  # type: ignore[name-defined]
            ModelField(default_factory=no_entries, description=self.section_description or None),
        )

    def entries(self, config: ConfigBase) -> Mapping[str, Any]:
        """The section's `key: model` entries."""
        section: Mapping[str, Any] = config.section(self.section or self.name)
        return section

    def count(self, config: ConfigBase) -> int | None:
        return len(self.entries(config))

    def pins(self, config: ConfigBase) -> Iterable[tuple[tuple[str | int, ...], str]]:
        for key, model in self.entries(config).items():
            if model.id is not None:
                yield (self.name, key), model.id

    def check(self, config: ConfigBase, checker: Checker) -> None:
        self.check_identities(config, checker)

    def identity_field(self, fields: Mapping[str, Any]) -> tuple[str, str]:
        """The config field an object is matched by, and its value as messages show it."""
        field, value = self.identity(fields)[:2]
        return str(field), f"{field} '{value}'"

    def check_identities(self, config: ConfigBase, checker: Checker) -> None:
        """Unpinned objects are matched to live ones by natural key: two with the same key
        would both claim one live object."""
        seen: dict[tuple[Any, ...], str] = {}
        for key, model in self.entries(config).items():
            if model.id is not None:
                continue
            fields = {name: getattr(model, name, None) for name in self.by_name}
            other = seen.setdefault(self.identity(fields), key)
            if other != key:
                field, shown = self.identity_field(fields)
                checker.add(
                    (self.name, key, field),
                    f"{self.name}.{other} has the same {shown}: live objects are matched "
                    "by it, so give each its own or pin one with `id:`",
                )

    # --- desired ---------------------------------------------------------------------------

    def desired(self, config: ConfigBase, secrets: SecretResolver) -> list[Obj]:
        return [
            self.desired_one(key, model, config, secrets)
            for key, model in self.entries(config).items()
        ]

    def desired_one(
        self, key: str, model: BaseModel, config: ConfigBase, secrets: SecretResolver
    ) -> Obj:
        by_name = self.by_name
        fields: dict[str, Any] = dict(self.implied)
        for name, value in v.written(model, exclude=("id", *self.owns)).items():
            field = by_name.get(name)
            fields[name] = field.desired(value, config.currency) if field else value
        return Obj(
            kind=self.name,
            address=f"{self.name}.{key}",
            fields=fields,
            id=getattr(model, "id", None),
            meta={"key": key},
        )

    # --- identity ----------------------------------------------------------------------------

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        code = fields.get("code")
        return ("code", code) if code else ("name", fields.get("name"))

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        keys: list[tuple[Any, ...]] = [("name", obj.fields.get("name"))]
        if obj.fields.get("code"):
            keys.insert(0, ("code", obj.fields["code"]))
        return tuple(keys)

    def lookup_filters(self, obj: Obj, refs: RefMap) -> dict[str, str]:
        kind, value = self.natural_key(obj)
        return {str(kind): str(value)}

    def matches(self, obj: Obj, doc: Mapping[str, Any], refs: RefMap) -> bool:
        return matches_by_pin_marker_or_key(self, obj, doc, refs)

    # --- live --------------------------------------------------------------------------------

    def from_api(self, doc: Mapping[str, Any], refs: RefMap, currency: str) -> Obj:
        fields = self.map_from_api(doc, refs, currency)
        self.extra_from_api(doc, fields, refs, currency)
        id_ = str(doc["_id"])
        return Obj(
            kind=self.name,
            address=f"{self.name}.{refs.key_of(self.name, id_)}",
            fields=fields,
            id=id_,
            meta=v.modified_meta(doc),
        )

    def map_from_api(self, doc: Mapping[str, Any], refs: RefMap, currency: str) -> dict[str, Any]:
        return fields_from_api(self.fields_map, doc, refs, currency)

    def extra_from_api(
        self, doc: Mapping[str, Any], fields: dict[str, Any], refs: RefMap, currency: str
    ) -> None:
        """Hook: fields that are not a one-to-one API field."""

    # --- bodies ------------------------------------------------------------------------------

    def create_body(self, obj: Obj, refs: RefMap, secrets: SecretResolver) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.create_constants)
        self.put_fields(body, obj, set(obj.fields), refs, secrets)
        if self.marker:
            body.setdefault("properties", {})[MARKER] = obj.address
        return body

    def update_body(
        self, obj: Obj, changed: set[str], refs: RefMap, secrets: SecretResolver
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        self.put_fields(body, obj, self.expand_nested(obj, changed), refs, secrets)
        return body

    def expand_nested(self, obj: Obj, changed: set[str]) -> set[str]:
        """A nested API object is replaced as a whole: send all its fields the config has."""
        by_name = self.by_name
        nested = {n: by_name[n].api.split(".")[0] for n in obj.fields if n in by_name}
        tops = {top for n, top in nested.items() if n in changed and top != by_name[n].api}
        return set(changed) | {n for n, top in nested.items() if top in tops}

    def put_fields(
        self,
        body: dict[str, Any],
        obj: Obj,
        names: set[str],
        refs: RefMap,
        secrets: SecretResolver,
    ) -> None:
        by_name = self.by_name
        for name in sorted(names):
            if name in by_name and name in obj.fields:
                field = by_name[name]
                v.set_path(body, field.api, field.to_api(obj.fields[name], refs))
        self.extra_body(body, obj, names, refs, secrets)

    def extra_body(
        self,
        body: dict[str, Any],
        obj: Obj,
        names: set[str],
        refs: RefMap,
        secrets: SecretResolver,
    ) -> None:
        """Hook: body fields that are not a one-to-one API field."""

    # --- export ------------------------------------------------------------------------------

    def export_problem(self, obj: Obj) -> str | None:
        if "name" in self.by_name and not obj.fields.get("name"):
            return "it has no name"
        return None
