"""Each uncertain behaviour of writes and settings, played both (or every) way."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.emulator.emu_harness import ORG, Emu, nest_error

MANAGED = {"price": 300, "intervalCount": 2, "deposit": 50}


def test_membership_post_may_accept_price(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="membership_price=accept")
    cat = emu.catalogue()
    created = emu.membership(cat, **MANAGED)
    assert {k: created[k] for k in MANAGED} == MANAGED
    assert emu.get(f"memberships/{created['_id']}").json()["price"] == 300


@pytest.mark.parametrize("field", sorted(MANAGED))
def test_membership_post_may_reject_managed_fields(
    make_emu: Callable[..., Emu], field: str
) -> None:
    emu = make_emu(profile="officernd", dialect="membership_price=reject")
    cat = emu.catalogue()
    body = nest_error(emu.post("memberships", emu.membership_body(cat, **{field: 1})), 400)
    assert body["message"] == [f"property {field} should not exist"]
    assert emu.get("memberships/count").json()["total"] == 0


def test_the_safe_path_works_when_price_is_rejected(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="membership_price=reject")
    created = emu.membership(emu.catalogue())
    assert created["price"] == 0
    updated = emu.put(f"memberships/{created['_id']}", {"price": 300}).json()
    assert updated["price"] == 300


@pytest.mark.parametrize(("variant", "works", "refused"), [
    ("put", "PUT", ("PATCH",)),
    ("patch", "PATCH", ("PUT",)),
    ("none", None, ("PUT", "PATCH")),
])
def test_fee_update_verb(
    make_emu: Callable[..., Emu], variant: str, works: str | None, refused: tuple[str, ...]
) -> None:
    emu = make_emu(profile="officernd", dialect=f"fee_update={variant}")
    fee = emu.fee(emu.catalogue())
    path = f"fees/{fee['_id']}"
    if works is not None:
        answer = emu.request(works, path, json={"price": 30})
        assert answer.status_code == 200, answer.text
        assert emu.get(path).json()["price"] == 30
    for method in refused:
        body = nest_error(emu.request(method, path, json={"price": 40}), 404)
        assert body["message"] == f"Cannot {method} {ORG}/{path}"
    assert emu.get(path).json()["price"] == (30 if works else 25)


def test_fee_patch_needs_the_update_scope(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")  # PATCH: the platform's most likely update
    fee = emu.fee(emu.catalogue())
    token = emu.token("flex.community.fees.read")
    nest_error(emu.request("PATCH", f"fees/{fee['_id']}", json={"price": 1}, token=token), 401)


def test_lenient_customers_need_only_a_name(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="customer_create=lenient")
    assert emu.create("companies", {"name": "Acme"})["status"] == "active"
    assert emu.create("members", {"name": "Jane", "email": "jane@example.com"})["name"] == "Jane"


def test_strict_customers_need_what_the_admin_ui_asks(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="customer_create=strict")
    body = nest_error(emu.post("members", {"name": "Jane", "email": "jane@example.com"}), 400)
    assert body["message"] == [
        "location must be a string", "startDate must be a valid ISO 8601 date string",
        "status must be one of the following values: active, former, pending, contact, "
        "not_approved, drop-in, lead",
    ]
    body = nest_error(emu.post("companies", {"name": "Acme"}), 400)
    assert body["message"] == ["location must be a string"]
    location = emu.app.store.insert("demo", "locations", {"name": "Downtown"})["_id"]
    company = emu.create("companies", {"name": "Acme", "location": location})
    member = emu.create("members", {"name": "Jane", "email": "jane@example.com",
                                    "location": location, "startDate": "2026-12-01",
                                    "status": "active", "company": company["_id"]})
    assert member["startDate"] == "2026-12-01T00:00:00.000Z"


@pytest.mark.parametrize("profile", ["full", "officernd"])
def test_billing_settings_may_name_a_currency(
    make_emu: Callable[..., Emu], profile: str
) -> None:
    emu = make_emu(profile=profile, dialect="billing_settings=currency")
    assert emu.get("billing-settings").json()["currency"] == "EUR"


def test_billing_settings_without_currency(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="billing_settings=no-currency")
    settings = emu.get("billing-settings")
    assert settings.status_code == 200
    assert "currency" not in settings.json() and settings.json()["billingDay"] == 1


def test_billing_settings_missing_or_not_granted(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="billing_settings=not-found")
    body = nest_error(emu.get("billing-settings"), 404)
    assert body["message"] == f"Cannot GET {ORG}/billing-settings"
    emu.client.post("/_emulator/dialect", json={"billing_settings": "unauthorized"})
    body = nest_error(emu.get("billing-settings"), 401)
    assert (body["message"], body["error"]) == ("Unauthorized access", "Unauthorized")
    assert emu.get("plans").status_code == 200  # the same token reads everything else
