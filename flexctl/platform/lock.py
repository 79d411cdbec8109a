"""One writer at a time per target and organization: an exclusive lock on a file.

The lock file lies beside the sandbox database for a local target (every writer of that sandbox
shares it), else under `~/.flexctl/locks/`, named by the API and organization. It is held with
`flock`, which the operating system releases when its holder dies, so a lock left by a dead
process is simply taken over; the file's content (pid, host, start time) only names the holder
in messages. Two machines do not share a lock: a CI pipeline serializes its applies itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from flexctl.errors import LockError
from flexctl.platform.target import Target

LOCK_NAME = "apply.lock"
POLL_SECONDS = 0.1


def lock_path(target: Target) -> Path:
    if target.sandbox_db is not None:
        return target.sandbox_db.parent / LOCK_NAME
    name = hashlib.sha256(f"{target.api_url}\n{target.org}".encode()).hexdigest()[:16]
    return Path.home() / ".flexctl" / "locks" / f"{target.org}-{name}.lock"


@contextmanager
def target_lock(
    target: Target,
    timeout: float = 0.0,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Path]:
    """Hold the target's lock for the block; wait up to `timeout` seconds for it, then raise
    `LockError` naming the holder."""
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        deadline = clock() + max(0.0, timeout)
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock() >= deadline:
                    raise LockError(_held_message(path, target, timeout)) from None
                sleep(POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }))
        handle.flush()
        yield path
    finally:
        handle.close()  # releases the lock


def _held_message(path: Path, target: Target, timeout: float) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    who = (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since "
           f"{holder.get('since', '?')}") if isinstance(holder, dict) else "unknown"
    if timeout > 0:
        waited, advice = f" after waiting {timeout:g} s", "a longer --lock-timeout"
    else:
        waited, advice = "", "--lock-timeout SECONDS to wait for it"
    return (f"another flexctl is writing to {target.org} on {target.api_url} ({who}){waited}; "
            f"wait for it to finish, or pass {advice} (lock file {path})")
