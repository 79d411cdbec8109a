"""What one run learned about the platform's uncertain behaviours.

Where the public API's documentation is silent or its sources disagree (which verb updates a
fee, whether a membership POST takes `price`, which fields a member create needs), flexctl
tries the likely request first and adapts to the platform's answer. Each fact is learned once
per run, said once in the `--debug` log, and used for every later request of the run, so a
large apply pays for the discovery once.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("flexctl.platform")


class Learned:
    """Facts about the platform, each a name (`update:fees`) and a value (`PATCH`)."""

    def __init__(self) -> None:
        self._facts: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._facts.get(name)

    def learn(self, name: str, value: str, evidence: str) -> None:
        """Record a fact; the first time (or when it changes) it goes to the debug log."""
        with self._lock:
            if self._facts.get(name) == value:
                return
            self._facts[name] = value
        log.debug("learned about the platform: %s = %s (%s)", name, value, evidence)

    def names(self, name: str) -> frozenset[str]:
        """A fact that is a comma-separated set (`create-refuses:memberships` = `price`)."""
        value = self.get(name)
        return frozenset(filter(None, (value or "").split(",")))

    def add_names(self, name: str, names: frozenset[str], evidence: str) -> None:
        with self._lock:
            merged = ",".join(sorted(frozenset(filter(None, self._facts.get(name, "").split(",")))
                                     | names))
        self.learn(name, merged, evidence)

    def as_dict(self) -> dict[str, str]:
        with self._lock:
            return dict(self._facts)
