"""The snapshot cache file and the reader's doubts: each one a full read, never a wrong one."""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from flexctl.cachedir import cache_dir, max_age
from flexctl.errors import ApiError, UsageError
from flexctl.kinds import get
from flexctl.state.cache import SnapshotCache, cache_file
from flexctl.state.incremental import MARGIN, CachedReader, iso, platform_time

FEES = get("fees")
# Recent, by this machine's clock: a platform clock far ahead of it is not believed.
T0 = float(int(time.time()) - 7200)


def test_the_cache_lives_in_the_user_cache_directory_one_file_per_api_and_org() -> None:
    assert cache_dir({"FLEXCTL_CACHE_DIR": "/x/c", "XDG_CACHE_HOME": "/y"}) == Path("/x/c")
    assert cache_dir({"XDG_CACHE_HOME": "/y"}) == Path("/y/flexctl")
    one = cache_file(Path("/c"), "https://app.officernd.com/api/v2", "acme")
    assert one.name.startswith("app.officernd.com-acme-") and one.suffix == ".sqlite"
    assert one != cache_file(Path("/c"), "https://app.officernd.com/api/v2", "other")
    assert one != cache_file(Path("/c"), "https://staging.officernd.com/api/v2", "acme")
    assert cache_file(Path("/c"), "http://127.0.0.1:8080/api/v2", "../x").parent == Path("/c")


def test_the_maximum_age_reads_units_and_refuses_nonsense() -> None:
    assert max_age({}) == 24 * 3600
    assert max_age({"FLEXCTL_CACHE_MAX_AGE": "90m"}) == 5400
    assert max_age({"FLEXCTL_CACHE_MAX_AGE": "0"}) == 0
    with pytest.raises(UsageError, match="FLEXCTL_CACHE_MAX_AGE"):
        max_age({"FLEXCTL_CACHE_MAX_AGE": "soon"})


def test_an_entry_comes_back_exactly_unless_old_or_selected_otherwise(tmp_path: Path) -> None:
    now = [T0]
    cache = SnapshotCache(tmp_path / "c.sqlite", max_age=3600, clock=lambda: now[0])
    docs: list[dict[str, Any]] = [{"_id": "b", "price": Decimal("12.50"), "quantity": 2},
                                  {"_id": "a", "price": None}]
    cache.replace("fees", ("price", "quantity"), docs, started=T0 - 5)
    entry = cache.entry("fees", ("quantity", "price"))
    assert entry is not None and entry.started == T0 - 5
    assert entry.docs == {"a": docs[1], "b": docs[0]}
    assert isinstance(entry.docs["b"]["price"], Decimal)
    assert cache.entry("fees", ("price",)) is None  # another $select: read again
    cache.update("fees", ("price", "quantity"), [{"_id": "c"}], ["a"], started=T0)
    entry = cache.entry("fees", ("price", "quantity"))
    assert entry is not None and sorted(entry.docs) == ["b", "c"]
    now[0] = T0 + 3601
    assert cache.entry("fees", ("price", "quantity")) is None  # too old
    now[0] = T0 - 60
    assert cache.entry("fees", ("price", "quantity")) is None  # this clock went backwards


def test_a_corrupt_or_foreign_cache_is_dropped_and_started_again(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"not a database" * 100)
    cache = SnapshotCache(path)
    assert cache.entry("fees", ()) is None
    assert not path.exists()
    cache.replace("fees", (), [{"_id": "a"}], started=T0)
    assert cache.entry("fees", ()) is not None
    cache.close()


def test_many_documents_come_back_exactly_and_a_damaged_row_drops_the_cache(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.sqlite"
    cache = SnapshotCache(path, clock=lambda: T0)
    docs = [{"_id": f"{n:05d}", "price": Decimal(f"{n}.50"), "name": f"fee {n}", "tags": [n, "x"]}
            for n in range(2500)]  # several load batches
    cache.replace("fees", ("price",), docs, started=T0)
    entry = cache.entry("fees", ("price",))
    assert entry is not None and entry.docs == {d["_id"]: d for d in docs}
    assert all(type(d["price"]) is Decimal for d in entry.docs.values())
    cache.close()
    with sqlite3.connect(path) as conn:  # one row now holds two values
        conn.execute("UPDATE docs SET doc = '1,2' WHERE id = '01234'")
    conn.close()
    cache = SnapshotCache(path, clock=lambda: T0)
    assert cache.entry("fees", ("price",)) is None
    assert not path.exists()


class Fake:
    """A platform of fees: counts, lists (with `modifiedAt[$gt]`), its `Date`."""

    def __init__(self, docs: list[dict[str, Any]], now: float, *, refuse: bool = False) -> None:
        self.docs = docs
        self.now = now
        self.refuse = refuse
        self.asked: list[Mapping[str, Any]] = []

    @property
    def observed(self) -> dict[str, str]:
        return {"date": formatdate(self.now, usegmt=True)}

    def list(self, path: str, select: Iterable[str] = (),
             filters: Mapping[str, Any] | None = None, *,
             texts: dict[str, str] | None = None) -> builtins.list[dict[str, Any]]:
        self.asked.append(filters or {})
        if filters and "modifiedAt[$gt]" in filters:
            if self.refuse:
                raise ApiError("GET", path, 400, "property modifiedAt should not exist")
            return [d for d in self.docs if d["modifiedAt"] > filters["modifiedAt[$gt]"]]
        return list(self.docs)

    def count(self, path: str, filters: Mapping[str, Any] | None = None) -> int:
        return len(self.docs)

    def read_complete(self, path: str, select: Iterable[str] = (), *,
                      texts: dict[str, str] | None = None) -> builtins.list[dict[str, Any]]:
        return list(self.docs)


def _doc(n: int, modified: str) -> dict[str, Any]:
    return {"_id": f"{n:024x}", "modifiedAt": modified}


def test_a_platform_that_refuses_the_filter_is_read_in_full(tmp_path: Path) -> None:
    platform = Fake([_doc(1, "2027-01-15T00:00:00.000Z")], T0)
    reader = CachedReader(platform, SnapshotCache(tmp_path / "c.sqlite", clock=lambda: T0))
    reader.read(FEES, complete=False)
    platform.refuse, platform.now = True, T0 + 3600
    assert reader.read(FEES, complete=False) == platform.docs
    assert platform.asked[-1] == {} and not reader.incremental


def test_a_platform_clock_before_the_last_read_means_a_full_read(tmp_path: Path) -> None:
    platform = Fake([_doc(1, "2027-01-15T00:00:00.000Z")], T0)
    reader = CachedReader(platform, SnapshotCache(tmp_path / "c.sqlite", clock=lambda: T0))
    reader.read(FEES, complete=False)
    platform.now = T0 - 3600
    reader.read(FEES, complete=False)
    assert platform.asked[-1] == {} and not reader.incremental
    platform.now = T0 + 3600
    reader.read(FEES, complete=False)
    asked = platform.asked[-1]["modifiedAt[$gt]"]
    # The change set starts at the last read's start by the platform's Date, less the margin.
    assert asked == iso(T0 - 3600 - 1 - MARGIN)
    assert reader.incremental == {"fees"}


def test_a_file_of_another_format_is_emptied_on_first_use(tmp_path: Path) -> None:
    # Format 1 stored invoices (`payments`), which nothing reads any more: their rows go.
    path = tmp_path / "c.sqlite"
    cache = SnapshotCache(path, clock=lambda: T0)
    cache.replace("payments", ("amount",), [{"_id": "i1", "amount": Decimal("10.00")}], T0)
    cache.replace("fees", ("price",), [{"_id": "f1", "price": Decimal("1.00")}], T0)
    cache.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    conn.close()
    reopened = SnapshotCache(path, clock=lambda: T0)
    assert reopened.entry("fees", ("price",)) is None
    reopened.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM docs").fetchone() == (0,)
        assert conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == ("2",)
    conn.close()


class Dated(Fake):
    """A platform whose answers carry the given `Date` header, whatever the time."""

    def __init__(self, docs: list[dict[str, Any]], date: str) -> None:
        super().__init__(docs, T0)
        self.date = date

    @property
    def observed(self) -> dict[str, str]:
        return {"date": self.date}


ABSURD_DATES = [
    "Fri, 31 Dec 9999 23:59:59 -2300",  # year 10000 in UTC: crashed the next run
    "Sat, 01 Jan 10000 00:00:00 GMT",
    "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # OverflowError
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Sun, 01 Jan 2090 00:00:00 GMT",  # in the calendar, but decades ahead of this machine
    "not a date",
]


@pytest.mark.parametrize("date", ABSURD_DATES)
def test_an_absurd_platform_date_is_not_the_time_of_a_read(date: str) -> None:
    now = time.time()
    assert now - 5 <= platform_time(Dated([], date)) <= now


def test_a_platform_clock_somewhat_off_is_still_the_platforms() -> None:
    for off in (-30 * 86400, -3600, 3600, 86400):  # a day ahead: still believed
        assert platform_time(Fake([], time.time() + off)) == pytest.approx(
            time.time() + off - 1, abs=2)


@pytest.mark.parametrize("date", ABSURD_DATES)
def test_runs_under_an_absurd_date_read_and_cache_by_this_machines_clock(
        tmp_path: Path, date: str) -> None:
    platform = Dated([_doc(1, "2027-01-15T00:00:00.000Z")], date)
    cache = SnapshotCache(tmp_path / "c.sqlite")
    for _ in range(3):  # the second run crashed: ValueError: year 10000 is out of range
        assert CachedReader(platform, cache).read(FEES, complete=False) == platform.docs
    entry = cache.entry("fees", FEES.select)
    assert entry is not None and time.time() - 60 <= entry.started <= time.time()


@pytest.mark.parametrize("started", [253402383599.0 + 82800, -1e300, 1e300, 0.0,
                                     float("nan"), float("inf")])
def test_an_entry_whose_read_began_at_no_plausible_time_is_no_entry(
        tmp_path: Path, started: float) -> None:
    cache = SnapshotCache(tmp_path / "c.sqlite", clock=lambda: T0)
    cache.replace("fees", ("price",), [{"_id": "a"}], started=started)
    assert cache.entry("fees", ("price",)) is None
    cache.replace("fees", ("price",), [{"_id": "a"}], started=T0)
    assert cache.entry("fees", ("price",)) is not None


@pytest.mark.parametrize(("sql", "value"), [
    ("UPDATE docs SET doc = ? WHERE id = 'b'", "null"),  # crashed the plan: doc.get
    ("UPDATE docs SET doc = ? WHERE id = 'b'", "1"),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", "[1,2]"),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", '"b"'),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", "[" * 50_000),  # RecursionError
    ("UPDATE docs SET doc = ? WHERE id = 'b'", "[" * 50_000 + "]" * 50_000),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", '{"_id": "a", "price": 1}'),  # another's id
    ("UPDATE docs SET doc = ? WHERE id = 'b'", '{"price": 1}'),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", '{"_id": "b", "price": NaN}'),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", '{"_id": "b", "price": 1e999999999}'),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", '{"_id": "b", "price": ' + "9" * 5000 + "}"),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", '{"_id": "b"}  {"_id": "c"}'),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", "{"),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", "1,2"),
    ("UPDATE docs SET doc = CAST(? AS BLOB) WHERE id = 'b'", '{"_id": "b"}'),
    ("UPDATE docs SET doc = ? WHERE id = 'b'", 7),
    ("UPDATE collections SET saved = ?", "x"),  # TypeError
    ("UPDATE collections SET saved = ?", float("-inf")),
    ("UPDATE collections SET started = ?", "x"),  # ValueError, outside the try
    ("UPDATE collections SET started = ?", -1e300),  # OverflowError, later
    ("UPDATE collections SET selected = ?", 1),
])
def test_a_cache_edited_into_nonsense_is_no_entry_and_no_crash(
        tmp_path: Path, sql: str, value: object, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite"
    platform = Fake([_doc(1, "2027-01-15T00:00:00.000Z"), _doc(2, "2027-01-15T00:00:00.000Z")],
                    T0)
    cache = SnapshotCache(path, clock=lambda: T0)
    cache.replace("fees", FEES.select, [{"_id": "a", "price": Decimal("1.5")},
                                        {"_id": "b", "price": None}], started=T0 - 60)
    cache.close()
    with sqlite3.connect(path) as conn:
        conn.execute(sql, (value,))
    conn.close()
    cache = SnapshotCache(path, clock=lambda: T0)
    assert cache.entry("fees", FEES.select) is None
    # A reader meets it as a full read, and stores a sound entry for next time.
    reader = CachedReader(platform, SnapshotCache(path, clock=lambda: T0))
    assert reader.read(FEES, complete=False) == platform.docs and not reader.incremental
    assert platform.asked == [{}]
    entry = SnapshotCache(path, clock=lambda: T0).entry("fees", FEES.select)
    assert entry is not None and sorted(entry.docs) == [d["_id"] for d in platform.docs]
