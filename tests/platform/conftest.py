"""Fixtures for the platform tests: a fake Flex server behind httpx.MockTransport, and a hostile
one on a real socket (hostile.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.kinds.base import Obj
from flexctl.kinds.configuration import config_model
from flexctl.platform.client import FlexClient
from flexctl.platform.target import Target, open_client
from flexctl.state.desired import desired_state
from tests.kinds.kinds_sample import STRIPE_KEY, config_data
from tests.platform import hostile as hostile_server
from tests.platform.platform_fakes import API, ORG, SECRET, TOKEN_URL, FakeFlex, RecordingSleep


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


@pytest.fixture(params=["direct", "httpx"])
def hostile_client(
    hostile: hostile_server.HostileServer, request: pytest.FixtureRequest,
) -> Iterator[Callable[..., FlexClient]]:
    """Clients of the hostile server: unpaced; retry waits are recorded, not slept, unless the
    test passes its own `sleep`. Every test runs on both HTTP stacks of a session on real
    sockets: the standard library's (`flexctl.platform.direct`) and httpx's."""
    clients: list[FlexClient] = []

    def make(**kwargs: Any) -> FlexClient:
        target = Target(api_url=hostile.api_url, org=hostile_server.ORG,
                        token_url=kwargs.pop("token_url", hostile.token_url),
                        client_id=hostile_server.CLIENT_ID,
                        client_secret=kwargs.pop("client_secret", hostile_server.CLIENT_SECRET))
        kwargs.setdefault("scopes", ("flex.fake.all",))
        kwargs.setdefault("read_rate", "100000/s")
        kwargs.setdefault("write_rate", "100000/s")
        kwargs.setdefault("sleep", RecordingSleep())
        kwargs.setdefault("direct", request.param == "direct")
        client = open_client(target, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def secrets() -> SecretResolver:
    return SecretResolver(environ={"HARBOR_STRIPE_KEY": STRIPE_KEY})


@pytest.fixture
def desired(secrets: SecretResolver) -> dict[str, list[Obj]]:
    config = config_model().model_validate(config_data(), strict=False)
    return desired_state(SimpleNamespace(config=config), secrets)
