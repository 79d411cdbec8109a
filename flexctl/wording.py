"""Counts in messages, with the right form of the noun: "1 gateway", "2 companies"."""

from __future__ import annotations


def counted(number: int, one: str, many: str | None = None) -> str:
    """`number` and its noun: `one` for exactly 1, else `many` (default: `one` + "s")."""
    return f"{number} {one if number == 1 else (many or one + 's')}"
