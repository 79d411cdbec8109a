"""Token endpoint, bearer tokens, scopes (401 for a missing scope, as the real API)."""

from __future__ import annotations

from collections.abc import Callable

from tests.emulator.emu_harness import ORG, Emu, nest_error

TOKEN_FORM = {"grant_type": "client_credentials", "client_id": "emulator",
              "client_secret": "emulator"}


def test_token_response_shape(emu: Emu) -> None:
    response = emu.client.post("/oauth/token", data={**TOKEN_FORM,
                                                     "scope": "flex.billing.plans.read"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["scope"] == "flex.billing.plans.read"
    assert len(body["access_token"]) > 20


def test_unknown_client_is_401(emu: Emu) -> None:
    response = emu.client.post("/oauth/token", data={**TOKEN_FORM, "client_secret": "wrong"})
    assert nest_error(response, 401)["error"] == "Unauthorized"


def test_ungranted_scope_fails_the_whole_token_request(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    response = emu.client.post("/oauth/token", data={
        **TOKEN_FORM, "scope": "flex.billing.plans.read flex.billing.plans.create"})
    body = nest_error(response, 400)
    assert "flex.billing.plans.create" in body["message"]


def test_narrower_grant_rejects_other_scopes(emu: Emu) -> None:
    emu.app.auth.register_client("reader", "s3cret", {"flex.billing.plans.read"})
    form = {**TOKEN_FORM, "client_id": "reader", "client_secret": "s3cret",
            "scope": "flex.community.members.read"}
    nest_error(emu.client.post("/oauth/token", data=form), 400)


def test_missing_scope_is_the_generic_401(emu: Emu) -> None:
    # The platform never says which scope was missing.
    token = emu.token("flex.billing.plans.read")
    assert emu.get("plans", token=token).status_code == 200
    body = nest_error(emu.get("members", token=token), 401)
    assert (body["message"], body["error"]) == ("Unauthorized access", "Unauthorized")
    body = nest_error(emu.post("plans", {"name": "x"}, token=token), 401)
    assert body["message"] == "Unauthorized access"


def test_no_or_unknown_token_is_401(emu: Emu) -> None:
    nest_error(emu.client.get(f"{ORG}/plans"), 401)
    nest_error(emu.get("plans", token="nope"), 401)


def test_token_expires_after_an_hour(emu: Emu) -> None:
    token = emu.token()
    emu.app.clock.advance(3500)
    assert emu.get("plans", token=token).status_code == 200
    emu.app.clock.advance(101)
    body = nest_error(emu.get("plans", token=token), 401)
    assert body["message"] == "Unauthorized access"


def test_wrong_grant_type_is_400(emu: Emu) -> None:
    response = emu.client.post("/oauth/token", data={**TOKEN_FORM, "grant_type": "password"})
    nest_error(response, 400)


def test_counts_token_requests(emu: Emu) -> None:
    emu.token()
    assert emu.client.get("/_emulator/stats").json()["tokens"] == 1
