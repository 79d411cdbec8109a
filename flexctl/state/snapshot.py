"""The live snapshot: the organization read into the same normalized objects the config gives.

Kinds are fetched concurrently (only what the config uses, plus what its references need, or
everything for export) and then normalized in dependency order, so that every reference can be
translated from a platform id to a config key. Each live object is matched to its desired
object — by `id:` pin first, then by natural key — and takes that object's address; undeclared
live objects get a key of their own (a unique slug of their name), which the diff reports as
unmanaged — except a second live object with the natural key of a declared one, which is marked
`meta["duplicate_of"]` (two applies at once, or a retry the platform did not deduplicate) so
the plan blocks on it instead of calling it unmanaged. Kinds whose undeclared objects may be
deleted (`complete`: the pruned ones) are read with their count checked, so no delete is planned
from a partial read. Requests: one list per page of 50 per kind read, plus the account status on
targets that expose it. Which objects are invoiced (billing history) is not read here: a plan
reads the invoices of the customers its changes concern (`flexctl.state.history`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flexctl.errors import MalformedAnswerError
from flexctl.gcpause import gc_paused
from flexctl.kinds import registry, with_references
from flexctl.kinds._owned import unique_address
from flexctl.kinds._values import PlatformValueError, unique_slug
from flexctl.kinds.base import Kind, Obj, Profile
from flexctl.kinds.refs import RefMap
from flexctl.state.incremental import CachedReader, platform_time

ACCOUNT_PATH = "account"


class SnapshotClient(Protocol):
    """The part of `FlexClient` the snapshot uses."""

    @property
    def profile(self) -> Profile: ...

    def list(
        self, path: str, select: Iterable[str] = (), filters: Mapping[str, Any] | None = None
    ) -> Iterable[dict[str, Any]]: ...

    def get_singleton(self, path: str) -> dict[str, Any]: ...

    def read_complete(
        self, path: str, select: Iterable[str] = ()
    ) -> builtins.list[dict[str, Any]]: ...

    def map_concurrently(
        self, fn: Callable[[Any], Any], items: Iterable[Any]
    ) -> builtins.list[Any]: ...


@dataclass
class Snapshot:
    target: dict[str, Any]  # {"api_url", "org", "profile"}
    currency: str
    objects: dict[str, list[Obj]]  # kind -> live objects, matched ones at their desired address
    unreadable: dict[str, str]  # kind -> why the target cannot read it
    refs: RefMap
    account_status: str | None  # "onboarding" | "active"; None when the target hides it
    read_at: float | None = None  # when the read began, by the platform's clock (epoch s)


@gc_paused()  # hundreds of thousands of acyclic objects: no collector scans while they come
def read_snapshot(
    client: SnapshotClient,
    desired: Mapping[str, list[Obj]],
    currency: str,
    kinds: Collection[str] | None = None,
    all_objects: bool = False,
    *,
    target: Mapping[str, Any] | None = None,
    complete: Collection[str] = (),
    reader: CachedReader | None = None,
) -> Snapshot:
    """Read the live objects `desired` needs (every kind with `all_objects`), normalized.

    `kinds` limits the read to those kinds plus what their references need; `target`
    (`{"api_url", "org"}`) is recorded in the snapshot together with the detected profile;
    the kinds in `complete` are read against their count (`FlexClient.read_complete`);
    `reader` reads the kinds through the snapshot cache (incremental reads).
    """
    profile = client.profile
    read_at = platform_time(client)
    wanted = {k.name for k in registry()} if all_objects else set(desired)
    if kinds is not None:
        wanted &= set(kinds)
    to_read = [k for k in registry() if k.name in with_references(wanted)]
    readable = [k for k in to_read if k.capability(profile).read]
    unreadable = {k.name: k.unreadable_reason for k in to_read if not k.capability(profile).read}

    jobs: list[tuple[str, Callable[[], Any]]] = [
        (k.name, _fetcher(client, k, k.name in complete, reader)) for k in readable
    ]
    if profile is Profile.FULL:
        jobs.append((ACCOUNT_PATH, lambda: client.get_singleton(ACCOUNT_PATH)))
    fetched: dict[str, Any] = dict(
        zip([n for n, _ in jobs], client.map_concurrently(lambda j: j[1](), jobs), strict=True)
    )

    refs = RefMap()
    objects: dict[str, list[Obj]] = {}
    for kind in readable:  # each kind's documents are dropped as soon as they are normalized
        objects[kind.name] = normalize_kind(kind, fetched.pop(kind.name),
                                            desired.get(kind.name, ()), refs, currency)
    account = fetched.get(ACCOUNT_PATH)
    return Snapshot(
        target={**(target or {}), "profile": profile.value},
        currency=currency,
        objects=objects,
        unreadable=unreadable,
        refs=refs,
        account_status=str(account["status"]) if account and account.get("status") else None,
        read_at=read_at,
    )


def _fetcher(
    client: SnapshotClient, kind: Kind, complete: bool, reader: CachedReader | None
) -> Callable[[], Any]:
    path = kind.api_path or kind.name
    if kind.singleton:
        return lambda: [client.get_singleton(path)]
    if reader is not None:
        return lambda: reader.read(kind, complete)
    if complete:
        return lambda: client.read_complete(path, select=kind.select)
    return _lister(client, path, kind.select)


def _lister(client: SnapshotClient, path: str, select: tuple[str, ...]) -> Callable[[], Any]:
    return lambda: list(client.list(path, select=select))


def normalize_kind(
    kind: Kind,
    docs: Iterable[Mapping[str, Any]],
    desired: Iterable[Obj],
    refs: RefMap,
    currency: str,
    invoiced: Collection[str] = (),
) -> list[Obj]:
    """Live documents of one kind, normalized and aligned with the desired objects."""
    live = [_normalized(kind, doc, refs, currency) for doc in docs]
    del docs  # the caller's documents, once normalized, are not needed here any more
    if kind.singleton:
        return live
    wanted = list(desired)
    pairs = match(kind, live, wanted)
    twins = duplicates(kind, live, pairs)
    if kind.owned:
        placed = _place_owned(kind, live, wanted, pairs, invoiced)
    else:
        placed = _place_keyed(kind, live, wanted, pairs, refs)
    for i, twin in twins.items():
        obj = placed[i]
        placed[i] = Obj(obj.kind, obj.address, obj.fields, obj.id, obj.owner,
                        {**obj.meta, "duplicate_of": twin.address})
    return placed


def match(kind: Kind, live: list[Obj], desired: list[Obj]) -> dict[int, Obj]:
    """Live index -> desired object: an `id:` pin wins, then the natural key (first live)."""
    pairs: dict[int, Obj] = {}
    by_id = {obj.id: i for i, obj in enumerate(live)}
    for obj in desired:
        if obj.id is not None and (i := by_id.get(obj.id)) is not None and i not in pairs:
            pairs[i] = obj
    index: dict[tuple[Any, ...], list[int]] = {}
    for i, obj in enumerate(live):
        for key in kind.live_keys(obj):
            index.setdefault(key, []).append(i)
    unmatched = []
    for obj in desired:
        if obj.id is not None:
            continue  # a pinned object matches its id only; unmatched it is created
        for i in index.get(kind.natural_key(obj), ()):
            if i not in pairs:
                pairs[i] = obj
                break
        else:
            unmatched.append(obj)
    _match_loosely(kind, live, unmatched, pairs)
    return pairs


def _normalized(kind: Kind, doc: Mapping[str, Any], refs: RefMap, currency: str) -> Obj:
    """One live document, normalized; a value no field can hold is an error naming the request,
    the object and the field, never a crash (and nothing is written after a failed read)."""
    path = kind.api_path or kind.name
    try:
        for field in kind.required_live:
            if doc.get(field) in (None, ""):
                raise PlatformValueError(field, doc.get(field), "is missing: every "
                                         f"{kind.noun} on the platform has one")
        return kind.from_api(doc, refs, currency)
    except PlatformValueError as exc:
        raise MalformedAnswerError("GET", path, 200, f"{kind.noun} {_named(doc)}: {exc}") from None
    except (ValueError, ArithmeticError, TypeError, AttributeError, KeyError) as exc:
        raise MalformedAnswerError(
            "GET", path, 200,
            f"{kind.noun} {_named(doc)} is not shaped as flexctl expects ({type(exc).__name__})",
        ) from None


def _named(doc: object) -> str:
    """How an error names a live document: its `_id`, whatever the document is."""
    name = doc.get("_id") if isinstance(doc, Mapping) else None
    return str(name) if name else "(no id)"


def duplicates(kind: Kind, live: list[Obj], pairs: dict[int, Obj]) -> dict[int, Obj]:
    """Live index -> the declared object an unmatched live object duplicates: it has the
    natural key a declared (unpinned) object was matched by."""
    found: dict[int, Obj] = {}
    if len(pairs) == len(live):
        return found  # every live object is matched (the common case): no key is asked again
    claimed = {kind.natural_key(obj): obj for obj in pairs.values() if obj.id is None}
    if not claimed:
        return found
    for i, obj in enumerate(live):
        if i in pairs:
            continue
        twin = next((claimed[key] for key in kind.live_keys(obj) if key in claimed), None)
        if twin is not None:
            found[i] = twin
    return found


def _match_loosely(
    kind: Kind, live: list[Obj], unmatched: list[Obj], pairs: dict[int, Obj]
) -> None:
    """Pair what the natural key left unmatched by the kind's weaker key (fees: no name)."""
    wanted = [(key, obj) for obj in unmatched if (key := kind.loose_key(obj)) is not None]
    if not wanted:
        return
    index: dict[tuple[Any, ...], list[int]] = {}
    for i, obj in enumerate(live):
        if i not in pairs and (key := kind.loose_key(obj)) is not None:
            index.setdefault(key, []).append(i)
    for key, obj in wanted:
        for i in index.get(key, ()):
            if i not in pairs:
                pairs[i] = obj
                break


def _place_keyed(
    kind: Kind, live: list[Obj], desired: list[Obj], pairs: dict[int, Obj], refs: RefMap
) -> list[Obj]:
    taken = {str(obj.meta["key"]) for obj in desired}
    out: list[Obj] = []
    for i, obj in enumerate(live):
        twin = pairs.get(i)
        key = str(twin.meta["key"]) if twin else unique_slug(kind.slug_base(obj), taken)
        refs.add(kind.name, key, str(obj.id))
        refs.set_name(kind.name, key, str(obj.fields.get("name") or ""))  # fees compare names
        out.append(_moved(obj, f"{kind.name}.{key}"))
    return out


def _place_owned(
    kind: Kind,
    live: list[Obj],
    desired: list[Obj],
    pairs: dict[int, Obj],
    invoiced: Collection[str],
) -> list[Obj]:
    taken = {obj.address for obj in desired}
    out: list[Obj] = []
    for i, obj in enumerate(live):
        twin = pairs.get(i)
        address = twin.address if twin else unique_address(obj.address, taken)
        moved = _moved(obj, address)
        if obj.id in invoiced:
            moved = Obj(
                moved.kind,
                address,
                moved.fields,
                moved.id,
                moved.owner,
                {**moved.meta, "invoiced": True},
            )
        out.append(moved)
    return out


def _moved(obj: Obj, address: str) -> Obj:
    if obj.address == address:
        return obj
    return Obj(obj.kind, address, obj.fields, obj.id, obj.owner, obj.meta)
