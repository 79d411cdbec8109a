"""Incremental reads: a kind the platform filters by `modifiedAt` is read as a change set.

For a kind whose `incremental` hook is true and whose last read is in the snapshot cache, a
read asks the platform only for what changed since that read began (`modifiedAt[$gt]`, less
`MARGIN` for clocks and late writes), merges it into the cached documents and checks the
result against the collection's count. Deletions leave no trace in a change set, so a count
that disagrees with the merged documents starts an id sweep (`$select=_id`, a page per 50
objects) that finds what went; ids the sweep finds but the cache lacks are fetched by
`_id[$in]`. Every other kind, a kind not cached yet, a cache too old (`FLEXCTL_CACHE_MAX_AGE`),
a platform clock that went backwards, or a platform that refuses the filter: a full read,
stored for next time.

Times are the platform's own (its `Date` header), so this machine's clock does not matter,
unless the `Date` is no plausible time (before 2000, from 2100, beyond the calendar) or runs
more than `AHEAD` ahead of this machine's clock: a read started that far "ahead" would ask the
next one for too little. Such a `Date` is not used; this machine's clock is.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from flexctl.errors import ApiError
from flexctl.kinds.base import Kind
from flexctl.platform.logs import logger
from flexctl.state.cache import SnapshotCache, plausible_time

log = logger(__name__)

MARGIN = 300.0  # seconds before the last read's start still asked for again
AHEAD = 2 * 86400.0  # a platform clock further ahead of this machine's is not believed
ID_BATCH = 50  # `_id[$in]` takes at most 50 values (reference §2.1)


class CountingClient(Protocol):
    """The part of `FlexClient` an incremental read uses."""

    @property
    def observed(self) -> dict[str, str]: ...

    def list(
        self, path: str, select: Iterable[str] = (), filters: Mapping[str, Any] | None = None,
        *, texts: dict[str, str] | None = None,
    ) -> Iterable[dict[str, Any]]: ...

    def count(self, path: str, filters: Mapping[str, Any] | None = None) -> int: ...

    def read_complete(
        self, path: str, select: Iterable[str] = (), *, texts: dict[str, str] | None = None,
    ) -> builtins.list[dict[str, Any]]: ...


def platform_time(client: object) -> float:
    """Now by the platform's clock (the last answer's `Date`, which is no later than now),
    else by this machine's; one second earlier, since `Date` drops the fraction. A `Date` that
    cannot be read, is no plausible time or runs more than `AHEAD` ahead of this machine's
    clock is not used (a debug note)."""
    local = time.time()
    observed = getattr(client, "observed", None)
    stamp = observed.get("date") if isinstance(observed, Mapping) else None
    if stamp:
        try:
            theirs: float | None = parsedate_to_datetime(stamp).timestamp()
        except (TypeError, ValueError, OverflowError):
            theirs = None
        if theirs is not None and plausible_time(theirs) and theirs <= local + AHEAD:
            return theirs - 1.0
        log.debug("the platform's Date %.40r is no time a read can begin at; using this "
                  "machine's clock", stamp)
    return local - 1.0


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class CachedReader:
    """Reads kinds through the snapshot cache (`refresh`: every read is a full one)."""

    def __init__(self, client: CountingClient, cache: SnapshotCache, *,
                 refresh: bool = False) -> None:
        self.client = client
        self.cache = cache
        self.refresh = refresh
        self.incremental: set[str] = set()  # collections read as a change set this run
        self.swept: set[str] = set()  # ... whose count disagreed: an id sweep

    def read(self, kind: Kind, complete: bool) -> list[dict[str, Any]]:
        """Every document of `kind`'s collection, ordered by `_id`."""
        return self.read_path(kind.api_path or kind.name, kind.select, kind.incremental,
                              complete)

    def read_path(self, path: str, select: tuple[str, ...], incremental: bool,
                  complete: bool = False) -> list[dict[str, Any]]:
        """Every document of a collection (`incremental`: the platform filters it by
        `modifiedAt`, so it is cached and read as a change set), ordered by `_id`."""
        if not incremental:
            return self._full(path, select, complete, store=False)
        entry = None if self.refresh else self.cache.entry(path, select)
        if entry is not None:
            docs = self._changes(path, select, entry.docs, entry.started)
            if docs is not None:
                return docs
        return self._full(path, select, complete, store=True)

    def _full(self, path: str, select: tuple[str, ...], complete: bool, *,
              store: bool) -> list[dict[str, Any]]:
        started = platform_time(self.client)
        # What the cache stores: each document's text as the platform wrote it (writing 40,000
        # documents again cost a twentieth of a full plan's CPU).
        texts: dict[str, str] | None = {} if store else None
        if complete:
            docs = self.client.read_complete(path, select=select, texts=texts)
        else:
            docs = list(self.client.list(path, select=select, texts=texts))
        if store and plausible_time(started):  # this machine's clock may be no better
            self.cache.replace(path, select, docs, started, texts=texts)
        return sorted(docs, key=_id_of)

    def _changes(self, path: str, select: tuple[str, ...], cached: dict[str, dict[str, Any]],
                 last: float) -> list[dict[str, Any]] | None:
        """The collection from the cache and what changed since `last`; None: read it in full."""
        started = platform_time(self.client)
        if not plausible_time(started):
            return None
        if started < last:
            log.info("snapshot cache: the platform's clock is before the last read of %s", path)
            return None
        count = self.client.count(path)  # before the changes: what is created after shows
        try:
            changed = list(self.client.list(
                path, select=select, filters={"modifiedAt[$gt]": iso(last - MARGIN)}))
        except ApiError as exc:
            if exc.status != 400:
                raise
            log.info("snapshot cache: %s refuses modifiedAt (%s); reading it in full", path, exc)
            self.cache.forget(path)
            return None
        merged = dict(cached)
        merged.update((_id_of(doc), doc) for doc in changed)
        removed: list[str] = []
        if len(merged) != count:
            swept = self._sweep(path, select, merged)
            if swept is None:
                return None
            removed, fetched = swept
            changed += fetched
        self.incremental.add(path)
        self.cache.update(path, select, changed, removed, started)
        return [merged[key] for key in sorted(merged)]

    def _sweep(self, path: str, select: tuple[str, ...], merged: dict[str, dict[str, Any]]
               ) -> tuple[list[str], list[dict[str, Any]]] | None:
        """Every id of the collection: drop from `merged` what went, fetch what it lacks."""
        self.swept.add(path)
        ids = [_id_of(doc) for doc in self.client.list(path, select=("_id",))]
        live = set(ids)
        removed = [key for key in merged if key not in live]
        for key in removed:
            del merged[key]
        missing = [key for key in ids if key not in merged]
        fetched: list[dict[str, Any]] = []
        for start in range(0, len(missing), ID_BATCH):
            batch = missing[start:start + ID_BATCH]
            fetched += self.client.list(path, select=select, filters={"_id[$in]": batch})
        merged.update((_id_of(doc), doc) for doc in fetched)
        if len(merged) != len(live):
            log.info("snapshot cache: %s changed during the sweep; reading it in full", path)
            return None
        return removed, fetched


def _id_of(doc: Mapping[str, Any]) -> str:
    return str(doc["_id"])
