"""Memory of large acyclic data: the cyclic garbage collector paused while it is built, and
the freeing of it skipped when the program ends anyway.

Loading a configuration or reading a snapshot allocates hundreds of thousands of objects that
form no cycles, and the collector's generation scans then cost a sixth to a quarter of the CPU.
When the block ends, what it built is frozen (`gc.freeze`): the collector would otherwise scan
all of it once more at its next run, only to find no cycle (0.6 s of a 1x plan). Frozen objects
are still freed when their last reference goes; only a cycle among them would outlive its use.

Freeing a 1x plan's objects one by one when the command returns costs about half a second, only
for the process to end. The `flexctl` program (`cli.entry`) asks `keep_until_exit` to hold them,
and ends the process without freeing them (`os._exit`, once its output is flushed and its exit
handlers have run). Elsewhere (tests, a library caller) nothing is held.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# What the program holds until it exits; None: nothing is held (not the `flexctl` program).
_kept: list[object] | None = None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (reference counting still frees memory);
    the outermost block freezes what it leaves behind."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def keep_until_exit(*objects: object) -> None:
    """Hold `objects` until the process ends, if the program asked (`hold_until_exit`)."""
    if _kept is not None:
        _kept.extend(objects)


def hold_until_exit() -> None:
    """From now on, `keep_until_exit` holds what it is given: the caller ends the process
    without freeing it."""
    global _kept
    if _kept is None:
        _kept = []
