"""Export: the live organization as flexctl configuration, in YAML files per section.

The snapshot (read with every object, no desired state) is re-keyed with readable slugs —
transliterated names, unique per kind with `-2`, `-3` in `_id` order, so the same organization
always exports the same keys — and each object is turned back into its config form: references
as keys, amounts as exact decimals, an `id:` pin so a re-plan matches exactly. What the config
format cannot hold is left out with a comment saying why; secrets become `{env: ...}` references.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flexctl.export.emit import Entry, Section, render_file
from flexctl.kinds import _values as v
from flexctl.kinds import get as get_kind
from flexctl.kinds import registry
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.refs import UNKNOWN_PREFIX
from flexctl.state.snapshot import Snapshot

SCHEMA_FILE = "flexctl.schema.json"
HEADER_FILE = "organization.yaml"  # holds version, organization and currency
CHUNK = 500  # customers per file: big organizations stay reviewable file by file
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
        fixed = []
        for obj in snapshot.objects.get(kind.name, ()):
            fields = {n: _rekey_value(kind, n, val, key) for n, val in obj.fields.items()}
            owner = obj.owner
            if owner is not None:
                owner_kind, _, owner_key = owner.partition(".")
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
    return kind.slug_base(Obj(obj.kind, obj.address, readable, obj.id))


def _rekey_value(kind: Kind, name: str, value: Any, key: Any) -> Any:
    target = kind.reference_kind(name)
    if target is None or value is None:
        return value
    if isinstance(value, tuple):
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
        self.items: dict[str, int] = {}  # owned objects exported under their owners
        self.exported = {kind: {o.key: o for o in objs} for kind, objs in objects.items()}
        # Owned objects by owner, so that writing a customer does not scan them all.
        self.owned: dict[tuple[str, str | None], list[Obj]] = {}
        for kind in registry():
            if kind.owned:
                for obj in objects.get(kind.name, ()):
                    self.owned.setdefault((kind.name, obj.owner), []).append(obj)

    def keyed(self, kind: Kind) -> Section:
        section = Section(kind.name)
        section.singleton = kind.singleton
        objs = sorted(self.objects.get(kind.name, ()), key=lambda o: o.address)
        for obj in objs:
            try:
                entry = self.entry(kind, obj)
            except _Unrepresentable as exc:
                self.skip(section, f"{kind.name} {obj.key} (id {obj.id}): {exc}")
                self.exported[kind.name].pop(obj.key, None)
                continue
            section.entries.append(entry)
        return section

    def skip(self, section: Section, message: str) -> None:
        self.skipped.append(message)
        section.notes.append(f"not exported: {message}")

    def entry(self, kind: Kind, obj: Obj) -> Entry:
        problem = kind.export_problem(obj) or _negative(obj)
        if problem:
            raise _Unrepresentable(problem)
        entry = Entry(obj.key)
        if obj.id is not None and not kind.singleton:
            entry.values["id"] = obj.id
        for name in kind.export_fields(obj):
            value = obj.fields[name]
            if not self.keep(kind, name, value):
                continue
            if not self.resolvable(kind, name, value):
                if kind.export_required(name):
                    raise _Unrepresentable(f"its {name} could not be read")
                entry.comments.append(f"{name}: refers to an object that is not exported")
                continue
            _put(entry.values, name, value)
        kind.export_values(entry.values, entry.value_comments, obj)
        for owned in kind.owns:
            self.owned_items(entry, obj, get_kind(owned))
        return entry

    def keep(self, kind: Kind, name: str, value: Any) -> bool:
        return value is not None and not kind.export_omits(name, value)

    def resolvable(self, kind: Kind, name: str, value: Any) -> bool:
        """Whether a reference field's keys are all exported (other fields always are)."""
        target = kind.reference_kind(name)
        if target is None:
            return True
        keys = self.exported.get(target, {})
        values = value if isinstance(value, tuple) else (value,)
        return all(not str(k).startswith(UNKNOWN_PREFIX) and k in keys for k in values)

    def owned_items(self, entry: Entry, customer: Obj, kind: Kind) -> None:
        if kind.name not in self.objects:
            return
        items = sorted(self.owned.get((kind.name, customer.address), ()), key=kind.export_order)
        rows: list[dict[str, Any]] = []
        seen: set[tuple[Any, ...]] = set()
        for item in items:
            try:
                row = self.item(kind, item)
                identity = kind.natural_key(item)
                if identity in seen:
                    raise _Unrepresentable(f"an earlier one has the same {kind.identity_words}, "
                                           "which the config cannot tell apart")
                seen.add(identity)
            except _Unrepresentable as exc:
                where = f"{customer.address}.{kind.name} (id {item.id})"
                self.skipped.append(f"{where}: {exc}")
                entry.comments.append(f"not exported: {kind.name} id {item.id}: {exc}")
                continue
            rows.append(row)
        rows = kind.export_rows(rows)
        if rows:
            entry.values[kind.name] = rows
            self.items[kind.name] = self.items.get(kind.name, 0) + len(rows)

    def item(self, kind: Kind, obj: Obj) -> dict[str, Any]:
        problem = kind.export_item_problem(obj, self.exported)
        if problem:
            raise _Unrepresentable(problem)
        row: dict[str, Any] = {"id": obj.id} if obj.id else {}
        for name in kind.export_fields(obj):
            value = obj.fields[name]
            if not self.keep(kind, name, value):
                continue
            if not self.resolvable(kind, name, value):
                continue  # an unknown location: the customer's is used
            row[name] = value
        return row


def _negative(obj: Obj) -> str | None:
    for value in obj.fields.values():
        if isinstance(value, Decimal) and value < 0:
            return f"it has a negative amount ({value})"
    return None


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
    notes = Section("")  # in the header file, before its sections
    for name, reason in sorted(snapshot.unreadable.items()):
        if name in wanted:
            kind = get_kind(name)
            where = f" ({kind.portal})" if kind.portal else ""
            them = "it" if kind.singleton else "them"  # the invoicing settings: one section
            builder.skipped.append(f"{name}: {reason}")
            notes.notes.append(f"{name}: {reason}; add {them} by hand{where}")
    header = {"version": 1, "organization": org, "currency": currency}
    files = _files(sections, header, notes)
    found = {**{name: len(s.entries) for name, s in sections.items()}, **builder.items}
    counts = {k.name: found[k.name] for k in registry() if found.get(k.name)}  # in rank order
    return Export(files=files, counts=counts, skipped=builder.skipped)


def layout() -> dict[str, list[str]]:
    """File -> the kinds it holds, in dependency order; every keyed kind has its file."""
    files: dict[str, list[str]] = {HEADER_FILE: []}
    for kind in registry():
        if not kind.owned:
            files.setdefault(kind.export_file or f"{kind.name}.yaml", []).append(kind.name)
    return files


def _files(
    sections: Mapping[str, Section], header: dict[str, Any], notes: Section
) -> dict[str, str]:
    files: dict[str, str] = {}
    for path, names in layout().items():
        chosen = [sections[n] for n in names if n in sections]
        if path == HEADER_FILE:
            files[path] = render_file(_modeline(path), [notes, *chosen], header)
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
