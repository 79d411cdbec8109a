"""SQLite storage for the emulator: organizations, JSON documents per kind, singletons.

One connection guarded by a re-entrant lock: each request runs inside one `transaction()`, so a
request's writes commit together or not at all, and requests are serialized (the emulator is a
test double, not a database server). File databases use WAL. Object ids are 24-hex ObjectIds
that only ever increase, allocated inside the write lock, so "everything after the last `_id`
I saw" is a gap-free cursor even while other threads insert.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flexctl.emulator import defaults, jsonutil
from flexctl.emulator.clock import Clock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orgs (
    slug TEXT PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    org TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (org, kind, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS singletons (
    org TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (org, name));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invoiced (
    org TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, payment TEXT NOT NULL,
    PRIMARY KEY (org, kind, id, payment));
"""
# Natural-key lookups (members by email, memberships by company, ...) must not scan 10k rows.
INDEXED_FIELDS = ("name", "code", "email", "company", "member")

ACCOUNT_STATUSES = ("onboarding", "active")


def field_expr(name: str) -> str:
    """The SQL expression for a top-level document field (names come from resource specs)."""
    return f"json_extract(doc, '$.{name}')"


# `->` returns a field's JSON text with numbers exactly as stored (SQLite 3.38+).
SQL_PROJECTION = sqlite3.sqlite_version_info >= (3, 38, 0)
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def projection(select: Sequence[str]) -> tuple[str, list[Any]]:
    """SQL building `{"_id": ..., <selected fields that exist>}` from `doc`, and its params."""
    parts = ["'{\"_id\":' || json_quote(id)"]
    params: list[Any] = []
    for name in dict.fromkeys(select):
        if name == "_id" or not _FIELD_NAME.match(name):
            continue  # like the real API, unknown (or unusable) names are ignored
        path = f'$."{name}"'
        parts.append(
            "CASE WHEN json_type(doc, ?) IS NULL THEN '' "
            "ELSE ',' || json_quote(?) || ':' || (doc -> ?) END"
        )
        params.extend([path, name, path])
    return " || ".join([*parts, "'}'"]), params


def _condition(
    org: str, kind: str, where: Sequence[tuple[str, Sequence[Any]]]
) -> tuple[str, list[Any]]:
    """The SQL condition (and its parameters) for a kind's documents matching `where`."""
    clauses = ["org = ?", "kind = ?", *(c for c, _ in where)]
    return " AND ".join(clauses), [org, kind, *(v for _, values in where for v in values)]


def _index_hint(where: Sequence[tuple[str, Sequence[Any]]]) -> str:
    # SQLite prefers walking the primary key for ORDER BY id LIMIT n, scanning every row of
    # the kind; an equality on an indexed field is far more selective (members by email).
    for clause, _ in where:
        for name in INDEXED_FIELDS:
            if clause == f"{field_expr(name)} = ?":
                return f" INDEXED BY objects_{name}"
    return ""


class Store:
    def __init__(self, db_path: str | None, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._depth = 0
        self.conn = sqlite3.connect(
            db_path or ":memory:", check_same_thread=False, isolation_level=None, timeout=10
        )
        if db_path:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        for name in INDEXED_FIELDS:
            self.conn.execute(
                f"CREATE INDEX IF NOT EXISTS objects_{name} "
                f"ON objects(org, kind, {field_expr(name)})"
            )
        self.conn.execute(
            "CREATE INDEX IF NOT EXISTS objects_email_ci ON objects(org, kind, "
            f"lower({field_expr('email')}))"
        )
        row = self.conn.execute("SELECT MAX(id) FROM objects").fetchone()
        self._last_id = int(row[0], 16) if row and row[0] else 0

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit; nested calls join the outer transaction."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def new_id(self) -> str:
        with self.transaction():
            stamp = int(self.clock.now()) << 64
            self._save_last_id(max(self._stored_last_id() + 1, stamp))
            return f"{self._last_id:024x}"

    def note_id(self, object_id: str) -> None:
        """Keep future ids above an id given explicitly (seed fixtures)."""
        with self.transaction():
            self._save_last_id(max(self._stored_last_id(), int(object_id, 16)))

    # The last id lives in the database, read and written inside the write transaction, so
    # another process using the same file (a served emulator, a second flexctl) never hands
    # out an id again, and ids keep growing in commit order.
    def _stored_last_id(self) -> int:
        row = self.conn.execute("SELECT value FROM counters WHERE name = 'last_id'").fetchone()
        return max(self._last_id, int(row[0], 16) if row else 0)

    def _save_last_id(self, value: int) -> None:
        self._last_id = value
        self.conn.execute(
            "INSERT OR REPLACE INTO counters (name, value) VALUES ('last_id', ?)",
            (f"{value:024x}",),
        )

    # -- organizations --------------------------------------------------------------------

    def ensure_org(self, slug: str) -> None:
        """Create the organization if missing: status onboarding, built-in accounts and types."""
        with self.transaction():
            if self.org_exists(slug):
                return
            self.conn.execute(
                "INSERT INTO orgs (slug, id, name, status) VALUES (?, ?, ?, 'onboarding')",
                (slug, self.new_id(), slug.replace("-", " ").title()),
            )
            now = self.clock.iso_now()
            for doc in defaults.REVENUE_ACCOUNTS:
                self.insert(slug, "revenue-accounts", {**doc, "taxRate": None}, now)
            for doc in defaults.RESOURCE_TYPES:
                self.insert(slug, "resource-types", dict(doc), now)
            self.put_singleton(slug, "billing-settings", dict(defaults.BILLING_SETTINGS))
            self.put_singleton(slug, "invoicing-settings", dict(defaults.INVOICING_SETTINGS))
            self.put_singleton(slug, "storefront", dict(defaults.STOREFRONT))

    def org_exists(self, slug: str) -> bool:
        with self.lock:
            row = self.conn.execute("SELECT 1 FROM orgs WHERE slug = ?", (slug,)).fetchone()
            return row is not None

    def organization(self, slug: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT id, name, status FROM orgs WHERE slug = ?", (slug,)
            ).fetchone()
        if row is None:
            return None
        return {"_id": row[0], "name": row[1], "slug": slug, "status": row[2]}

    def orgs(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.conn.execute("SELECT slug FROM orgs ORDER BY slug")]

    def account_status(self, slug: str) -> str:
        org = self.organization(slug)
        if org is None:
            raise KeyError(slug)
        return str(org["status"])

    def set_account_status(self, slug: str, status: str) -> None:
        if status not in ACCOUNT_STATUSES:
            raise ValueError(f"account status must be one of {', '.join(ACCOUNT_STATUSES)}")
        with self.transaction():
            self.ensure_org(slug)
            self.conn.execute("UPDATE orgs SET status = ? WHERE slug = ?", (status, slug))

    # -- documents ------------------------------------------------------------------------

    def insert(
        self, org: str, kind: str, doc: dict[str, Any], now: str | None = None
    ) -> dict[str, Any]:
        """Store a new document; assigns `_id` unless given and stamps createdAt/modifiedAt."""
        with self.transaction():
            object_id = doc.get("_id")
            if object_id:
                self.note_id(object_id)
            else:
                object_id = self.new_id()
            stamp = now or self.clock.iso_now()
            stored = {"_id": object_id, **doc}
            stored.setdefault("createdAt", stamp)
            stored.setdefault("modifiedAt", stamp)
            self.conn.execute(
                "INSERT INTO objects (org, kind, id, doc) VALUES (?, ?, ?, ?)",
                (org, kind, object_id, jsonutil.dumps(stored)),
            )
            return stored

    def get(self, org: str, kind: str, object_id: str) -> dict[str, Any] | None:
        raw = self.get_raw(org, kind, object_id)
        return None if raw is None else dict(jsonutil.loads(raw))

    def get_raw(self, org: str, kind: str, object_id: str) -> str | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT doc FROM objects WHERE org = ? AND kind = ? AND id = ?",
                (org, kind, object_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def replace(self, org: str, kind: str, doc: dict[str, Any]) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE objects SET doc = ? WHERE org = ? AND kind = ? AND id = ?",
                (jsonutil.dumps(doc), org, kind, doc["_id"]),
            )

    def delete(self, org: str, kind: str, object_id: str) -> bool:
        with self.transaction():
            cursor = self.conn.execute(
                "DELETE FROM objects WHERE org = ? AND kind = ? AND id = ?", (org, kind, object_id)
            )
            return cursor.rowcount > 0

    def page(
        self,
        org: str,
        kind: str,
        where: Sequence[tuple[str, Sequence[Any]]],
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int = 50,
        select: Sequence[str] | None = None,
    ) -> list[tuple[str, str]]:
        """Up to `limit` (id, JSON) rows in `_id` order, after or before a boundary id.

        With `select`, SQLite projects the documents itself (`_id` plus the selected fields
        present), which keeps `$select` lists as cheap as whole documents.
        """
        columns, params = projection(select) if select is not None else ("doc", [])
        clauses = ["org = ?", "kind = ?"]
        params.extend([org, kind])
        for clause, values in where:
            clauses.append(clause)
            params.extend(values)
        if after is not None:
            clauses.append("id > ?")
            params.append(after)
        if before is not None:
            clauses.append("id < ?")
            params.append(before)
        order = "DESC" if before is not None else "ASC"
        sql = (
            f"SELECT id, {columns} FROM objects{_index_hint(where)} "
            f"WHERE {' AND '.join(clauses)} "
            f"ORDER BY id {order} LIMIT ?"
        )
        with self.lock:
            rows = self.conn.execute(sql, [*params, limit]).fetchall()
        if before is not None:
            rows.reverse()
        return [(str(r[0]), str(r[1])) for r in rows]

    def count(self, org: str, kind: str, where: Sequence[tuple[str, Sequence[Any]]] = ()) -> int:
        condition, params = _condition(org, kind, where)
        with self.lock:
            row = self.conn.execute(
                f"SELECT COUNT(*) FROM objects WHERE {condition}", params
            ).fetchone()
        return int(row[0])

    def count_groups(
        self, org: str, kind: str, where: Sequence[tuple[str, Sequence[Any]]], field: str
    ) -> list[tuple[Any, int]]:
        """(value of `field`, how many documents have it), by value."""
        condition, params = _condition(org, kind, where)
        key = field_expr(field)
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {key}, COUNT(*) FROM objects WHERE {condition} "
                f"GROUP BY {key} ORDER BY {key}", params
            ).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def find(self, org: str, kind: str, field: str, value: Any) -> list[dict[str, Any]]:
        rows = self.page(org, kind, [(f"{field_expr(field)} = ?", [value])], limit=1_000_000)
        return [dict(jsonutil.loads(doc)) for _, doc in rows]

    def find_email(self, org: str, email: str) -> list[str]:
        """Ids of members whose email matches, ignoring case."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT id FROM objects WHERE org = ? AND kind = 'members' "
                f"AND lower({field_expr('email')}) = lower(?)",
                (org, email),
            ).fetchall()
        return [str(r[0]) for r in rows]

    # -- singletons and invoices -------------------------------------------------------------

    def get_singleton(self, org: str, name: str) -> dict[str, Any]:
        with self.lock:
            row = self.conn.execute(
                "SELECT doc FROM singletons WHERE org = ? AND name = ?", (org, name)
            ).fetchone()
        return {} if row is None else dict(jsonutil.loads(row[0]))

    def put_singleton(self, org: str, name: str, doc: dict[str, Any]) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO singletons (org, name, doc) VALUES (?, ?, ?)",
                (org, name, jsonutil.dumps(doc)),
            )

    def mark_invoiced(self, org: str, kind: str, object_id: str, payment_id: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO invoiced (org, kind, id, payment) VALUES (?, ?, ?, ?)",
                (org, kind, object_id, payment_id),
            )

    def unmark_invoiced(self, org: str, payment_id: str) -> None:
        """Forget what a voided invoice billed."""
        with self.transaction():
            self.conn.execute(
                "DELETE FROM invoiced WHERE org = ? AND payment = ?", (org, payment_id)
            )

    def is_invoiced(self, org: str, kind: str, object_id: str) -> bool:
        with self.lock:
            row = self.conn.execute(
                "SELECT 1 FROM invoiced WHERE org = ? AND kind = ? AND id = ?",
                (org, kind, object_id),
            ).fetchone()
        return row is not None

    def wipe(self) -> None:
        """Delete every organization and object (the harness reset)."""
        with self.transaction():
            for table in ("orgs", "objects", "singletons", "invoiced"):  # ids keep growing
                self.conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()
