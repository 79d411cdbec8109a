"""FlexClient against a fake server: pagination, $select, filters, profile, concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from flexctl.errors import NotFoundError
from flexctl.kinds.base import Profile
from flexctl.platform.client import FlexClient, profile_for_url
from tests.platform.platform_fakes import FakeFlex, Fault


def test_list_follows_cursors_across_many_pages(client: FlexClient, fake: FakeFlex) -> None:
    fake.seed("members", [{"email": f"m{i}@x.example"} for i in range(260)])
    members = list(client.list("members"))
    assert len(members) == 260
    assert len({m["_id"] for m in members}) == 260  # no duplicates
    gets = fake.api_requests("GET")
    assert len(gets) == 6  # ceil(260 / 50)
    assert all(r.url.params["$limit"] == "50" for r in gets)
    assert "$cursorNext" not in gets[0].url.params
    assert [r.url.params["$cursorNext"] for r in gets[1:]] == ["50", "100", "150", "200", "250"]
    assert client.stats.reads == 6 and client.stats.writes == 0


def test_list_of_an_empty_collection_is_one_request(client: FlexClient, fake: FakeFlex) -> None:
    assert list(client.list("fees")) == []
    assert len(fake.api_requests()) == 1


def test_list_stops_on_a_null_cursor(make_client: Callable[..., FlexClient]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"results": [{"_id": "a"}], "cursorNext": None,
                                         "cursorPrev": None, "rangeStart": 1, "rangeEnd": 1})

    client = make_client(transport=httpx.MockTransport(handler))
    assert list(client.list("plans")) == [{"_id": "a"}]


def test_an_empty_page_ends_the_read_whatever_its_cursor(
    make_client: Callable[..., FlexClient],
) -> None:
    # The last page exactly full may carry a cursor to an empty page: the read ends there.
    pages = [{"results": [{"_id": "a"}], "cursorNext": "c1"}, {"results": [], "cursorNext": "c2"}]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json=pages.pop(0))

    client = make_client(transport=httpx.MockTransport(handler))
    assert list(client.list("plans")) == [{"_id": "a"}]
    assert pages == []


def test_select_and_filters_are_sent_as_given(client: FlexClient, fake: FakeFlex) -> None:
    fake.seed("fees", [{"company": "c1", "name": "A"}, {"company": "c2", "name": "B"}])
    found = client.find("fees", {"company": "c1"}, select=("name", "company", "issueDate"))
    assert [f["name"] for f in found] == ["A"]
    params = fake.api_requests("GET")[0].url.params
    assert params["$select"] == "name,company,issueDate"
    assert params["company"] == "c1"
    assert set(params) == {"$limit", "$select", "company"}  # nothing the caller did not ask for


def test_filter_values_use_the_platform_syntax(client: FlexClient, fake: FakeFlex) -> None:
    list(client.list("fees", filters={"company[$in]": ["a", "b"], "isPersonal": True,
                                      "issueDate[$gte]": date(2026, 12, 1)}))
    params = fake.api_requests("GET")[0].url.params
    assert params["company[$in]"] == "a,b"
    assert params["isPersonal"] == "true"
    assert params["issueDate[$gte]"] == "2026-12-01"
    assert "$select" not in params


def test_get_create_update_delete(client: FlexClient, fake: FakeFlex) -> None:
    created = client.create("companies", {"name": "Acme Ltd"})
    assert fake.api_requests("POST")[0].headers["content-type"] == "application/json"
    assert client.get("companies", created["_id"], select=("name",))["name"] == "Acme Ltd"
    assert fake.api_requests("GET")[0].url.params["$select"] == "name"
    assert client.update("companies", created["_id"], {"name": "Acme"})["name"] == "Acme"
    client.delete("companies", created["_id"])
    with pytest.raises(NotFoundError):
        client.get("companies", created["_id"])
    assert client.stats.writes == 3


def test_singletons(client: FlexClient, fake: FakeFlex) -> None:
    fake.fail(Fault("GET", "invoicing-settings", status=200, body={"automaticBillRun": False}))
    assert client.get_singleton("invoicing-settings") == {"automaticBillRun": False}
    fake.fail(Fault("PUT", "storefront", status=200, body={"enabled": True}))
    assert client.put_singleton("storefront", {"enabled": True}) == {"enabled": True}
    assert fake.api_requests("PUT")[0].url.path.endswith("/organizations/harbor-works/storefront")


# --- profile ------------------------------------------------------------------------------------


def test_profile_is_announced_by_the_emulator(make_client: Callable[..., FlexClient],
                                              fake: FakeFlex) -> None:
    fake.profile_header = "full"
    client = make_client()
    assert client.profile is Profile.FULL
    assert len(fake.token_requests) == 1 and fake.api_requests() == []  # the token sufficed


def test_a_server_that_does_not_announce_itself_is_treated_as_officernd(
    client: FlexClient,
) -> None:
    assert client.profile is Profile.OFFICERND


def test_officernd_urls_are_officernd_without_a_request(make_client: Callable[..., FlexClient],
                                                        fake: FakeFlex) -> None:
    fake.profile_header = "full"  # ignored: the URL is the real platform
    client = make_client(api_url="https://app.officernd.com/api/v2")
    assert client.profile is Profile.OFFICERND
    assert fake.requests == []
    assert profile_for_url("https://staging.officernd.com/api/v2") is Profile.OFFICERND
    assert profile_for_url("http://127.0.0.1:8765/api/v2") is None
    assert profile_for_url("https://notofficernd.com/api/v2") is None


def test_scope_for_names_the_scope_of_each_request() -> None:
    assert FlexClient.scope_for("GET", "plans") == "flex.billing.plans.read"
    assert FlexClient.scope_for("POST", "memberships") == "flex.community.memberships.create"
    assert FlexClient.scope_for("PUT", "resource-rates/abc") == "flex.billing.resourceRates.update"
    assert FlexClient.scope_for("DELETE", "/api/v2/organizations/x/fees/1") == (
        "flex.community.fees.delete"
    )
    assert FlexClient.scope_for("PUT", "invoicing-settings") == "flex.settings.billing.update"
    assert FlexClient.scope_for("GET", "nothing-known") is None


# --- concurrency --------------------------------------------------------------------------------


def test_map_concurrently_runs_in_parallel_and_keeps_order(client: FlexClient) -> None:
    active, peak = 0, 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return n * n

    assert client.map_concurrently(work, range(8), max_workers=4) == [n * n for n in range(8)]
    assert 1 < peak <= 4


def test_map_concurrently_raises_the_first_failure(client: FlexClient) -> None:
    def work(n: int) -> int:
        if n == 2:
            raise NotFoundError("GET", "/x", 404, "gone")
        return n

    with pytest.raises(NotFoundError):
        client.map_concurrently(work, range(4))


def test_concurrent_lists_share_one_token(client: FlexClient, fake: FakeFlex) -> None:
    for kind in ("plans", "members", "fees"):
        fake.seed(kind, [{"name": f"{kind}{i}"} for i in range(120)])
    results = client.map_concurrently(lambda k: list(client.list(k)),
                                      ["plans", "members", "fees"])
    assert [len(r) for r in results] == [120, 120, 120]
    assert len(fake.token_requests) == 1
    assert client.stats.reads == 9


@pytest.mark.parametrize("order", [["plans", "members"], ["members", "plans"]])
@pytest.mark.parametrize("failure", [NotFoundError("GET", "/x", 404, "gone"),
                                     KeyboardInterrupt()])
def test_a_failure_stops_the_other_reads_at_their_next_page(
    make_client: Callable[..., FlexClient], fake: FakeFlex, failure: BaseException,
    order: list[str],
) -> None:
    # Ctrl-C (or a failed read) must not wait for the other kinds to be read to the end: at
    # the platform's pace a large kind takes minutes.
    fake.seed("members", [{"name": f"m{i}"} for i in range(50 * 40)])
    three_pages = threading.Event()

    def counting(request: httpx.Request) -> httpx.Response:
        pages = sum(1 for r in fake.api_requests("GET") if r.url.path.endswith("/members"))
        if pages >= 3:
            three_pages.set()
        return fake.handle(request)

    client = make_client(transport=httpx.MockTransport(counting))

    def work(kind: str) -> int:
        if kind == "plans":
            assert three_pages.wait(10), "the members were never read"
            raise failure  # the other read is in the middle of its pages
        return len(list(client.list(kind)))

    with pytest.raises(type(failure)):
        client.map_concurrently(work, order)
    # Stopped at its next page: not the 40 pages of a read to the end (timing-free bound).
    assert 3 <= client.stats.reads < 40
    assert len(list(client.list("members"))) == 2000  # the client still works afterwards
