"""The loaded-configuration cache (`flexctl.config.stored`): a hit gives exactly what a fresh
load gives, any change of a file (same size, same mtime) or of where it is run from misses, errors
are never stored, a damaged or foreign entry is a silent miss, one entry per configuration path,
and no secret is ever written."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from flexctl.cli import main
from flexctl.config import stored
from flexctl.errors import ConfigError
from flexctl.kinds import configuration, registered
from flexctl.kinds.configuration import LoadedConfig, load_config
from tests.architecture.discounts_kind import Discounts
from tests.reconcile.test_generated_plan import generated

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

LINTED = """\
version: 1
organization: stored-test
currency: EUR
locations:
  main: {name: Main}
plans:
  desk: {name: Desk, billing: recurring, price: 200.00}
  free: {name: Free, billing: recurring, price: 0}
rates:
  room: {name: Room, unit: hour, price: 30.00, full_day_price: 300.00}
gateways:
  stripe: {provider: stripe, account: acct_1, secret_key: {env: STORED_TEST_KEY}}
companies:
  acme:
    name: Acme
    location: main
    memberships:
      - {plan: desk, start: 2027-01-01, price: 50.00}
      - {plan: free, start: 2027-02-01}
"""


def flow(value: Any) -> str:
    """`value` as one line of YAML flow style (strings quoted, amounts and dates as written)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | date):
        return str(value)
    return json.dumps(value)


def write_generated(directory: Path) -> Path:
    """A generated organization as a directory of files, one section per file."""
    directory.mkdir(parents=True, exist_ok=True)
    for key, value in generated().items():
        if isinstance(value, dict):
            lines = [f"{key}:", *(f"  {name}: {flow(item)}" for name, item in value.items())]
        else:
            lines = [f"{key}: {flow(value)}"]
        (directory / f"{key}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.fixture(autouse=True)
def _every_size_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples here are small: cached all the same (see the size test below)."""
    monkeypatch.setattr(configuration, "CACHED_FROM_BYTES", 0)


class Reads:
    """Counts the entries actually read back (hits) and the loads that ran the loader."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hits = 0
        self.stores = 0
        read, write = stored.read, stored.write

        def counting_read(*args: Any) -> Any:
            found = read(*args)
            self.hits += found is not None
            return found

        def counting_write(*args: Any) -> None:
            self.stores += 1
            write(*args)

        monkeypatch.setattr(stored, "read", counting_read)
        monkeypatch.setattr(stored, "write", counting_write)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    return Reads(monkeypatch)


@pytest.fixture
def entries() -> Iterator[Path]:
    yield Path(os.environ["FLEXCTL_CACHE_DIR"]) / stored.SUBDIRECTORY


def models(value: Any) -> Iterator[BaseModel]:
    if isinstance(value, BaseModel):
        yield value
        for item in value.__dict__.values():
            yield from models(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from models(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from models(item)


def assert_same(cached: LoadedConfig, fresh: LoadedConfig) -> None:
    assert cached == fresh
    assert (cached.digest, cached.warnings, cached.files, cached.root, cached.source) == (
        fresh.digest, fresh.warnings, fresh.files, fresh.root, fresh.source)
    assert type(cached.config) is type(fresh.config)
    pairs = list(zip(models(cached.config), models(fresh.config), strict=True))
    for mine, theirs in pairs:  # the fields written (what an update sends), in the same order
        assert type(mine) is type(theirs)
        assert list(mine.model_fields_set) == list(theirs.model_fields_set)
        assert mine.model_dump() == theirs.model_dump()
    assert cached.config.model_dump_json() == fresh.config.model_dump_json()


def test_a_hit_is_the_fresh_load_for_the_example_and_a_generated_org(
        tmp_path: Path, reads: Reads, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    linted = tmp_path / "linted.yaml"
    linted.write_text(LINTED, encoding="utf-8")
    sources = [EXAMPLES / "harbor-works", write_generated(tmp_path / "org"), linted,
               Path("org"), Path("linted.yaml")]
    for source in sources:
        first = load_config(source)  # stored
        again = load_config(source)  # read back
        fresh = load_config(source, cache=False)
        assert_same(first, fresh)
        assert_same(again, fresh)
    assert reads.hits == len(sources)
    assert load_config(linted).warnings  # the pricing lint's warnings are kept, located


def test_a_hit_still_locates_keys_by_reading_the_files_again(tmp_path: Path) -> None:
    source = write_generated(tmp_path / "org")
    load_config(source)
    cached, fresh = load_config(source), load_config(source, cache=False)
    path = ("companies", "company-3", "memberships", 1, "price")
    assert cached.locate(path) == fresh.locate(path)
    assert cached.locate(path)[0].endswith("companies.yaml")
    assert cached.issue(path, "x") == fresh.issue(path, "x")


EDITS = [
    ("price: 200.00", "price: 200.50"),  # an amount
    ("price: 200.00", "price: 300.00"),
    ("start: 2027-01-01", "start: 2027-01-02"),  # a date
    ("start: 2027-01-01", "start: 2027-01-32"),  # a date that does not exist: an error
    ("name: Acme", "name: Acne"),  # a name
    ("name: Acme", "name: ACME"),
    ("{env: STORED_TEST_KEY}", "{env: STORED_TEST_KEZ}"),  # a secret reference
    ("price: 50.00}", "price: 99.00}"),  # the warning goes
    ("currency: EUR", "currency: USD"),
    ("currency: EUR", "currency: XYZ"),  # an error: raised, never a stale hit
    ("room: {name", "roon: {name"),  # a key
    ("desk: {name: Desk", "desk: {name: Dusk"),
    ("  free:", "# free:"),  # a comment: the key goes (an error: memberships use it)
]


def edited_in_place(file: Path, old: str, new: str) -> None:
    """Replace `old` by `new` (same length) and put the file's mtime back as it was."""
    assert len(old.encode()) == len(new.encode())
    status = file.stat()
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(file, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert file.stat().st_size == status.st_size


def outcome(source: Path, **options: bool) -> LoadedConfig | list[str]:
    try:
        return load_config(source, **options)
    except ConfigError as exc:
        return [str(issue) for issue in exc.issues]


@pytest.mark.parametrize(("old", "new"), EDITS)
def test_an_edit_of_the_same_size_and_mtime_misses(tmp_path: Path, old: str, new: str) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    before = load_config(file)
    assert load_config(file) == before  # stored and read back
    edited_in_place(file, old, new)
    after = outcome(file)
    assert after != before
    assert after == outcome(file, cache=False)
    edited_in_place(file, new, old)  # and back: the first configuration again
    assert load_config(file) == before


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_byte_changed_in_place_gives_what_a_fresh_load_gives(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    file = tmp_path_factory.mktemp("edit") / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    load_config(file)
    raw = bytearray(LINTED.encode())
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    byte = data.draw(st.sampled_from(b"0123456789azAZ :-_.{}[],\n#").filter(
        lambda b: b != raw[position]), label="byte")
    status = file.stat()
    raw[position] = byte
    file.write_bytes(bytes(raw))
    os.utime(file, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert outcome(file) == outcome(file, cache=False)


@pytest.mark.parametrize(("old", "new"), [
    ("currency: EUR", "currency: XYZ"),  # a rule's error
    ("start: 2027-01-01", "start: 2027-02-30"),  # a value that has none, the rest being valid
    ("price: 30.00", "price: 1e9999999999999999999"),
])
def test_errors_are_never_stored(tmp_path: Path, entries: Path, reads: Reads, old: str,
                                 new: str) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED.replace(old, new), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError):
            load_config(file)
    assert reads.stores == 0 and not entries.exists()


def test_a_file_added_or_removed_in_the_directory_misses(tmp_path: Path) -> None:
    source = write_generated(tmp_path / "org")
    before = load_config(source)
    extra = source / "more.yaml"
    extra.write_text("tax_rates:\n  vat: {name: VAT, rate: 23}\n", encoding="utf-8")
    added = load_config(source)
    assert added.files == [*before.files[:-1], extra, before.files[-1]] or extra in added.files
    assert added.config.section("tax_rates") and added == load_config(source, cache=False)
    extra.unlink()
    assert load_config(source) == before


def test_messages_follow_the_current_directory(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "sub" / "linted.yaml"
    file.parent.mkdir()
    file.write_text(LINTED, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    # Warnings are located when asked (a run never changes its directory meanwhile).
    assert load_config(file).warnings[0].file == os.path.join("sub", "linted.yaml")
    monkeypatch.chdir(file.parent)
    there = load_config(file)
    assert there.warnings[0].file == "linted.yaml"
    assert there == load_config(file, cache=False)


def test_one_entry_per_configuration_path_replaced_at_each_write(
        tmp_path: Path, entries: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    for price in ("200.00", "201.00", "202.00"):
        file.write_text(LINTED.replace("200.00", price), encoding="utf-8")
        load_config(file)
    monkeypatch.chdir(tmp_path)
    load_config("flexctl.yaml")  # the same path, written relative to another directory
    assert [p.name for p in entries.iterdir()] == [stored.entry_path(file).name]
    assert stat_mode(entries) == 0o700 and stat_mode(stored.entry_path(file)) == 0o600
    for number in range(stored.MAX_ENTRIES + 3):
        other = tmp_path / f"c{number}.yaml"
        other.write_text(LINTED, encoding="utf-8")
        load_config(other)
    assert len(list(entries.iterdir())) == stored.MAX_ENTRIES
    assert stored.entry_path(other).exists()  # the last written is kept


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def damaged(entry: Path) -> Iterator[tuple[str, bytes]]:
    data = entry.read_bytes()
    yield "truncated", data[:-100]
    yield "empty", b""
    yield "a byte changed", data[:-50] + bytes([data[-50] ^ 1]) + data[-49:]
    yield "another key", data.replace(data[29:40], b"0" * 11, 1)
    yield "garbage", os.urandom(len(data))
    # a pickle that would run a command if it were unpickled as is
    payload = pickle.dumps(os.system)
    header = data[:data.index(b"\n", len(b"flexctl loaded configuration\n")) + 1]
    checksum = hashlib.sha256(payload).hexdigest().encode() + b"\n"
    yield "foreign globals", header + checksum + payload


def test_a_damaged_or_foreign_entry_is_a_silent_miss(tmp_path: Path, reads: Reads,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    fresh = load_config(file)
    entry = stored.entry_path(file)
    for label, content in list(damaged(entry)):
        entry.write_bytes(content)
        assert load_config(file) == fresh, label
    assert reads.hits == 0
    assert capsys.readouterr() == ("", "")
    assert load_config(file) == fresh and reads.hits == 1  # the last miss stored it again


def test_an_entry_writable_by_others_is_not_read(tmp_path: Path, reads: Reads) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    load_config(file)
    stored.entry_path(file).chmod(0o666)
    assert load_config(file) == load_config(file, cache=False)
    assert reads.hits == 0


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("FLEXCTL_CACHE_DIR", str(blocker))
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    assert load_config(file) == load_config(file) == load_config(file, cache=False)


def test_refresh_and_a_max_age_of_0_load_anew_and_store(tmp_path: Path, reads: Reads,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    load_config(file)
    load_config(file, refresh=True)
    monkeypatch.setenv("FLEXCTL_CACHE_MAX_AGE", "0")
    load_config(file)
    assert (reads.hits, reads.stores) == (0, 3)
    monkeypatch.setenv("FLEXCTL_CACHE_MAX_AGE", "soon")  # the snapshot cache reports it
    load_config(file)
    assert reads.hits == 1


def test_validate_reads_an_entry_but_never_stores_one(tmp_path: Path, reads: Reads,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # CI validates each change once on a fresh machine: storing would only cost.
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    assert main(["validate", str(file)]) == 0
    assert (reads.hits, reads.stores) == (0, 0)
    load_config(file)  # a plan stores it
    assert main(["validate", str(file)]) == 0
    assert (reads.hits, reads.stores) == (1, 1)
    capsys.readouterr()


def test_a_kind_registered_from_elsewhere_turns_the_cache_off(tmp_path: Path,
                                                              reads: Reads) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    with registered(Discounts()):
        load_config(file)
        load_config(file)
    assert (reads.hits, reads.stores) == (0, 0)


def test_the_key_covers_flexctl_python_and_pydantic(tmp_path: Path, reads: Reads,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    load_config(file)
    for target, name, value in [(stored, "__version__", "0.0.0-other"),
                                (pydantic, "VERSION", "0.0"),
                                (sys, "version", "other"),
                                (yaml, "__version__", "0.0"),
                                (yaml, "__with_libyaml__", False),
                                (stored, "FORMAT", "other")]:
        with monkeypatch.context() as patched:
            patched.setattr(target, name, value)
            load_config(file)
    with monkeypatch.context() as patched:
        patched.setattr(stored, "code_fingerprint", lambda: "edited")
        load_config(file)
    assert reads.hits == 0
    load_config(file)  # the last entry written is this run's again
    assert reads.hits == 0
    load_config(file)
    assert reads.hits == 1


def test_no_secret_is_ever_stored(tmp_path: Path, entries: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    monkeypatch.setenv("STORED_TEST_KEY", secret)
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    load_config(file)
    data = stored.entry_path(file).read_bytes()
    assert b"STORED_TEST_KEY" in data  # the reference, as written
    assert secret.encode() not in data


def test_the_code_hashed_is_all_the_code_a_load_runs() -> None:
    probe = (
        "import sys, json\n"
        "from flexctl.kinds.configuration import load_config\n"
        f"load_config({str(EXAMPLES / 'harbor-works')!r}, cache=False)\n"
        "print(json.dumps(sorted(m.__file__ for n, m in list(sys.modules.items())\n"
        "      if n.startswith('flexctl') and getattr(m, '__file__', None))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    package = Path(stored.__file__).resolve().parents[1]
    hashed = {file for pattern in stored._CODE for file in package.glob(pattern)}
    ran = {Path(file).resolve() for file in json.loads(done.stdout)}
    assert ran and ran <= hashed


def test_a_small_configuration_is_not_cached(tmp_path: Path, entries: Path, reads: Reads,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(configuration, "CACHED_FROM_BYTES", len(LINTED.encode()) + 1)
    file = tmp_path / "flexctl.yaml"
    file.write_text(LINTED, encoding="utf-8")
    assert load_config(file) == load_config(file) == load_config(file, cache=False)
    assert (reads.hits, reads.stores) == (0, 0) and not entries.exists()
    file.write_text(LINTED + "# one byte more, and it is\n", encoding="utf-8")
    load_config(file)
    load_config(file)
    assert (reads.hits, reads.stores) == (1, 1)


def test_warnings_are_located_only_when_asked_and_where_validate_locates_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    linted = tmp_path / "linted.yaml"
    linted.write_text(LINTED, encoding="utf-8")
    eager = load_config(linted, cache=False, positions=True)  # as validate loads
    lazy = load_config(linted, cache=False)  # as plan loads: no position recorded
    assert eager.found and eager.located is not None and len(eager.located) == len(eager.found)
    assert lazy.located is None and "index" not in vars(lazy)
    assert lazy.found == eager.found
    assert lazy.warnings == eager.warnings  # the files composed again, once, when asked
    assert "index" in vars(lazy)
    # The cache stores them by path; an entry read back locates them the same way.
    load_config(linted)
    hit = load_config(linted, positions=True)
    assert hit.located is None and hit.found == eager.found and hit.warnings == eager.warnings
