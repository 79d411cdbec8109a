"""Table-driven kinds: a kind module declares its fields once — normalized name, API path, value
type, referenced kind — and `FieldKind` derives from that table what the engines ask of it
(references, value types, export order). Also the capability families and the flexctl marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar

from flexctl.config.types import MAX_AMOUNT
from flexctl.kinds import _values as v
from flexctl.kinds.base import Capability, Kind, Obj, Profile
from flexctl.kinds.refs import UNKNOWN_PREFIX, RefMap

MARKER = "flexctl"  # custom property holding the address an object was created for

# What each target can do, per family of kinds (the public API writes customers, memberships
# and fees; the catalogue is read-only; gateways and settings are invisible).
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


@dataclass(frozen=True)
class Field:
    """One field of a kind. Value types: str, bool, int, money (Decimal in the currency),
    number (other Decimal), date, ref (one key of `ref`), refs (a set of keys of `ref`),
    enum (config <-> API words)."""

    name: str  # normalized (config) name, dotted when nested: "billing_details.vat_number"
    api: str  # API path, dotted when nested: "billingDetails.vatNumber"
    type: str = "str"
    ref: str | None = None  # referenced kind for ref/refs
    enum: tuple[tuple[str, str], ...] = ()  # (config word, API word) pairs
    empty: str = "(none)"  # what an empty set of references means, in messages

    def from_api(self, raw: Any, refs: RefMap, currency: str) -> Any:
        """The normalized value of what the platform sent; TypeError or ValueError when it is
        not a value of this field's type (see `fields_from_api`, which names the field)."""
        if self.type in ("money", "number", "int"):
            if raw is not None and (isinstance(raw, bool)
                                    or not isinstance(raw, int | float | Decimal)):
                raise TypeError("not a number")
            if raw is not None and not -MAX_AMOUNT < raw < MAX_AMOUNT:
                raise OutOfRange  # the arithmetic of the money summary would overflow
            if self.type == "money":
                return v.money(raw, currency)
            if self.type == "number":
                return v.number(raw)
            return int(raw) if raw is not None and raw == int(raw) else raw  # 120.0 is 120
        if self.type == "refs":
            if raw is not None and not (isinstance(raw, list)
                                        and all(isinstance(i, str) for i in raw)):
                raise TypeError("not a list of ids")
            return v.keys_of(refs, self.ref or "", raw)
        if raw is None or raw == "":
            return None
        if self.type == "bool":
            if not isinstance(raw, bool):
                raise TypeError("not a boolean")
            return raw
        if not isinstance(raw, str):
            raise TypeError("not a string")
        if self.type == "date":
            return v.api_date(raw)
        if self.type == "ref":
            return refs.key_of(self.ref or "", raw)
        if self.type == "enum":
            return next((c for c, a in self.enum if a == raw), raw)
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


class OutOfRange(ValueError):
    """A number beyond what a configuration may hold (`MAX_AMOUNT`)."""


_FAILURES = (ValueError, ArithmeticError, TypeError, AttributeError)
_REASONS = {"money": "is not an amount", "number": "is not a number", "date": "is not a date",
            "int": "is not a whole number", "refs": "is not a list of ids",
            "bool": "is not true or false", "str": "is not a string", "ref": "is not an id",
            "enum": "is not a string"}


def fields_from_api(
    fields: tuple[Field, ...], doc: Mapping[str, Any], refs: RefMap, currency: str
) -> dict[str, Any]:
    """The normalized fields of a platform document; a value a field cannot hold raises
    `PlatformValueError` naming that field (found again field by field: the error is rare, the
    loop without it is the hot path of every snapshot)."""
    try:
        out: dict[str, Any] = {}
        get = doc.get
        for f in fields:
            raw = v.get_path(doc, f.api) if "." in f.api else get(f.api)
            if f.type == "str" and (raw is None or type(raw) is str):  # most fields: as sent
                out[f.name] = raw or None
            else:
                out[f.name] = f.from_api(raw, refs, currency)
        return out
    except _FAILURES:
        for field in fields:
            raw = v.get_path(doc, field.api)
            try:
                field.from_api(raw, refs, currency)
            except _FAILURES as exc:
                reason = (f"is beyond what flexctl can hold (the limit is {MAX_AMOUNT - 1})"
                          if isinstance(exc, OutOfRange)
                          else _REASONS.get(field.type, f"is not a valid {field.type}"))
                raise v.PlatformValueError(field.api, raw, reason) from exc
        raise


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


class FieldKind(Kind):
    """A kind described by a field table (`fields_map`)."""

    fields_map: ClassVar[tuple[Field, ...]] = ()
    # Fields managed even when omitted, with their documented meaning ("locations: all" = ()).
    implied: ClassVar[Mapping[str, Any]] = NOTHING
    marker: ClassVar[bool] = False  # the platform keeps custom properties: tag creates
    by_name: ClassVar[Mapping[str, Field]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "fields_map" in cls.__dict__:
            cls.by_name = MappingProxyType({f.name: f for f in cls.fields_map})

    def field_type(self, name: str) -> str | None:
        field = self.by_name.get(name)
        return field.type if field else None

    def referenced(self, obj: Obj) -> set[str]:
        found = super().referenced(obj)
        for name, value in obj.fields.items():
            field = self.by_name.get(name)
            if field is None or field.ref is None or value is None:
                continue
            keys = value if isinstance(value, tuple | list) else (value,)
            for key in keys:
                if isinstance(key, str) and not key.startswith(UNKNOWN_PREFIX):
                    found.add(f"{field.ref}.{key}")
        return found

    def empty_label(self, name: str) -> str:
        field = self.by_name.get(name)
        return field.empty if field else "(none)"

    def reference_kind(self, name: str) -> str | None:
        field = self.by_name.get(name)
        return field.ref if field else None

    def export_fields(self, obj: Obj) -> list[str]:
        """The object's fields in the order export writes them: the table's, then the rest."""
        names = [f.name for f in self.fields_map]
        known = [n for n in names if n in obj.fields]
        return known + sorted(n for n in obj.fields if n not in self.by_name)

    def export_omits(self, name: str, value: Any) -> bool:
        """Whether export leaves a field out because omitting it means the same."""
        if name in self.implied and self.implied[name] == value:
            return True
        return name in self.export_quiet and value is False
