"""Fixtures for the platform tests: a fake Flex server behind httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from platform_fakes import API, ORG, SECRET, TOKEN_URL, FakeFlex, RecordingSleep

from flexctl.platform.client import FlexClient
from flexctl.platform.target import Target, open_client


@pytest.fixture
def fake() -> FakeFlex:
    return FakeFlex()


@pytest.fixture
def sleeper(fake: FakeFlex) -> RecordingSleep:
    return RecordingSleep(fake)


@pytest.fixture
def make_client(
    fake: FakeFlex, sleeper: RecordingSleep
) -> Iterator[Callable[..., FlexClient]]:
    """Build clients on the fake server; time is the fake's clock, sleeps are recorded."""
    clients: list[FlexClient] = []

    def make(**kwargs: Any) -> FlexClient:
        target = Target(api_url=kwargs.pop("api_url", API), org=ORG, token_url=TOKEN_URL,
                        client_id="client-1", client_secret=kwargs.pop("client_secret", SECRET))
        kwargs.setdefault("scopes", ("flex.fake.all",))
        kwargs.setdefault("transport", fake.transport())
        client = open_client(target, sleep=sleeper, clock=fake.clock, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., FlexClient]) -> FlexClient:
    return make_client()
