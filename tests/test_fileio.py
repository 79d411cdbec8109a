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
