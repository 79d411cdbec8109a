"""Fixtures for the emulator contract suite: every contract test runs twice, once in-process
(httpx.WSGITransport) and once over real HTTP (a served emulator on a free loopback port)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from flexctl.emulator import create_app
from flexctl.emulator.serve import serve_background
from tests.emulator.emu_harness import Emu


@pytest.fixture(params=["wsgi", "http"])
def make_emu(request: pytest.FixtureRequest) -> Iterator[Callable[..., Emu]]:
    """Build an emulator (create_app keyword arguments) reached over the parametrized transport."""
    with ExitStack() as stack:

        def build(**options: Any) -> Emu:
            app = create_app(**options)
            if request.param == "wsgi":
                client = httpx.Client(transport=httpx.WSGITransport(app=app),
                                      base_url="http://emulator")
            else:
                url = stack.enter_context(serve_background(app))
                client = httpx.Client(base_url=url, timeout=10)
            stack.callback(client.close)
            return Emu(app, client, request.param)

        yield build


@pytest.fixture
def emu(make_emu: Callable[..., Emu]) -> Emu:
    return make_emu()
