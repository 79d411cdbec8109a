"""Progress while the organization is read, on stderr only (stdout stays the plan's).

On a terminal: one live line per collection (pages read, of how many when counted, the rate
of reads, and an estimate of the time left when the total is known), redrawn at most five
times a second. Without a terminal: one summary line every few seconds. A read that ends in
less than a second prints nothing at all.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

QUIET_SECONDS = 1.0  # nothing is shown for reads that end sooner
TTY_EVERY = 0.2
LOG_EVERY = 5.0


class ReadProgress:
    """`FlexClient.on_page`: counts the pages of each collection and shows them."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.tty = (self.stream.isatty() and os.environ.get("TERM") != "dumb"
                    if tty is None else tty)
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._shown_at = self._started
        self._pages: dict[str, tuple[int, int | None]] = {}
        self._drawn = 0  # lines of the live block on the terminal

    def __call__(self, collection: str, pages: int, total: int | None) -> None:
        with self._lock:
            self._pages[collection] = (pages, total)
            now = self._clock()
            if now - self._started < QUIET_SECONDS:
                return
            if now - self._shown_at < (TTY_EVERY if self.tty else LOG_EVERY):
                return
            self._shown_at = now
            self._show(now)

    def done(self) -> None:
        """The read is over: the block is drawn a last time (a terminal keeps it)."""
        with self._lock:
            if self._drawn:
                self._show(self._clock())

    def _show(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        reads = sum(pages for pages, _ in self._pages.values())
        rate = reads / elapsed * 60
        if not self.tty:
            parts = ", ".join(f"{name} {self._count(p, t)}"
                              for name, (p, t) in sorted(self._pages.items()))
            self.stream.write(f"Reading: {parts} ({self._count(reads, None)}, {rate:.0f}/min)\n")
            self.stream.flush()
            return
        lines = []
        for name, (pages, total) in sorted(self._pages.items()):
            line = f"  {name:<18} {self._count(pages, total):>14}"
            if total and 0 < pages < total:  # at this collection's own pace so far
                line += f"  about {(total - pages) * elapsed / pages:.0f} s left"
            lines.append(line)
        lines.append(f"  {self._count(reads, None)} read, {rate:.0f} a minute")
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    @staticmethod
    def _count(pages: int, total: int | None) -> str:
        return f"{pages}/{total} pages" if total else f"{pages} page{'' if pages == 1 else 's'}"
