"""Files and directories flexctl creates get the user's umask, as any program's would: a plan
file, `schema -o` and an export directory are not private (0600/0700) by accident."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flexctl import fileio
from flexctl.cli import main
from flexctl.fileio import make_staging_directory, write_atomic


@pytest.fixture(params=[0o022, 0o027])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    mask: int = request.param
    old = os.umask(mask)
    fileio.umask.cache_clear()
    try:
        yield mask
    finally:
        os.umask(old)
        fileio.umask.cache_clear()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_umask(umask: int, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_atomic(path, "{}")
    assert mode(path) == 0o666 & ~umask


def test_a_replaced_file_keeps_its_mode(umask: int, tmp_path: Path) -> None:
    path = tmp_path / "private.json"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o600)
    write_atomic(path, "new")
    assert mode(path) == 0o600 and path.read_text(encoding="utf-8") == "new"


def test_a_staging_directory_gets_the_umask(umask: int, tmp_path: Path) -> None:
    assert mode(make_staging_directory(tmp_path, ".x.")) == 0o777 & ~umask


def test_schema_output_gets_the_umask(
    umask: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "-o", str(tmp_path / "flexctl.schema.json")]) == 0
    assert mode(tmp_path / "flexctl.schema.json") == 0o666 & ~umask


def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "money.html"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "latest.html"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["money.html"]  # no temporary


def test_what_is_not_a_regular_file_is_written_to_not_replaced(tmp_path: Path) -> None:
    # /dev/stdout, a FIFO, a device: renaming over it would destroy it (as root, /dev/full).
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomic(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_file_option_given_standard_output_writes_there(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # Whatever standard output is (here pytest's capture file) is written to, not replaced,
    # also through a link of the user's. (Through a link in tmp_path, not /dev/stdout itself:
    # a regression must not be able to replace the system's /dev/stdout when run as root.)
    out_link = tmp_path / "out.json"
    out_link.symlink_to("/proc/self/fd/1")
    assert main(["schema", "-o", str(out_link)]) == 0
    out = capfd.readouterr().out
    assert out.lstrip().startswith("{") and '"$schema"' in out
    assert out_link.is_symlink()
