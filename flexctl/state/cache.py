"""The snapshot cache: the last read of each incremental collection, per API and organization.

One SQLite file per API base and organization in the user's cache directory
(`FLEXCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/flexctl`, else `~/.cache/flexctl`), never in the
configuration tree. It holds the documents exactly as the platform's list answered them (the
`$select`ed fields only: names, dates, prices, references; no credential, no token), when
each collection was read by the platform's clock, and how many it held. A cache that cannot
be opened, read or written is dropped and the read is a full one: the cache only ever saves
requests, it never decides what the plan sees. What it holds is checked as an answer is: each
document parsed within jsonwire's limits and an object with its row's `_id`, each time a
plausible one; anything else is a file that cannot be read.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from flexctl.cachedir import DEFAULT_MAX_AGE, cache_dir, max_age
from flexctl.platform.jsonwire import decode_values, document_encoder
from flexctl.platform.logs import logger

log = logger(__name__)

# The times flexctl believes a read began at (epoch seconds, 2000-01-01 to 2100-01-01 UTC): a
# platform `Date` or a stored time outside them is no read's, and date arithmetic on it (the
# margin of an incremental read) could leave the calendar.
EARLIEST = 946_684_800.0
LATEST = 4_102_444_800.0

# Bumped whenever what is stored changes meaning: an older file is emptied (and its
# collections read in full again). 2: invoices (`payments`) are no longer stored.
FORMAT = "2"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, selected TEXT NOT NULL, started REAL NOT NULL, saved REAL NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    collection TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (collection, id)) WITHOUT ROWID;
"""


def plausible_time(value: object) -> TypeGuard[float]:
    """Whether `value` is a time (epoch seconds) a read may have begun at."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and EARLIEST <= value < LATEST)


def cache_file(directory: Path, api_url: str, org: str) -> Path:
    """The file of one API base and organization: readable names, a hash to keep them apart."""
    parts = urlsplit(api_url)
    host = _UNSAFE.sub("_", parts.hostname or "api") + (f"_{parts.port}" if parts.port else "")
    digest = sha256(f"{api_url.rstrip('/')}\n{org}".encode()).hexdigest()[:12]
    return directory / f"{host}-{_UNSAFE.sub('_', org)[:60]}-{digest}.sqlite"


@dataclass(frozen=True)
class Entry:
    """The last read of one collection."""

    docs: dict[str, dict[str, Any]]  # _id -> document
    started: float  # when that read began, by the platform's clock (epoch seconds)
    saved: float  # when it was stored, by this machine's clock


class SnapshotCache:
    """The cache file of one target, created on first use; every failure turns into "no
    entry" (a full read)."""

    def __init__(self, path: Path, *, max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_age = max_age
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # kinds are read on several threads

    @classmethod
    def open(cls, api_url: str, org: str, *, env: Mapping[str, str] | None = None,
             clock: Callable[[], float] = time.time) -> SnapshotCache:
        return cls(cache_file(cache_dir(env), api_url, org), max_age=max_age(env), clock=clock)

    def close(self) -> None:
        with self._lock:
            self._close()

    def __enter__(self) -> SnapshotCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- reading and writing -------------------------------------------------------------------

    def entry(self, collection: str, select: Iterable[str]) -> Entry | None:
        """The last read of `collection` with the same `$select`, unless too old or unreadable."""
        with self._lock:
            return self._entry(collection, select)

    def _entry(self, collection: str, select: Iterable[str]) -> Entry | None:
        try:
            conn = self._connection()
            row = conn.execute("SELECT selected, started, saved FROM collections WHERE name = ?",
                               (collection,)).fetchone()
            if row is None or row[0] != _selected(select):
                return None
            if not plausible_time(row[1]) or not isinstance(row[2], int | float):
                raise ValueError(f"the times of {collection}'s last read are not times")
            now = self._clock()
            if not 0 <= now - row[2] <= self.max_age:  # too old, or this clock went backwards
                log.info("snapshot cache: %s is %.0f s old; reading it in full", collection,
                         now - row[2])
                return None
            docs = _loaded(conn.execute("SELECT id, doc FROM docs WHERE collection = ?",
                                        (collection,)).fetchall())
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._drop(exc)
            return None
        return Entry(docs, started=float(row[1]), saved=float(row[2]))

    def replace(self, collection: str, select: Iterable[str], docs: Iterable[Mapping[str, Any]],
                started: float, *, texts: Mapping[str, str] | None = None) -> None:
        """Store a full read of `collection` (`texts`: documents' JSON texts by `_id`, as the
        platform wrote them, stored instead of writing those documents again)."""
        self._write(collection, select, started, docs, removed=None, texts=texts)

    def update(self, collection: str, select: Iterable[str], changed: Iterable[Mapping[str, Any]],
               removed: Iterable[str], started: float) -> None:
        """Store an incremental read: the documents that changed and the ids that went."""
        self._write(collection, select, started, changed, removed=list(removed))

    def forget(self, collection: str) -> None:
        """Drop a collection's entry (its next read is a full one)."""
        with self._lock:
            try:
                with self._connection() as conn:
                    conn.execute("DELETE FROM collections WHERE name = ?", (collection,))
                    conn.execute("DELETE FROM docs WHERE collection = ?", (collection,))
            except (sqlite3.Error, OSError) as exc:
                self._drop(exc)

    def _write(self, collection: str, select: Iterable[str], started: float,
               docs: Iterable[Mapping[str, Any]], removed: list[str] | None,
               texts: Mapping[str, str] | None = None) -> None:
        # Encoded as SQLite takes them: never all of a collection's text at once.
        encode = document_encoder()
        written = texts or {}
        rows = ((collection, str(doc["_id"]), written.get(doc["_id"]) or encode(doc))
                for doc in docs)
        with self._lock:
            self._store(collection, select, started, rows, removed)

    def _store(self, collection: str, select: Iterable[str], started: float,
               rows: Iterable[tuple[str, str, str]], removed: list[str] | None) -> None:
        try:
            with self._connection() as conn:
                if removed is None:
                    conn.execute("DELETE FROM docs WHERE collection = ?", (collection,))
                else:
                    conn.executemany("DELETE FROM docs WHERE collection = ? AND id = ?",
                                     [(collection, doc_id) for doc_id in removed])
                conn.executemany("INSERT OR REPLACE INTO docs VALUES (?, ?, ?)", rows)
                conn.execute("INSERT OR REPLACE INTO collections VALUES (?, ?, ?, ?)",
                             (collection, _selected(select), started, self._clock()))
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._drop(exc)

    # -- the file ------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            try:
                # A cache: losing the last write to a power cut costs a full read, no more.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
                row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if row is None or row[0] != FORMAT:
                    with conn:  # another flexctl's format: start again
                        conn.execute("DELETE FROM collections")
                        conn.execute("DELETE FROM docs")
                        conn.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)",
                                     (FORMAT,))
            except sqlite3.Error:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop(self, exc: Exception) -> None:
        """A cache that fails is deleted, so the next run starts a sound one."""
        log.warning("snapshot cache %s cannot be used (%s); reading in full", self.path, exc)
        self._close()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def _loaded(rows: list[tuple[Any, Any]]) -> dict[str, dict[str, Any]]:
    """_id -> document of stored rows, each parsed within the limits of an answer
    (`decode_values`: nesting, digits, one value a row). A row that is not text, or a document
    that is not an object with its row's `_id`, raises ValueError (a damaged file: the cache is
    dropped)."""
    docs: dict[str, dict[str, Any]] = {}
    if not all(type(doc_id) is str and type(text) is str for doc_id, text in rows):
        raise ValueError("a stored row is not text")
    for (doc_id, _), doc in zip(rows, decode_values([text for _, text in rows]), strict=True):
        if type(doc) is not dict or doc.get("_id") != doc_id:
            raise ValueError(f"the stored document {doc_id[:40]!r} is not an object with "
                             "its _id")
        docs[doc_id] = doc
    return docs


def _selected(select: Iterable[str]) -> str:
    return ",".join(sorted(select))
