"""A dict-backed stand-in for `FlexClient` that counts list pages like the real one."""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flexctl.kinds.base import Profile


class FakeClient:
    def __init__(
        self,
        collections: Mapping[str, list[dict[str, Any]]],
        singletons: Mapping[str, dict[str, Any]] | None = None,
        profile: Profile = Profile.FULL,
    ) -> None:
        self.collections = collections
        self.singletons = dict(singletons or {})
        self.profile = profile
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.pages = 0

    def list(
        self, path: str, select: Iterable[str] = (), filters: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        assert not filters, "a snapshot lists whole collections"
        docs = self.collections.get(path, [])
        self.calls.append((path, tuple(select)))
        self.pages += max(1, math.ceil(len(docs) / 50))
        yield from docs

    def get_singleton(self, path: str) -> dict[str, Any]:
        self.calls.append((path, ()))
        self.pages += 1
        return self.singletons[path]

    def read_complete(
        self, path: str, select: Iterable[str] = ()
    ) -> builtins.list[dict[str, Any]]:
        # a dict holds every object: the read is complete by construction
        return builtins.list(self.list(path, select))

    def map_concurrently(
        self, fn: Callable[[Any], Any], items: Iterable[Any]
    ) -> builtins.list[Any]:
        return [fn(item) for item in items]
