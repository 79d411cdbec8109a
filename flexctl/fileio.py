"""Writing files so that a reader never sees half of one and a crash leaves the old one.

Files and directories flexctl creates get the permissions the user's umask gives any new file
(0644 and 0755 under the usual 022), as `open()` and `mkdir` would: a temporary file or
directory is created private (0600, 0700) and widened to that before it is renamed into place.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def umask() -> int:
    """The process's umask, read once (reading it means setting it for an instant)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    return 0o666 & ~umask()


def new_directory_mode() -> int:
    return 0o777 & ~umask()


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`.

    A new file gets the umask's permissions; a file replaced keeps its own. Raises `OSError`
    (nothing is left behind) when the directory cannot be written.
    """
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_staging_directory(beside: Path, prefix: str) -> Path:
    """A new directory in `beside`, with the umask's permissions, to be renamed into place."""
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=beside))
    os.chmod(staging, new_directory_mode())
    return staging
