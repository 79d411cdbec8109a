"""The machinery of keyed kinds (a config section of `key: object`): field maps and matching.

A kind module declares its fields once — normalized name, API path, value type, referenced
kind — and this module derives the desired objects, the normalized live objects and the request
bodies from that table. Kinds override the hooks for what does not fit a table (plan billing,
rate components, gateway secrets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import BaseModel

from flexctl.config.models import Config
from flexctl.config.secrets import SecretResolver
from flexctl.kinds import _values as v
from flexctl.kinds.base import Capability, Kind, Obj, Profile
from flexctl.kinds.refs import RefMap

# Value types: str, bool, int, money (Decimal in the currency), number (other Decimal),
# date, ref (one key of `ref`), refs (a set of keys of `ref`), enum (config <-> API words).
MARKER = "flexctl"  # custom property holding the address an object was created for

# What each target can do, per family of kinds (SPEC section 5; reference section 1.3).
CATALOGUE = MappingProxyType(
    {Profile.OFFICERND: Capability.read_only(), Profile.FULL: Capability.all()}
)
COMMUNITY = MappingProxyType({Profile.OFFICERND: Capability.all(), Profile.FULL: Capability.all()})
EXTENSION = MappingProxyType({Profile.OFFICERND: Capability.none(), Profile.FULL: Capability.all()})
SETTINGS = MappingProxyType(
    {
        Profile.OFFICERND: Capability.none(),
        Profile.FULL: Capability(read=True, create=False, update=True, delete=False),
    }
)
NOTHING: Mapping[str, Any] = MappingProxyType({})


def matches_by_pin_marker_or_key(
    kind: Kind, obj: Obj, doc: Mapping[str, Any], refs: RefMap
) -> bool:
    """Whether a live document is `obj`: its `id:` pin, else the flexctl marker an earlier
    create left in `properties`, else the natural key."""
    if obj.id is not None:
        return doc.get("_id") == obj.id
    props = doc.get("properties")
    if isinstance(props, Mapping) and props.get(MARKER) == obj.address:
        return True
    # The currency does not matter to a natural key (no amounts in it).
    return kind.natural_key(obj) in kind.live_keys(kind.from_api(doc, refs, "XXX"))


@dataclass(frozen=True)
class Field:
    name: str  # normalized (config) name, dotted when nested: "billing_details.vat_number"
    api: str  # API path, dotted when nested: "billingDetails.vatNumber"
    type: str = "str"
    ref: str | None = None  # referenced kind for ref/refs
    enum: tuple[tuple[str, str], ...] = ()  # (config word, API word) pairs

    def from_api(self, raw: Any, refs: RefMap, currency: str) -> Any:
        if self.type == "money":
            return v.money(raw, currency)
        if self.type == "number":
            return v.number(raw)
        if self.type == "date":
            return v.api_date(raw)
        if self.type == "refs":
            return v.keys_of(refs, self.ref or "", raw)
        if raw is None or raw == "":
            return None
        if self.type == "ref":
            return refs.key_of(self.ref or "", str(raw))
        if self.type == "enum":
            return next((c for c, a in self.enum if a == raw), str(raw))
        if self.type == "int" and not isinstance(raw, bool) and raw == int(raw):
            return int(raw)  # a JSON 120.0 is the count 120
        return raw

    def to_api(self, value: Any, refs: RefMap) -> Any:
        if value is None:
            return None
        if self.type == "date":
            return v.date_to_api(value)
        if self.type == "ref":
            return v.require_id(refs, self.ref or "", value)
        if self.type == "refs":
            return [v.require_id(refs, self.ref or "", k) for k in value]
        if self.type == "enum":
            return next((a for c, a in self.enum if c == value), value)
        return value

    def desired(self, value: Any, currency: str) -> Any:
        if value == "":
            return None  # as `from_api` reads the platform's "": unset, not a change
        if self.type == "money":
            return v.money(value, currency)
        if self.type == "number":
            return v.number(value)
        if self.type == "refs":
            return tuple(sorted(value or ()))
        return value


class KeyedKind(Kind):
    """A kind whose config section maps keys to objects: catalogue kinds and customers."""

    section: ClassVar[str]  # attribute of Config
    fields_map: ClassVar[tuple[Field, ...]]
    # Fields managed even when omitted, with their documented meaning ("locations: all" = ()).
    implied: ClassVar[Mapping[str, Any]] = NOTHING
    marker: ClassVar[bool] = False  # the platform keeps custom properties: tag creates
    create_constants: ClassVar[Mapping[str, Any]] = NOTHING  # sent on every create

    select_extra: ClassVar[tuple[str, ...]] = ()  # API fields read besides the field map's
    by_name: ClassVar[Mapping[str, Field]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "fields_map" in cls.__dict__:
            cls.by_name = {f.name: f for f in cls.fields_map}
            tops = {f.api.split(".")[0] for f in cls.fields_map}
            marker = ("properties",) if cls.marker else ()
            cls.select = tuple(sorted(tops | {"modifiedAt", *marker, *cls.select_extra}))

    # --- desired ---------------------------------------------------------------------------

    def desired(self, config: Config, secrets: SecretResolver) -> list[Obj]:
        section: Mapping[str, BaseModel] = getattr(config, self.section)
        return [self.desired_one(key, model, config, secrets) for key, model in section.items()]

    def desired_one(
        self, key: str, model: BaseModel, config: Config, secrets: SecretResolver
    ) -> Obj:
        by_name = self.by_name
        fields: dict[str, Any] = dict(self.implied)
        for name, value in v.written(model, exclude=("id", "memberships", "fees")).items():
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

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        code = obj.fields.get("code")
        return ("code", code) if code else ("name", obj.fields.get("name"))

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

    def slug_base(self, obj: Obj) -> str:
        """The key an undeclared live object gets: a slug of its name."""
        return v.slugify(str(obj.fields.get("name") or obj.id or self.name))

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
        return {f.name: f.from_api(v.get_path(doc, f.api), refs, currency) for f in self.fields_map}

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
