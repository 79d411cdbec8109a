"""The two-way map between config keys and platform ids, per kind.

The snapshot fills it as it matches live objects to the config (and gives every unmatched live
object a key of its own); apply adds the ids of the objects it creates. Kinds use it to turn
references into ids (request bodies) and ids back into keys (normalized live objects).
"""

from __future__ import annotations

UNKNOWN_PREFIX = "id:"


class RefMap:
    """Bidirectional key <-> id map per kind, plus the display names of keyed objects."""

    def __init__(self) -> None:
        self._key_by_id: dict[str, dict[str, str]] = {}
        self._id_by_key: dict[str, dict[str, str]] = {}
        self._names: dict[str, dict[str, str]] = {}

    def add(self, kind: str, key: str, id: str) -> None:
        self._key_by_id.setdefault(kind, {})[id] = key
        self._id_by_key.setdefault(kind, {})[key] = id

    def key_of(self, kind: str, id: str) -> str:
        """The config key of a platform id; an unknown id stays visible as `id:<hex>`."""
        key = self._key_by_id.get(kind, {}).get(id)
        return key if key is not None else UNKNOWN_PREFIX + id

    def id_of(self, kind: str, key: str) -> str | None:
        """The platform id of a config key (`id:<hex>` keys carry their id), or None."""
        if key.startswith(UNKNOWN_PREFIX):
            return key[len(UNKNOWN_PREFIX) :]
        return self._id_by_key.get(kind, {}).get(key)

    def set_name(self, kind: str, key: str, name: str) -> None:
        """Remember an object's live name (fees compare their name with their plan's)."""
        self._names.setdefault(kind, {})[key] = name

    def name_of(self, kind: str, key: str) -> str | None:
        return self._names.get(kind, {}).get(key)
