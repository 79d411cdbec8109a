"""Fixtures every test area shares: a hostile Flex server on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.platform import hostile as hostile_server


@pytest.fixture(autouse=True)
def _snapshot_cache(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with an empty snapshot cache of its own, never the user's."""
    monkeypatch.setenv("FLEXCTL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("FLEXCTL_CACHE_MAX_AGE", raising=False)


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[hostile_server.HostileServer]:
    """A hostile server on 127.0.0.1, reached directly (no proxy from the environment)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FLEXCTL_TIMEOUT",
                 "FLEXCTL_RETRY_BUDGET"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    server = hostile_server.HostileServer()
    yield server
    server.close()
