"""The HTTP layer against a fake server: auth, retries, errors, decimals, redacted logging."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from flexctl import __version__
from flexctl.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    UsageError,
    ValidationError,
)
from flexctl.platform.auth import FAILURE_MEMORY
from flexctl.platform.client import FlexClient
from flexctl.platform.http import RetryPolicy, Timeouts
from flexctl.platform.jsonwire import decode_json, encode_json
from flexctl.platform.target import timeouts_from_env
from tests.platform.platform_fakes import ORG, SECRET, FakeFlex, Fault, RecordingSleep

PLANS = f"/api/v2/organizations/{ORG}/plans"

# --- JSON ---------------------------------------------------------------------------------------


def test_decimals_are_sent_as_exact_json_numbers() -> None:
    body = {"price": Decimal("230.00"), "tiny": Decimal("0.10"), "big": Decimal("1E+3"),
            "items": [Decimal("12345678901234567890.123456789")], "name": "Héllo \"x\""}
    text = encode_json(body).decode()
    assert '"price":230.00' in text
    assert '"tiny":0.10' in text
    assert '"big":1000' in text
    assert "12345678901234567890.123456789" in text
    assert decode_json(text.encode())["name"] == 'Héllo "x"'


def test_floats_and_non_finite_amounts_are_refused() -> None:
    with pytest.raises(TypeError):
        encode_json({"price": 0.1})
    with pytest.raises(ValueError):
        encode_json({"price": Decimal("NaN")})


def test_answers_are_parsed_with_decimals_never_floats(
    make_client: Callable[..., FlexClient],
) -> None:
    raw = b'{"_id": "p1", "price": 0.1, "big": 12345678901234567890.12, "count": 3}'
    client = make_client(transport=httpx.MockTransport(
        lambda r: httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        if r.url.path == "/oauth/token" else httpx.Response(200, content=raw)))
    doc = client.get("plans", "p1")
    assert doc["price"] == Decimal("0.1") and isinstance(doc["price"], Decimal)
    assert doc["big"] == Decimal("12345678901234567890.12")
    assert doc["count"] == 3 and isinstance(doc["count"], int)


@pytest.mark.parametrize(("token_body", "api_body", "message"), [
    (b'{"access_token": "t", "expires_in": 3600}', b"<html>Sign in</html>",
     r"a web page, not the API's JSON \(Sign in\); check that the URL is the Flex API v2's"),
    (b"<html>Sign in</html>", b"{}", r"POST /oauth/token: 200 a web page, not the API's JSON: "
     r"Sign in \(https://.*/oauth/token is not a token endpoint; check --token-url"),
    (b'{"access_token": "t"}', b"Bad Gateway", "the answer is not JSON"),
    (b'{"access_token": "t", "expires_in": "soon"}', b"{}", "expires_in"),
])
def test_an_answer_that_is_not_the_apis_is_a_clean_error(
    make_client: Callable[..., FlexClient], token_body: bytes, api_body: bytes, message: str
) -> None:
    # A proxy or login page answering 200 is an API error naming the request, never a crash.
    client = make_client(transport=httpx.MockTransport(
        lambda r: httpx.Response(200, content=token_body if r.url.path == "/oauth/token"
                                 else api_body)))
    with pytest.raises(ApiError, match=message):
        client.get("plans", "p1")


def test_a_redirect_is_an_error_naming_where_it_points(
    make_client: Callable[..., FlexClient],
) -> None:
    # http://app.officernd.com redirects to https: following it silently would hide that the
    # URL is wrong (and the token went out without TLS); a 3xx is not the API's answer.
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(301, headers={"Location": "https://flex.example.test/x"})

    client = make_client(transport=httpx.MockTransport(handle))
    with pytest.raises(ApiError, match=r"301 redirected to https://flex.example.test/x"):
        list(client.list("plans"))


# --- auth ---------------------------------------------------------------------------------------


def test_token_is_requested_once_with_the_callers_scopes(make_client: Callable[..., FlexClient],
                                                        fake: FakeFlex) -> None:
    client = make_client(scopes=("flex.fake.plans.read", "flex.fake.fees.read"))
    fake.seed("plans", [{"name": "A"}])
    for _ in range(3):
        list(client.list("plans"))
    assert len(fake.token_requests) == 1
    form = fake.token_requests[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["flex.fake.plans.read flex.fake.fees.read"]
    assert fake.api_requests()[0].headers["authorization"] == "Bearer tok-1"


def test_token_is_renewed_before_it_expires(client: FlexClient, fake: FakeFlex) -> None:
    list(client.list("plans"))
    fake.now += 3599 - 61  # more than a minute left: the cached token is still used
    list(client.list("plans"))
    assert len(fake.token_requests) == 1
    fake.now += 2  # under a minute left: renewed before use, no 401 seen
    list(client.list("plans"))
    assert len(fake.token_requests) == 2
    assert fake.api_requests()[-1].headers["authorization"] == "Bearer tok-2"


def test_short_lived_token_expires_on_the_fake_clock(make_client: Callable[..., FlexClient],
                                                     fake: FakeFlex) -> None:
    fake.expires_in = 1
    client = make_client()
    list(client.list("plans"))
    list(client.list("plans"))  # same instant: the cached token is still good
    assert len(fake.token_requests) == 1
    fake.now += 1
    list(client.list("plans"))
    assert len(fake.token_requests) == 2


def test_a_401_to_a_cached_token_renews_it_once(client: FlexClient, fake: FakeFlex) -> None:
    list(client.list("plans"))
    fake.tokens.clear()  # the platform revoked every token
    list(client.list("plans"))
    assert len(fake.token_requests) == 2
    statuses = [r.headers.get("authorization") for r in fake.api_requests()]
    assert statuses == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_missing_scope_is_an_auth_error_naming_the_scope(make_client: Callable[..., FlexClient],
                                                         fake: FakeFlex) -> None:
    fake.granted = set()
    client = make_client()
    with pytest.raises(AuthError) as info:
        list(client.list("plans"))
    err = info.value
    assert (err.method, err.path, err.status) == ("GET", PLANS, 401)
    assert "flex.billing.plans.read" in str(err)  # the real scope, from the client's table
    assert err.platform_message == "Missing scope flex.fake.plans.read"
    # a fresh token is not renewed: a new one would lack the scope too
    assert len(fake.token_requests) == 1


def test_bad_client_credentials_name_the_environment_variables(
    make_client: Callable[..., FlexClient], fake: FakeFlex, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(client_secret="wrong")
    with pytest.raises(AuthError) as info:
        list(client.list("plans"))
    assert "FLEXCTL_CLIENT_ID" in str(info.value) and "FLEXCTL_CLIENT_SECRET" in str(info.value)
    assert info.value.path == "/oauth/token"
    assert "wrong" not in str(info.value)


def test_a_token_endpoint_that_is_not_there_is_not_retried(
    make_client: Callable[..., FlexClient], sleeper: RecordingSleep
) -> None:
    # A wrong --token-url answers 404: a 4xx is never retried (README), and the hint points
    # at the URL rather than at the credentials.
    calls = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(404, json={"statusCode": 404, "message": "Cannot POST /oauth/x"})

    client = make_client(transport=httpx.MockTransport(handle))
    with pytest.raises(AuthError, match="--token-url") as info:
        list(client.list("plans"))
    assert info.value.status == 404 and "FLEXCTL_CLIENT_SECRET" not in str(info.value)
    assert len(calls) == 1 and sleeper.calls == []


def test_user_agent_and_tls_verification(client: FlexClient, fake: FakeFlex) -> None:
    list(client.list("plans"))
    assert all(r.headers["user-agent"] == f"flexctl/{__version__}" for r in fake.requests)
    timeout = fake.api_requests()[0].extensions["timeout"]
    assert timeout["connect"] == 10.0 and timeout["read"] == 60.0


# --- retries ------------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(client: FlexClient, fake: FakeFlex,
                                                 sleeper: RecordingSleep) -> None:
    fake.fail(Fault("GET", "plans", status=429, headers={"Retry-After": "7"}))
    assert list(client.list("plans")) == []
    assert sleeper.calls == [7.0]
    assert client.stats.retries == 1 and client.stats.reads == 2


def test_429_on_a_post_is_retried_because_nothing_was_written(
    client: FlexClient, fake: FakeFlex, sleeper: RecordingSleep
) -> None:
    fake.fail(Fault("POST", "fees", status=429, headers={"Retry-After": "2"}))
    created = client.create("fees", {"name": "Printing"})
    assert created["name"] == "Printing"
    assert len(fake.collections["fees"]) == 1
    assert sleeper.calls == [2.0]


def test_429_after_every_attempt_is_rate_limited(make_client: Callable[..., FlexClient],
                                                 fake: FakeFlex, sleeper: RecordingSleep) -> None:
    client = make_client(retry=RetryPolicy(attempts=3))
    fake.fail(Fault("GET", "plans", status=429, headers={"Retry-After": "1"}, times=5))
    with pytest.raises(RateLimitedError) as info:
        list(client.list("plans"))
    assert info.value.status == 429 and sleeper.calls == [1.0, 1.0]


def test_a_retry_after_beyond_the_budget_fails_at_once(make_client: Callable[..., FlexClient],
                                                       fake: FakeFlex,
                                                       sleeper: RecordingSleep) -> None:
    client = make_client(timeouts=Timeouts(read=10))  # a budget of 3 x 10 s
    fake.fail(Fault("GET", "plans", status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitedError) as info:
        list(client.list("plans"))
    assert str(info.value) == (
        f"GET {PLANS}: 429 injected (the platform asks to wait 3600 s before trying again, "
        "longer than the retry budget of 30 s (FLEXCTL_RETRY_BUDGET); try again later)")
    assert sleeper.calls == [] and len(fake.api_requests()) == 1


def test_a_retry_after_within_the_budget_is_waited_in_full(
    make_client: Callable[..., FlexClient], fake: FakeFlex, sleeper: RecordingSleep
) -> None:
    client = make_client(timeouts=Timeouts(read=60, budget=200))
    fake.fail(Fault("GET", "plans", status=429, headers={"Retry-After": "150"}))
    assert list(client.list("plans")) == []
    assert sleeper.calls == [150.0]


def test_backoff_stops_when_the_next_wait_would_overrun_the_budget(
    make_client: Callable[..., FlexClient], fake: FakeFlex, sleeper: RecordingSleep
) -> None:
    # Waits of 4-8 s, then 8-12 s: the second would take the request past its 10 s budget.
    client = make_client(timeouts=Timeouts(read=2, budget=10),
                         retry=RetryPolicy(attempts=10, backoff=4))
    fake.fail(Fault("GET", "plans", status=503, times=10))
    with pytest.raises(ServerError, match="503 injected"):
        list(client.list("plans"))
    assert len(fake.api_requests()) == 2 and len(sleeper.calls) == 1


def test_5xx_on_a_read_is_retried_with_growing_backoff(client: FlexClient, fake: FakeFlex,
                                                       sleeper: RecordingSleep) -> None:
    fake.seed("plans", [{"name": "A"}])
    fake.fail(Fault("GET", "plans", status=503, times=2))
    assert [p["name"] for p in client.list("plans")] == ["A"]
    assert len(sleeper.calls) == 2
    assert 0.5 <= sleeper.calls[0] <= 1.0 and 1.0 <= sleeper.calls[1] <= 1.5


def test_503_with_retry_after_waits_what_it_says(client: FlexClient, fake: FakeFlex,
                                                sleeper: RecordingSleep) -> None:
    # SPEC section 4: 429 *and 5xx* answers are retried honouring Retry-After (maintenance).
    fake.seed("plans", [{"name": "A"}])
    plan_id = fake.collections["plans"][0]["_id"]
    fake.fail(Fault("GET", "plans", status=503, headers={"Retry-After": "9"}),
              Fault("PUT", f"plans/{plan_id}", status=503, headers={"Retry-After": "4"}))
    assert [p["name"] for p in client.list("plans")] == ["A"]
    assert client.update("plans", plan_id, {"name": "B"})["name"] == "B"
    assert sleeper.calls == [9.0, 4.0]


def test_transport_error_on_a_read_is_retried(client: FlexClient, fake: FakeFlex) -> None:
    fake.fail(Fault("GET", "plans", error=httpx.ReadTimeout("timed out")))
    assert list(client.list("plans")) == []
    assert len(fake.api_requests("GET")) == 2


def test_post_whose_answer_is_lost_is_not_resent(client: FlexClient, fake: FakeFlex) -> None:
    fake.fail(Fault("POST", "members", error=httpx.ReadError("connection reset"),
                    after_commit=True))
    with pytest.raises(TransportError) as info:
        client.create("members", {"email": "jane@acme.example"})
    assert info.value.outcome_unknown is True
    assert "may or may not" in str(info.value)
    assert len(fake.api_requests("POST")) == 1  # sent once ...
    assert len(fake.collections["members"]) == 1  # ... and it was written: no duplicate
    assert client.find("members", {"email": "jane@acme.example"})[0]["email"] == (
        "jane@acme.example"
    )


def test_post_answered_5xx_has_an_unknown_outcome(client: FlexClient, fake: FakeFlex) -> None:
    fake.fail(Fault("POST", "fees", status=502))
    with pytest.raises(ServerError) as info:
        client.create("fees", {"name": "x"})
    assert info.value.outcome_unknown is True
    assert len(fake.api_requests("POST")) == 1


def test_business_rule_500_is_shown_as_the_platforms_message(client: FlexClient,
                                                             fake: FakeFlex) -> None:
    body = {"statusCode": 500, "message": "Specified plan was not found",
            "error": "Internal Server Error"}
    fake.fail(Fault("PUT", "memberships/.*", status=500, body=body))
    with pytest.raises(ServerError) as info:
        client.update("memberships", "m1", {"price": Decimal("1.00")})
    assert str(info.value) == (
        f"PUT /api/v2/organizations/{ORG}/memberships/m1: 500 Specified plan was not found"
    )
    assert len(fake.api_requests("PUT")) == 1  # a 500 on a write is permanent: not retried
    assert info.value.outcome_unknown is False


@pytest.mark.parametrize(("message", "unknown"), [
    ("Path 'name' is required.", False),
    ('Cast to ObjectId failed for value "acme" (type string) at path "company" because of '
     '"BSONError"', False),
    ("Specified office was not found", False),
    ("Membership startDate should be before the endDate", False),
    ("Internal server error", True),
])
def test_a_post_500_that_validation_explains_wrote_nothing(
    client: FlexClient, fake: FakeFlex, message: str, unknown: bool
) -> None:
    body = {"statusCode": 500, "message": message, "error": "Internal Server Error"}
    fake.fail(Fault("POST", "memberships", status=500, body=body))
    with pytest.raises(ServerError) as info:
        client.create("memberships", {"name": ""})
    assert info.value.outcome_unknown is unknown


def test_a_read_refused_by_a_business_rule_is_not_retried(
    client: FlexClient, fake: FakeFlex
) -> None:
    body = {"statusCode": 500, "message": "Organization not found"}
    fake.fail(Fault("GET", "plans", status=500, body=body))
    with pytest.raises(ServerError, match="Organization not found"):
        list(client.list("plans"))
    assert len(fake.api_requests("GET")) == 1


def test_put_is_retried_on_502(client: FlexClient, fake: FakeFlex) -> None:
    fake.seed("plans", [{"name": "A"}])
    plan_id = fake.collections["plans"][0]["_id"]
    fake.fail(Fault("PUT", "plans/.*", status=502))
    assert client.update("plans", plan_id, {"name": "B"})["name"] == "B"
    assert len(fake.api_requests("PUT")) == 2


def test_delete_404_after_a_retry_means_it_was_done(client: FlexClient, fake: FakeFlex) -> None:
    fake.seed("fees", [{"name": "A"}])
    fee_id = fake.collections["fees"][0]["_id"]
    fake.fail(Fault("DELETE", "fees/.*", error=httpx.ReadError("reset"), after_commit=True))
    client.delete("fees", fee_id)
    assert fake.collections["fees"] == []
    assert len(fake.api_requests("DELETE")) == 2


def test_delete_404_on_the_first_attempt_is_not_found(client: FlexClient) -> None:
    with pytest.raises(NotFoundError) as info:
        client.delete("fees", "0" * 24)
    assert info.value.platform_message == f"Item with Id ({'0' * 24})"


def test_validation_error_keeps_the_message_list(client: FlexClient, fake: FakeFlex) -> None:
    body = {"statusCode": 400, "message": ["name must be a string", "property x should not exist"],
            "error": "Bad Request"}
    fake.fail(Fault("POST", "plans", status=400, body=body))
    with pytest.raises(ValidationError) as info:
        client.create("plans", {"name": 1})
    assert info.value.platform_message == body["message"]
    assert "name must be a string; property x should not exist" in str(info.value)
    assert isinstance(info.value, ApiError) and info.value.outcome_unknown is False


# --- logging ------------------------------------------------------------------------------------


def test_debug_log_has_method_url_status_and_no_secret(
    make_client: Callable[..., FlexClient], fake: FakeFlex, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    client = make_client()
    client.create("payment-gateways", {"provider": "stripe", "secret": "sk_live_TOPSECRET4242",
                                       "nested": {"apiKey": "key-TOPSECRET"}})
    fake.fail(Fault("GET", "plans", status=400, body={"message": "bad", "token": "tok-1"}))
    with pytest.raises(ValidationError):
        list(client.list("plans"))
    text = caplog.text
    assert "POST https://flex.example.test/api/v2/organizations/harbor-works/payment-gateways" \
        " -> 201" in text
    assert "GET " in text and "-> 400" in text and " ms)" in text
    for secret in (SECRET, "sk_live_TOPSECRET4242", "key-TOPSECRET", "tok-1"):
        assert secret not in text
    assert "(redacted)" in text


def test_unreachable_token_endpoint_is_tried_twice_and_named(
    make_client: Callable[..., FlexClient], fake: FakeFlex, sleeper: RecordingSleep
) -> None:
    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client = make_client(transport=httpx.MockTransport(refuse), retry=RetryPolicy(attempts=5))
    with pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert str(info.value) == (
        "POST /oauth/token: cannot connect to https://flex.example.test: Connection refused")
    assert info.value.path == "/oauth/token" and not info.value.outcome_unknown
    assert calls == ["https://flex.example.test/oauth/token"] * 2 and len(sleeper.calls) == 1
    assert client.stats.token_requests == 2 and client.stats.requests == 0
    # Other requests soon after fail with the same error without asking again ...
    with pytest.raises(TransportError, match="cannot connect"):
        client.get("plans", "p1")
    assert len(calls) == 2
    # ... and a while later the token is asked for again.
    fake.now += FAILURE_MEMORY
    with pytest.raises(TransportError):
        client.get("plans", "p1")
    assert len(calls) == 4


def test_retry_after_as_an_http_date(client: FlexClient, fake: FakeFlex,
                                     sleeper: RecordingSleep) -> None:
    fake.fail(Fault("GET", "plans", status=429,
                    headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    list(client.list("plans"))
    assert sleeper.calls == [0.0]  # a moment already past: retry at once


def test_a_read_that_times_out_is_tried_only_twice(client: FlexClient, fake: FakeFlex,
                                                   sleeper: RecordingSleep) -> None:
    # A server that accepts but never answers: 5 attempts x 60 s would be minutes of silence.
    fake.fail(Fault("GET", "plans", error=httpx.ReadTimeout("timed out"), times=5))
    with pytest.raises(TransportError) as info:
        list(client.list("plans"))
    assert info.value.reason == (
        "no answer from https://flex.example.test within 60 s (FLEXCTL_TIMEOUT)")
    assert len(fake.api_requests("GET")) == 2 and len(sleeper.calls) == 1


def test_a_long_retry_wait_is_a_visible_warning(client: FlexClient, fake: FakeFlex,
                                                caplog: pytest.LogCaptureFixture) -> None:
    fake.fail(Fault("GET", "plans", status=429, headers={"Retry-After": "2"}),
              Fault("GET", "plans", status=429, headers={"Retry-After": "20"}))
    with caplog.at_level(logging.INFO, logger="flexctl.http"):
        list(client.list("plans"))
    levels = [(r.levelno, r.getMessage().split(" in ")[1][:3]) for r in caplog.records
              if r.getMessage().startswith("retrying")]
    assert levels == [(logging.INFO, "2s:"), (logging.WARNING, "20s")]


@pytest.mark.parametrize(("env", "deadline", "budget"), [
    ({}, 60.0, 180.0),
    ({"FLEXCTL_TIMEOUT": "5"}, 5.0, 15.0),
    ({"FLEXCTL_TIMEOUT": "0.5"}, 0.5, 1.5),
    ({"FLEXCTL_RETRY_BUDGET": "600"}, 60.0, 600.0),
    ({"FLEXCTL_TIMEOUT": "20", "FLEXCTL_RETRY_BUDGET": "30"}, 20.0, 30.0),
])
def test_flexctl_timeout_and_retry_budget(env: dict[str, str], deadline: float,
                                          budget: float) -> None:
    timeouts = timeouts_from_env(env)
    assert timeouts.deadline == deadline and timeouts.read == deadline
    assert timeouts.connect == min(10.0, deadline)
    assert timeouts.retry_budget == budget


@pytest.mark.parametrize(("name", "raw"), [
    ("FLEXCTL_TIMEOUT", "soon"), ("FLEXCTL_TIMEOUT", "0"), ("FLEXCTL_TIMEOUT", "-3"),
    ("FLEXCTL_TIMEOUT", "99999"), ("FLEXCTL_TIMEOUT", "nan"), ("FLEXCTL_RETRY_BUDGET", "0"),
    ("FLEXCTL_RETRY_BUDGET", "100000"),
])
def test_a_bad_timeout_setting_is_a_usage_error(name: str, raw: str) -> None:
    with pytest.raises(UsageError, match=f"^{name} must be a number of seconds"):
        timeouts_from_env({name: raw})


def test_an_explicit_total_deadline_and_budget() -> None:
    timeouts = Timeouts(connect=1, read=5, total=20, budget=50)
    assert (timeouts.deadline, timeouts.retry_budget) == (20, 50)


def test_flexctl_does_not_pay_for_the_httpx_command_line_tool() -> None:
    import subprocess
    import sys

    code = ("import sys, flexctl.session, httpx; "
            "print(sorted(m for m in ('rich', 'pygments') if m in sys.modules), "
            "callable(httpx.main))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["[]", "True"]
