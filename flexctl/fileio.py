"""Writing files so that a reader never sees half of one and a crash leaves the old one.

Files and directories flexctl creates get the permissions the user's umask gives any new file
(0644 and 0755 under the usual 022), as `open()` and `mkdir` would: a temporary file or
directory is created private (0600, 0700) and widened to that before it is renamed into place.
"""

from __future__ import annotations

import functools
import os
import stat
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

    A new file gets the umask's permissions; a file replaced keeps its own. A symbolic link is
    written through: the file it points to is replaced, the link stays. What is not a regular
    file (a FIFO, a device) and what is under /dev or /proc (`/dev/stdout`, whatever standard
    output is) is written to as `open()` would, since renaming over it would destroy it. Raises
    `OSError` (nothing is left behind) when the directory cannot be written.
    """
    try:
        status = path.stat()  # follows links: what `path` names in the end
    except OSError:
        status = None
    special = status is not None and not (stat.S_ISREG(status.st_mode)
                                          or stat.S_ISDIR(status.st_mode))
    if special or _through_the_system(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    mode = status.st_mode & 0o7777 if status is not None else new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _through_the_system(path: Path) -> bool:
    """Whether `path`, or a link on the way to what it names, is under /dev or /proc (whose
    links, like /dev/stdout, name whatever a descriptor is open on: never renamed over)."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on links followed
        if current.startswith(("/dev/", "/proc/")):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.abspath(os.path.join(os.path.dirname(current), os.readlink(current)))
    return False


def make_staging_directory(beside: Path, prefix: str) -> Path:
    """A new directory in `beside`, with the umask's permissions, to be renamed into place."""
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=beside))
    os.chmod(staging, new_directory_mode())
    return staging
