"""An emulator served over loopback HTTP from another process, for benchmarks that measure
flexctl's own CPU: nothing the emulator does is counted in the measuring process.

    with served(setup) as emulator:  # setup(app) seeds or configures it, in the child
        ... emulator.url ...          # "http://127.0.0.1:PORT"
    emulator.stats                    # the emulator's request counts, once it has stopped
    emulator.current_stats()          # ... or while it serves
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from flexctl.emulator import create_app
from flexctl.emulator.app import Emulator
from flexctl.emulator.serve import base_url, build_server

Setup = Callable[[Emulator], None]


@dataclass
class Served:
    url: str
    stats: dict[str, Any] = field(default_factory=dict)
    cpu: float = 0.0  # the emulator process's CPU seconds, once it has stopped
    conn: Connection | None = None

    def current_stats(self) -> dict[str, Any]:
        """The emulator's request counts so far."""
        assert self.conn is not None
        self.conn.send("stats")
        stats: dict[str, Any] = self.conn.recv()
        return stats


def _child(conn: Connection, orgs: tuple[str, ...], setup: Setup | None) -> None:
    import resource

    app = create_app(None, profile="full", orgs=orgs)
    if setup is not None:
        setup(app)
    server = build_server(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    conn.send(base_url(server))
    while conn.recv() == "stats":  # else told to stop
        conn.send(app.stats.as_dict())
    server.shutdown()
    server.server_close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    conn.send((app.stats.as_dict(), usage.ru_utime + usage.ru_stime))


@contextmanager
def served(orgs: tuple[str, ...], setup: Setup | None = None) -> Iterator[Served]:
    """Serve an emulator of `orgs` in a forked process (setup runs there before it serves)."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("fork").Process(target=_child,
                                                        args=(theirs, orgs, setup), daemon=True)
    child.start()
    emulator = Served(ours.recv(), conn=ours)
    try:
        yield emulator
    finally:
        ours.send("stop")
        emulator.stats, emulator.cpu = ours.recv()
        child.join(timeout=10)
