"""Export: the live organization as flexctl configuration, in YAML files per section.

The snapshot (read with every object, no desired state) is re-keyed with readable slugs —
transliterated names, unique per kind with `-2`, `-3` in `_id` order, so the same organization
always exports the same keys — and each object is turned back into its config form: references
as keys, amounts as exact decimals, an `id:` pin so a re-plan matches exactly. What the config
format cannot hold is left out with a comment saying why; secrets become `{env: ...}` references.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flexctl.export.emit import Entry, Section, render_file
from flexctl.kinds import _values as v
from flexctl.kinds import get as get_kind
from flexctl.kinds import registry
from flexctl.kinds._keyed import Field
from flexctl.kinds._owned import OWNER_KINDS, split_owner
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.gateways import secret_field
from flexctl.kinds.rates import COMPONENTS
from flexctl.kinds.refs import UNKNOWN_PREFIX
from flexctl.state.snapshot import Snapshot

SCHEMA_FILE = "flexctl.schema.json"
CHUNK = 500  # customers per file: big organizations stay reviewable file by file
# (file, sections): the layout of an exported configuration.
LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("organization.yaml", ("locations", "tax_rates", "revenue_accounts")),
    ("gateways.yaml", ("gateways",)),
    ("services.yaml", ("plans",)),
    ("rates.yaml", ("rates",)),
    ("customers/companies.yaml", ("companies",)),
    ("customers/members.yaml", ("members",)),
    ("invoicing.yaml", ("invoicing",)),
    ("storefront.yaml", ("storefront",)),
)
# Booleans whose config default is false: written only when true, to keep files short.
_QUIET_FALSE = frozenset({"billing_person", "contact_person", "default"})
_SPECIAL = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "ı": "i"}
)


def transliterate(text: str) -> str:
    """Latin letters without accents: "Café Zürich" -> "Cafe Zurich" (slugs stay readable)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def export_slug(text: str) -> str:
    return v.slugify(transliterate(text))


@dataclass
class Export:
    """The exported configuration: file path (relative, `/`-separated) -> YAML text."""

    files: dict[str, str]
    counts: dict[str, int]  # kind -> objects exported
    skipped: list[str] = field(default_factory=list)  # what could not be represented, and why


# --- keys --------------------------------------------------------------------------------------


def rekey(snapshot: Snapshot) -> dict[str, list[Obj]]:
    """The snapshot's objects under export keys: slugs of names, unique in `_id` order."""
    renamed: dict[tuple[str, str], str] = {}
    for kind in registry():
        if kind.singleton or kind.owned or kind.name not in snapshot.objects:
            continue
        taken: set[str] = set()
        for obj in sorted(snapshot.objects[kind.name], key=lambda o: str(o.id)):
            old = obj.address.split(".", 1)[1]
            renamed[(kind.name, old)] = v.unique_slug(_slug_base(kind, obj), taken)

    def key(kind: str, old: str) -> str:
        return renamed.get((kind, old), old)

    out: dict[str, list[Obj]] = {}
    for kind in registry():
        refs = _ref_fields(kind)
        fixed = []
        for obj in snapshot.objects.get(kind.name, ()):
            fields = {n: _rekey_value(refs.get(n), val, key) for n, val in obj.fields.items()}
            owner = obj.owner
            if owner is not None:
                owner_kind, owner_key = split_owner(owner)
                owner = f"{owner_kind}.{key(owner_kind, owner_key)}"
            address = obj.address
            if not kind.singleton and not kind.owned:
                address = f"{kind.name}.{key(kind.name, obj.address.split('.', 1)[1])}"
            fixed.append(Obj(obj.kind, address, fields, obj.id, owner, obj.meta))
        out[kind.name] = fixed
    return out


def _slug_base(kind: Kind, obj: Obj) -> str:
    readable = {
        n: transliterate(val) if isinstance(val, str) else val for n, val in obj.fields.items()
    }
    slug_base = getattr(kind, "slug_base", None)
    if slug_base is None:
        return export_slug(str(obj.fields.get("name") or kind.name))
    return str(slug_base(Obj(obj.kind, obj.address, readable, obj.id)))


def _ref_fields(kind: Kind) -> dict[str, Field]:
    fields: Iterable[Field] = getattr(kind, "fields_map", ())
    return {f.name: f for f in fields if f.type in ("ref", "refs")}


def _rekey_value(spec: Field | None, value: Any, key: Any) -> Any:
    if spec is None or value is None:
        return value
    target = spec.ref or ""
    if spec.type == "refs":
        return tuple(sorted(key(target, k) for k in value))
    return key(target, value)


# --- objects -> config entries ------------------------------------------------------------------


class _Unrepresentable(Exception):
    """An object the config format cannot hold; the message says why."""


class Builder:
    """Turns re-keyed live objects into config sections, noting what is left out."""

    def __init__(self, objects: Mapping[str, list[Obj]]) -> None:
        self.objects = objects
        self.skipped: list[str] = []
        self.items: dict[str, int] = {}  # memberships and fees exported under their customers
        self.keys = {
            kind: {o.address.split(".", 1)[-1] for o in objs} for kind, objs in objects.items()
        }
        plans = objects.get("plans", ())
        self.billing = {o.address.split(".", 1)[1]: o.fields.get("billing") for o in plans}
        self.plan_names = {o.address.split(".", 1)[1]: o.fields.get("name") for o in plans}
        # Memberships and fees by owner, so that writing a customer does not scan them all.
        self.owned: dict[tuple[str, str | None], list[Obj]] = {}
        for kind_name in ("memberships", "fees"):
            for obj in objects.get(kind_name, ()):
                self.owned.setdefault((kind_name, obj.owner), []).append(obj)

    def keyed(self, kind: Kind) -> Section:
        section = Section(kind.name)
        section.singleton = kind.singleton
        objs = sorted(self.objects.get(kind.name, ()), key=lambda o: o.address)
        for obj in objs:
            key = obj.address.split(".", 1)[-1]
            try:
                entry = self.entry(kind, obj, key)
            except _Unrepresentable as exc:
                self.skip(section, f"{kind.name} {key} (id {obj.id}): {exc}")
                self.keys[kind.name].discard(key)
                continue
            section.entries.append(entry)
        return section

    def skip(self, section: Section, message: str) -> None:
        self.skipped.append(message)
        section.notes.append(f"not exported: {message}")

    def entry(self, kind: Kind, obj: Obj, key: str) -> Entry:
        _check(kind, obj)
        entry = Entry(key)
        if obj.id is not None and not kind.singleton:
            entry.values["id"] = obj.id
        refs = _ref_fields(kind)
        for name in _field_order(kind, obj):
            value = obj.fields[name]
            if not self.keep(kind, name, value):
                continue
            spec = refs.get(name)
            if spec is not None and not self.resolvable(spec, value):
                if name == "location" and kind.name in OWNER_KINDS:
                    raise _Unrepresentable(f"its {name} could not be read")
                entry.comments.append(f"{name}: refers to an object that is not exported")
                continue
            _put(entry.values, name, value)
        if kind.name == "gateways":
            self.gateway_secret(entry, obj, key)
        if kind.name in OWNER_KINDS:
            self.owned_items(entry, obj)
        return entry

    def keep(self, kind: Kind, name: str, value: Any) -> bool:
        if value is None:
            return False
        if kind.singleton:
            return True
        implied: Mapping[str, Any] = getattr(kind, "implied", {})
        if name in implied and implied[name] == value:
            return False  # omitted means the same thing
        return not (name in _QUIET_FALSE and value is False)

    def resolvable(self, spec: Field, value: Any) -> bool:
        keys = self.keys.get(spec.ref or "", set())
        values = value if isinstance(value, tuple) else (value,)
        return all(not str(k).startswith(UNKNOWN_PREFIX) and k in keys for k in values)

    def gateway_secret(self, entry: Entry, obj: Obj, key: str) -> None:
        name = secret_field(str(obj.fields.get("provider")))
        entry.values.pop(name or "", None)
        if name is None:
            return
        variable = "FLEXCTL_" + re.sub(r"[^A-Z0-9]+", "_", key.upper()).strip("_") + "_SECRET"
        entry.values[name] = {"env": variable}
        entry.value_comments[name] = (
            "not exported: the platform never reveals it; set this variable to change it"
        )

    def owned_items(self, entry: Entry, customer: Obj) -> None:
        for kind_name in ("memberships", "fees"):
            if kind_name not in self.objects:
                continue
            kind = get_kind(kind_name)
            date_field = str(getattr(kind, "date_field", "date"))
            items = sorted(
                self.owned.get((kind_name, customer.address), ()),
                key=lambda o: (str(o.fields.get(date_field)), str(o.fields.get("plan")),
                               str(o.fields.get("name")), str(o.id)),
            )
            rows: list[dict[str, Any]] = []
            seen: set[tuple[Any, ...]] = set()
            for item in items:
                try:
                    row = self.item(kind, item)
                    self.unique(kind_name, row, date_field, seen)
                except _Unrepresentable as exc:
                    where = f"{customer.address}.{kind_name} (id {item.id})"
                    self.skipped.append(f"{where}: {exc}")
                    entry.comments.append(f"not exported: {kind_name} id {item.id}: {exc}")
                    continue
                rows.append(row)
            if rows:
                entry.values[kind_name] = rows
                self.items[kind_name] = self.items.get(kind_name, 0) + len(rows)

    def unique(
        self, kind_name: str, row: Mapping[str, Any], date_field: str, seen: set[tuple[Any, ...]]
    ) -> None:
        """The config identifies a customer's memberships by (plan, start) and fees by (plan,
        date, name); a second live twin of the same identity cannot be declared."""
        identity: tuple[Any, ...] = (row["plan"], row.get(date_field))
        if kind_name == "fees":
            identity += (row.get("name") or self.plan_names.get(str(row["plan"])),)
        if identity in seen:
            words = "plan and start" if kind_name == "memberships" else "plan, date and name"
            raise _Unrepresentable(
                f"an earlier one has the same {words}, which the config cannot tell apart"
            )
        seen.add(identity)

    def item(self, kind: Kind, obj: Obj) -> dict[str, Any]:
        plan = obj.fields.get("plan")
        if plan is None or plan not in self.keys.get("plans", set()):
            raise _Unrepresentable("its plan is not an exported billing plan (a resource rate?)")
        wanted = "recurring" if kind.name == "memberships" else "one_off"
        if self.billing.get(str(plan)) != wanted:
            raise _Unrepresentable(f"its plan {plan} is not a {wanted} plan")
        quantity = obj.fields.get("quantity")
        if quantity is not None and not isinstance(quantity, int):
            raise _Unrepresentable(f"its quantity {quantity} is not a whole number")
        row: dict[str, Any] = {"id": obj.id} if obj.id else {}
        for name in _field_order(kind, obj):
            value = obj.fields[name]
            if not self.keep(kind, name, value):
                continue
            spec = _ref_fields(kind).get(name)
            if spec is not None and not self.resolvable(spec, value):
                continue  # an unknown location: the customer's is used
            row[name] = value
        return row


def _check(kind: Kind, obj: Obj) -> None:
    fields = obj.fields
    name = fields.get("name")
    if kind.name in ("locations", "tax_rates", "plans", "rates", *OWNER_KINDS) and not name:
        raise _Unrepresentable("it has no name")
    if kind.name == "revenue_accounts" and not (name or fields.get("code")):
        raise _Unrepresentable("it has neither a name nor a code")
    if kind.name == "plans" and fields.get("billing") not in ("recurring", "one_off"):
        raise _Unrepresentable(f"its billing interval {fields.get('billing')!r} is not supported")
    if kind.name == "rates" and fields.get("unit") not in ("hour", "day"):
        raise _Unrepresentable(f"its unit {fields.get('unit')!r} is not hour or day")
    if kind.name in OWNER_KINDS and fields.get("location") is None:
        raise _Unrepresentable("it has no location, which the config format requires")
    if kind.name == "members" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                               str(fields.get("email") or "")):
        raise _Unrepresentable("it has no valid email, which flexctl matches members by")
    for value in fields.values():
        if isinstance(value, Decimal) and value < 0:
            raise _Unrepresentable(f"it has a negative amount ({value})")


def _field_order(kind: Kind, obj: Obj) -> list[str]:
    names: list[str] = [f.name for f in getattr(kind, "fields_map", ())]
    if kind.name == "rates":
        names += list(COMPONENTS)
    known = [n for n in names if n in obj.fields]
    return known + sorted(n for n in obj.fields if n not in names)


def _put(values: dict[str, Any], name: str, value: Any) -> None:
    """Dotted names become nested mappings: `visibility.members` -> visibility: {members: }."""
    head, _, rest = name.partition(".")
    if not rest:
        values[head] = list(value) if isinstance(value, tuple) else value
        return
    nested = values.setdefault(head, {})
    _put(nested, rest, value)


# --- the files ---------------------------------------------------------------------------------


def build_export(
    snapshot: Snapshot, org: str, currency: str, kinds: Iterable[str] | None = None
) -> Export:
    """The exported files of a snapshot read with `all_objects=True`."""
    objects = rekey(snapshot)
    wanted = set(kinds) if kinds is not None else {k.name for k in registry()}
    builder = Builder(objects)
    sections: dict[str, Section] = {}
    for kind in registry():
        if kind.owned or kind.name not in objects or kind.name not in wanted:
            continue
        sections[kind.name] = builder.keyed(kind)
    for name, reason in sorted(snapshot.unreadable.items()):
        if name in wanted:
            portal = next((k.portal for k in registry() if k.name == name), "")
            where = f" ({portal})" if portal else ""
            builder.skipped.append(f"{name}: {reason}")
            sections.setdefault("locations", Section("locations")).notes.append(
                f"{name}: {reason}; add them by hand{where}"
            )
    header = {"version": 1, "organization": org, "currency": currency}
    files = _files(sections, header)
    found = {**{name: len(s.entries) for name, s in sections.items()}, **builder.items}
    counts = {k.name: found[k.name] for k in registry() if found.get(k.name)}  # in rank order
    return Export(files=files, counts=counts, skipped=builder.skipped)


def _files(sections: Mapping[str, Section], header: dict[str, Any]) -> dict[str, str]:
    files: dict[str, str] = {}
    for path, names in LAYOUT:
        chosen = [sections[n] for n in names if n in sections]
        if path == "organization.yaml":
            files[path] = render_file(_modeline(path), chosen, header)
            continue
        chosen = [s for s in chosen if s.entries]
        if not chosen:
            continue
        if len(chosen) == 1 and len(chosen[0].entries) > CHUNK:
            for n, part in enumerate(_chunks(chosen[0]), start=1):
                split = path.replace(".yaml", f"-{n:03d}.yaml")
                files[split] = render_file(_modeline(split), [part])
            continue
        files[path] = render_file(_modeline(path), chosen)
    return files


def _chunks(section: Section) -> Iterable[Section]:
    for start in range(0, len(section.entries), CHUNK):
        part = Section(section.name, section.entries[start : start + CHUNK])
        if start == 0:
            part.notes = list(section.notes)
        yield part


def _modeline(path: str) -> str:
    up = "../" * path.count("/")
    return f"# yaml-language-server: $schema={up}{SCHEMA_FILE}"
