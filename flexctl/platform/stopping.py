"""Stopping a run at once: after Ctrl-C no thread waits out a pace or a retry backoff.

Every wait flexctl makes between requests (the pacer's, the retries') goes through `pause`,
which returns early and raises `Stopped` once `request_stop()` was called. A thread that is in
the middle of a request finishes it (its outcome matters); a thread that is only waiting to
start one stops.
"""

from __future__ import annotations

import threading

_stop = threading.Event()


class Stopped(Exception):
    """Raised in a thread waiting to make a request after a stop was requested."""


def request_stop() -> None:
    _stop.set()


def stop_requested() -> bool:
    return _stop.is_set()


def reset() -> None:
    """Forget an earlier stop (a new command in the same process)."""
    _stop.clear()


def pause(seconds: float) -> None:
    """Sleep, unless a stop is requested meanwhile: then raise `Stopped` at once."""
    if _stop.wait(max(0.0, seconds)):
        raise Stopped("stopped while waiting to send a request")
