"""List reads and counts that cannot be trusted, and malformed bodies, from a hostile server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexctl.errors import ApiError, InconsistentReadError, MalformedAnswerError
from flexctl.platform import client as client_module
from flexctl.platform.client import FlexClient
from tests.platform.hostile import (
    ORG,
    HostileServer,
    Play,
    Seen,
    endless,
    gzip_bomb,
    ids,
    json_answer,
    pages,
    raw_answer,
)

PLANS = f"/api/v2/organizations/{ORG}/plans"


def test_an_honest_list_is_read_whole(hostile: HostileServer,
                                      hostile_client: Callable[..., FlexClient]) -> None:
    items = list(ids("p", 120))
    hostile.on("GET", "plans", pages(items))
    assert list(hostile_client().list("plans", expected=120)) == items
    assert hostile.count("GET", "plans") == 3


def test_the_same_items_with_fresh_cursors_stop_at_the_first_repeated_id(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    served = 0

    def same_page(seen: Seen) -> Play:
        nonlocal served
        served += 1
        return json_answer(200, {"results": list(ids("p", 50)), "cursorNext": f"c{served}"})

    hostile.on("GET", "plans", same_page)
    with pytest.raises(InconsistentReadError) as info:
        list(hostile_client().list("plans"))
    assert str(info.value) == (f"GET {PLANS}: 200 the read of plans is not consistent: page 2 "
                               "repeats the _id 'p0000' first seen on page 1")
    assert info.value.collection == "plans" and info.value.exit_code == 1
    assert hostile.count("GET", "plans") == 2


def test_an_object_repeated_across_pages_is_an_error_not_a_missing_object(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    # Page 2 repeats p0049 in place of p0050: trusting it would plan p0050 as deleted.
    first = list(ids("p", 50))
    second = [first[-1], *ids("p", 49, start=51)]
    hostile.on("GET", "plans", lambda seen: json_answer(
        200, {"results": second} if "$cursorNext" in seen.query
        else {"results": first, "cursorNext": "next"}))
    seen: list[dict[str, Any]] = []
    with pytest.raises(InconsistentReadError, match="page 2 repeats the _id 'p0049' first seen "
                                                    "on page 1"):
        seen.extend(hostile_client().list("plans"))
    assert len(seen) == 50  # nothing of the bad page was handed out


@pytest.mark.parametrize(("page", "problem"), [
    ([1, 2], "page 1 is not a list envelope ({results, cursorNext})"),
    ({"results": {"_id": "a"}}, "page 1 is not a list envelope ({results, cursorNext})"),
    ({"data": []}, "page 1 is not a list envelope ({results, cursorNext})"),
    ({"results": [{"_id": "a"}], "cursorNext": 2}, "page 1 has a cursorNext that is not a string"),
    ({"results": [{"_id": "a"}, "b"]}, "item 2 of page 1 is not a JSON object"),
    ({"results": [{"name": "no id"}]}, "item 1 of page 1 has no string _id"),
    ({"results": [{"_id": 7}]}, "item 1 of page 1 has no string _id"),
    ({"results": [{"_id": ""}]}, "item 1 of page 1 has no string _id"),
])
def test_a_page_of_the_wrong_shape_is_a_located_error(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], page: Any, problem: str
) -> None:
    hostile.on("GET", "plans", json_answer(200, page))
    with pytest.raises(MalformedAnswerError) as info:
        list(hostile_client().list("plans"))
    assert str(info.value) == f"GET {PLANS}: 200 reading plans: {problem}"


def test_a_cursor_returned_twice_is_an_error_not_a_loop(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    served = 0

    def fresh_ids_same_cursor(seen: Seen) -> Play:
        nonlocal served
        served += 1
        return json_answer(200, {"results": list(ids(f"s{served}-", 2)), "cursorNext": "same"})

    hostile.on("GET", "plans", fresh_ids_same_cursor)
    with pytest.raises(InconsistentReadError, match="page 2 returns the cursor 'same' a second "
                                                    "time"):
        list(hostile_client().list("plans"))


def test_more_objects_than_counted_stop_the_read(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("GET", "plans", pages(list(ids("p", 120))))
    client = hostile_client()
    # 5 more than counted are objects created meanwhile; the sixth is not.
    assert len(list(client.list("plans", expected=115))) == 120
    with pytest.raises(InconsistentReadError) as info:
        list(client.list("plans", expected=114))
    assert str(info.value) == (
        f"GET {PLANS}: 200 the read of plans is not consistent: page 3 brings it to 120 "
        "objects, more than the 114 counted (and 5 created meanwhile)")
    assert client_module.count_margin(1000) == 10 and client_module.count_margin(10) == 5


def test_a_server_that_never_runs_out_is_stopped(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = 0

    def forever(seen: Seen) -> Play:
        nonlocal served
        served += 1
        return json_answer(200, {"results": list(ids(f"x{served}-", 50)),
                                 "cursorNext": f"c{served}"})

    hostile.on("GET", "members", forever)
    client = hostile_client()
    with pytest.raises(InconsistentReadError, match="page 3 brings it to 150 objects, more "
                                                    "than the 120 counted"):
        list(client.list("members", expected=120))
    monkeypatch.setattr(client_module, "MAX_LIST_ITEMS", 500)
    with pytest.raises(InconsistentReadError, match="page 11 brings it past 500 objects"):
        list(client.list("members"))


def test_count_reads_the_total(hostile: HostileServer,
                               hostile_client: Callable[..., FlexClient]) -> None:
    hostile.on("GET", "members/count", json_answer(200, {"total": 1234, "groups": []}))
    assert hostile_client().count("members", filters={"status": "active"}) == 1234
    [request] = [r for r in hostile.requests if r.method == "GET"]
    assert request.path == f"/api/v2/organizations/{ORG}/members/count"
    assert request.query == {"status": ["active"]}


@pytest.mark.parametrize("total", [10**40 - 1, 1_000_001])
def test_a_count_beyond_any_collection_is_malformed_before_any_page_is_read(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], total: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A count of 40 nines made a complete read unbounded: it followed endless pages (here
    # they end in a 404 after 30, so the test fails instead of hanging).
    served = 0

    def forever(seen: Seen) -> Play:
        nonlocal served
        served += 1
        if served > 30 and seen.query.get("$cursorNext"):
            return json_answer(404, {"statusCode": 404, "message": "enough"})
        return json_answer(200, {"results": list(ids(f"x{served}-", 50)),
                                 "cursorNext": f"c{served}"})

    hostile.on("GET", "companies/count", json_answer(200, {"total": total}))
    hostile.on("GET", "companies", forever)
    client = hostile_client()
    with pytest.raises(MalformedAnswerError) as info:
        client.read_complete("companies")
    assert str(info.value) == (
        f"GET /api/v2/organizations/{ORG}/companies/count: 200 the count of companies, "
        f"{total}, is more than flexctl reads of one collection (1000000)")
    assert info.value.exit_code == 1
    assert hostile.count("GET", "companies") == 0  # not one page
    monkeypatch.setattr(client_module, "MAX_LIST_ITEMS", 500)
    with pytest.raises(InconsistentReadError, match="page 11 brings it past 500 objects"):
        list(client.list("companies", expected=total))  # a count given by the caller


@pytest.mark.parametrize("answer", [
    {"total": "12"}, {"total": -1}, {"total": True}, {"total": 1.5}, {"count": 3}, [12], None,
])
def test_a_malformed_count_is_a_located_error(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], answer: Any
) -> None:
    hostile.on("GET", "plans/count", json_answer(200, answer))
    with pytest.raises(MalformedAnswerError) as info:
        hostile_client().count("plans")
    assert str(info.value) == (f"GET {PLANS}/count: 200 the count of plans is not a number of "
                               'objects ({"total": n})')


@pytest.mark.parametrize(("play", "problem"), [
    (raw_answer(200, b"[" * 5000 + b"]" * 5000),
     "the answer cannot be used: the JSON is nested deeper than 64 levels"),
    (raw_answer(200, b'{"results": [{"_id": "a", "price": 1e999999999}]}'),
     "the answer cannot be used: the number 1e999999999 has more than 40 digits or an "
     "exponent beyond 40"),
    (raw_answer(200, b'{"results": [' + b"9" * 10_000 + b"]}"),
     "the answer cannot be used: the number 99999999999999999999… has more than 40 digits or "
     "an exponent beyond 40"),
    (raw_answer(200, b'{"results": [NaN]}'), "the answer cannot be used: NaN is not a JSON number"),
    (raw_answer(200, b'{"results": ['), "the answer cannot be used: invalid JSON at line 1 "
     "column 14: Expecting value"),
    (raw_answer(200, b"<html>Sign in</html>", {"Content-Type": "text/html"}),
     "a web page, not the API's JSON (Sign in); check that the URL is the Flex API v2's and "
     "that no proxy or sign-in page answers"),
    (raw_answer(200, b"Bad Gateway", {"Content-Type": "text/plain"}),
     "the answer is not JSON (text/plain); check that the API URL is the Flex API v2"),
    (raw_answer(200, b"\xff\xfe{}"), "the answer cannot be used: the body is not UTF-8 (byte 0)"),
    (endless(declared=50 * 2**20),
     "the answer cannot be used: the body is larger than 16 MiB; flexctl reads no more"),
    (endless(), "the answer cannot be used: the body is larger than 16 MiB; flexctl reads no "
     "more"),
    (gzip_bomb(64 * 2**20),
     "the answer cannot be used: the body is larger than 16 MiB; flexctl reads no more"),
    (raw_answer(200, b"not gzip", {"Content-Encoding": "gzip"}),
     "the answer cannot be used: the body's gzip encoding is broken (Error -3 while "
     "decompressing data: incorrect header check)"),
    (raw_answer(200, b"{}", {"Content-Encoding": "br"}),
     "the answer cannot be used: the body is encoded as 'br', which flexctl did not ask for"),
])
def test_a_malformed_body_is_a_located_error(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient], play: Play, problem: str
) -> None:
    hostile.on("GET", "plans", play)
    with pytest.raises(MalformedAnswerError) as info:
        list(hostile_client().list("plans"))
    assert str(info.value) == f"GET {PLANS}: 200 {problem}"
    assert hostile.count("GET", "plans") == 1  # never retried: it would say the same again


def test_a_malformed_answer_to_a_write_leaves_its_outcome_unknown(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("POST", "fees", raw_answer(201, b"[" * 100))
    with pytest.raises(MalformedAnswerError) as info:
        hostile_client().create("fees", {"name": "Printing"})
    assert info.value.outcome_unknown is True and hostile.writes == 1
    hostile.on("PUT", "fees/f1", json_answer(200, ["not", "an", "object"]))
    with pytest.raises(MalformedAnswerError, match="the answer is not a JSON object") as put:
        hostile_client().update("fees", "f1", {"name": "Printing"})
    assert put.value.outcome_unknown is True


def test_an_error_answer_with_a_huge_message_is_shown_clipped(
    hostile: HostileServer, hostile_client: Callable[..., FlexClient]
) -> None:
    hostile.on("POST", "fees", json_answer(400, {"message": ["x" * 10_000] * 1000}))
    with pytest.raises(ApiError) as info:
        hostile_client().create("fees", {"name": "Printing"})
    message = info.value.platform_message
    assert isinstance(message, list) and len(message) == 20
    assert all(m == "x" * 300 + "…" for m in message)


json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**50), 10**50) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["results", "cursorNext", "_id", "name", "total"]), inner, max_size=4),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())


@pytest.fixture
def reader(hostile_client: Callable[..., FlexClient]) -> FlexClient:
    """One client for every example of a property test (a client costs two TLS contexts)."""
    return hostile_client()


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(json_bodies, st.binary(max_size=64),
                 st.text(alphabet='[]{}",:0123456789.eE-+ nultrfa_id', max_size=80)
                 .map(str.encode)))
def test_any_body_gives_a_result_or_a_located_error(
    hostile: HostileServer, reader: FlexClient, body: bytes
) -> None:
    hostile.on("GET", "plans", raw_answer(200, body), times=1)
    hostile.on("GET", "plans/count", raw_answer(200, body), times=1)
    for read in (lambda: list(reader.list("plans")), lambda: reader.count("plans")):
        try:
            read()
        except ApiError as exc:  # MalformedAnswerError, or a 404 after the script ran out
            assert str(exc).startswith(f"GET {PLANS}")
