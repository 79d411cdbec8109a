"""Fixtures every test area shares: a hostile Flex server on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.platform import hostile as hostile_server


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
