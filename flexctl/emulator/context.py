"""What one request's rules work with: the store, the organization, the clock, the dialect."""

from __future__ import annotations

from dataclasses import dataclass

from flexctl.emulator.clock import Clock
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.store import Store


@dataclass(frozen=True)
class Context:
    store: Store
    org: str
    clock: Clock
    dialect: Dialect
