"""Deadlines, the retry budget and the token endpoint, against a hostile server on a socket."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from flexctl.errors import RateLimitedError, TransportError
from flexctl.platform.client import FlexClient
from flexctl.platform.http import RetryPolicy, Timeouts
from tests.platform.hostile import (
    ORG,
    HostileServer,
    closed_port,
    json_answer,
    silence,
    trickle,
)
from tests.platform.platform_fakes import RecordingSleep

PLANS = f"/api/v2/organizations/{ORG}/plans"
PAGE = json.dumps({"results": [{"_id": f"p{i}", "name": "x" * 40} for i in range(20)]}).encode()
MARGIN = 1.0  # seconds a failure may come after its deadline on a loaded machine


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.started


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_trickling_answer_fails_at_the_deadline(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], headers_too: bool
) -> None:
    # A byte every 20 ms: every read gets something, so a per-read timeout never fires.
    hostile.on("GET", "plans", trickle(PAGE, 0.02, headers_too=headers_too))
    client = hostile_client(timeouts=Timeouts(connect=1, read=5, total=0.5),
                            retry=RetryPolicy(attempts=1))
    with Stopwatch() as watch, pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert str(info.value) == (f"GET {PLANS}: no complete answer from {hostile.origin} within "
                               "0.5 s (FLEXCTL_TIMEOUT)")
    assert 0.5 <= watch.seconds < 0.5 + MARGIN
    assert hostile.count("GET", "plans") == 1


def test_a_timed_out_read_is_tried_twice_within_the_budget(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("GET", "plans", trickle(PAGE, 0.02))
    sleeper = RecordingSleep()
    client = hostile_client(timeouts=Timeouts(connect=1, read=5, total=0.4, budget=3),
                            sleep=sleeper)
    with Stopwatch() as watch, pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert info.value.reason == (f"no complete answer from {hostile.origin} within 0.4 s "
                                 "(FLEXCTL_TIMEOUT)")
    assert hostile.count("GET", "plans") == 2 and len(sleeper.calls) == 1
    assert watch.seconds < 2 * 0.4 + MARGIN


def test_a_silent_server_fails_at_the_deadline_not_the_read_timeout(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("GET", "plans", silence())
    client = hostile_client(timeouts=Timeouts(connect=1, read=30, total=0.3),
                            retry=RetryPolicy(attempts=1))
    with Stopwatch() as watch, pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert info.value.reason == (f"no complete answer from {hostile.origin} within 0.3 s "
                                 "(FLEXCTL_TIMEOUT)")
    assert watch.seconds < 0.3 + MARGIN


def test_a_trickling_token_endpoint_fails_at_the_deadline_naming_its_host(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    token = json.dumps({"access_token": "slow-token-123456", "expires_in": 3599}).encode()
    hostile.on("POST", "oauth/token", trickle(token, 0.02))
    client = hostile_client(timeouts=Timeouts(connect=1, read=5, total=0.3, budget=5))
    with Stopwatch() as watch, pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert str(info.value) == (f"POST /oauth/token: no complete answer from {hostile.origin} "
                               "within 0.3 s (FLEXCTL_TIMEOUT)")
    assert hostile.count("POST") == 2 and hostile.count("GET") == 0  # one retry, no read
    assert watch.seconds < 2 * 0.3 + MARGIN


def test_the_deadline_holds_on_a_reused_connection(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("GET", "plans", json_answer(200, {"results": []}))
    client = hostile_client(timeouts=Timeouts(connect=1, read=5, total=0.3),
                            retry=RetryPolicy(attempts=1))
    assert list(client.list("plans")) == []  # the connection is now in the pool
    hostile.on("GET", "plans", trickle(PAGE, 0.02))
    with Stopwatch() as watch, pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert info.value.reason == (f"no complete answer from {hostile.origin} within 0.3 s "
                                 "(FLEXCTL_TIMEOUT)")
    assert watch.seconds < 0.3 + MARGIN


def test_every_pool_carries_the_deadline(hostile_client: Callable[..., FlexClient]) -> None:
    # The deadline reaches sockets through httpx internals: an upgrade that moves them must
    # fail here, not silently bring back requests that never end.
    client = hostile_client(direct=False)  # the standard library's stack has no pools
    assert client._session.deadline_pools == 2


def test_a_slow_in_process_body_is_cut_at_the_deadline(
    make_client: Callable[..., FlexClient],
) -> None:
    # No socket to bound: the body is still read against the deadline, chunk by chunk.
    class Slow(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(100):
                time.sleep(0.02)
                yield b" "

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, stream=Slow())

    client = make_client(transport=httpx.MockTransport(handler),
                         timeouts=Timeouts(connect=1, read=5, total=0.3),
                         retry=RetryPolicy(attempts=1))
    with Stopwatch() as watch, pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert info.value.reason == ("no complete answer from https://flex.example.test within "
                                 "0.3 s (FLEXCTL_TIMEOUT)")
    assert watch.seconds < 0.3 + MARGIN


def test_an_unreachable_token_host_costs_two_token_requests_for_a_whole_snapshot(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    # The defect: five concurrent reads, each retrying a token fetch that retried itself, made
    # 25 token requests and 43 s of silence. Real sleeps here: the whole run is the check.
    url = f"http://127.0.0.1:{closed_port()}/oauth/token"
    client = hostile_client(token_url=url, sleep=time.sleep)
    kinds = ["plans", "fees", "members", "companies", "memberships"]
    with Stopwatch() as watch, pytest.raises(TransportError) as info:
        client.map_concurrently(lambda kind: list(client.list(kind)), kinds)
    host = url.removesuffix("/oauth/token")
    assert str(info.value) == (
        f"POST /oauth/token: cannot connect to {host}: Connection refused")
    assert client.stats.token_requests == 2 and client.stats.retries == 1
    assert hostile.requests == []  # no read was sent without a token
    assert watch.seconds < 1.0 + MARGIN  # one backoff of at most 0.5 + 0.5 s


def test_a_token_fetched_once_serves_concurrent_reads(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("GET", "[a-z]+", json_answer(200, {"results": []}))
    client = hostile_client()
    barrier = threading.Barrier(4)

    def read(kind: str) -> int:
        barrier.wait(timeout=2)
        return len(list(client.list(kind)))

    assert client.map_concurrently(read, ["plans", "fees", "members", "companies"]) == [0] * 4
    assert hostile.tokens_issued == 1 and client.stats.token_requests == 1


def test_a_long_retry_after_fails_at_once_instead_of_waiting(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("GET", "plans", json_answer(429, {"statusCode": 429, "message":
                                                 "ThrottlerException: Too Many Requests"},
                                           {"Retry-After": "86400"}))
    sleeper = RecordingSleep()
    client = hostile_client(sleep=sleeper)
    with pytest.raises(RateLimitedError) as info:
        list(client.list("plans"))
    assert str(info.value) == (
        f"GET {PLANS}: 429 ThrottlerException: Too Many Requests (the platform asks to wait "
        "86400 s before trying again, longer than the retry budget of 180 s "
        "(FLEXCTL_RETRY_BUDGET); try again later)")
    assert sleeper.calls == [] and hostile.count("GET") == 1
