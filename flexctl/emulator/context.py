"""What one request's rules work with: the store, the organization, the clock, the dialect
and who is writing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from flexctl.emulator.clock import Clock
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.store import Store


@cache  # one per OAuth client: asked on every request
def actor_id(name: str) -> str:
    """The user id the platform records in `createdBy`/`modifiedBy` for `name`'s writes
    (an OAuth client's id; `admin` for what seeds and the harness make)."""
    return hashlib.sha256(name.encode()).hexdigest()[:24]


ADMIN = actor_id("admin")


@dataclass(frozen=True)
class Context:
    store: Store
    org: str
    clock: Clock
    dialect: Dialect
    actor: str = ADMIN
    origin: str = ""  # "http://host:port" the request came to
    shaping: frozenset[str] = frozenset()  # answer-shaping faults in force (see `faults`)

    def stamp(self, doc: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
        """`doc` with this writer in its audit fields (`modifiedBy`; `createdBy` on create)."""
        if created:
            doc["createdBy"] = self.actor
        doc["modifiedBy"] = self.actor
        return doc
