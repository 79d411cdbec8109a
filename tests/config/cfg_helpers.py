"""Shared types for the config tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    """What one `flexctl` run returned and printed."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]
Write = Callable[[str, "str | bytes"], Path]
