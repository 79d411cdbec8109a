"""Profiles: `officernd` is exactly the public API; `full` adds the extension endpoints."""

from __future__ import annotations

from collections.abc import Callable

from flexctl.emulator import PROFILE_HEADER
from tests.emulator.emu_harness import ORG, Emu, nest_error


def test_officernd_catalogue_is_read_only(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    assert emu.get("plans").status_code == 200
    body = nest_error(emu.post("plans", {"name": "x", "price": 1, "intervalLength": "once"}), 404)
    assert body["message"] == f"Cannot POST {ORG}/plans"
    for path in ("payment-gateways", "invoicing-settings", "storefront", "account"):
        assert nest_error(emu.get(path), 404)["message"] == f"Cannot GET {ORG}/{path}"
    location = emu.app.store.insert("demo", "locations", {"name": "Downtown"})["_id"]
    company = emu.create("companies", {"name": "Acme", "location": location})
    assert company["name"] == "Acme"  # public writes exist
    assert "currency" not in emu.get("billing-settings").json()  # as far as anyone has seen


def test_officernd_has_no_catalogue_or_payment_writes(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    some_id = "0" * 24
    for kind in ("plans", "resource-rates", "locations", "revenue-accounts", "tax-rates"):
        assert emu.get(kind).status_code == 200
        nest_error(emu.post(kind, {"name": "x"}), 404)
        nest_error(emu.put(f"{kind}/{some_id}", {"name": "x"}), 404)
        nest_error(emu.delete(f"{kind}/{some_id}"), 404)
    for path in ("payment-details", "charges"):  # the public API lists these, no single GET
        assert emu.get(path).status_code == 200
        nest_error(emu.get(f"{path}/{some_id}"), 404)
    nest_error(emu.post("charges", {}), 404)
    nest_error(emu.post("payments", {"fees": []}), 404)
    nest_error(emu.put("billing-settings", {}), 404)
    nest_error(emu.post("payment-gateways", {"provider": "stripe"}), 404)


def test_profile_header_on_every_response(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    assert emu.get("plans").headers[PROFILE_HEADER] == "officernd"
    assert emu.get("nowhere").headers[PROFILE_HEADER] == "officernd"
    assert emu.client.get("/_emulator/info").json() == {"profile": "officernd", "orgs": ["demo"]}
    full = make_emu(orgs=("a", "b"))
    assert full.client.post("/oauth/token", data={}).headers[PROFILE_HEADER] == "full"
    assert full.client.get("/_emulator/info").json()["orgs"] == ["a", "b"]


def test_gateway_secret_is_write_only(emu: Emu) -> None:
    loc = emu.create("locations", {"name": "Downtown"})
    gateway = emu.create("payment-gateways", {
        "provider": "stripe", "account": "acct_1", "secret": "sk_test_abcd4242",
        "locations": [loc["_id"]], "isDefault": True})
    assert "secret" not in gateway and gateway["secretLast4"] == "4242"
    listed = emu.get("payment-gateways", params={"provider": "stripe"})
    assert "sk_test" not in listed.text
    updated = emu.put(f"payment-gateways/{gateway['_id']}", {"secret": "sk_live_9999"}).json()
    assert updated["secretLast4"] == "9999"
    body = nest_error(emu.put(f"payment-gateways/{gateway['_id']}", {"provider": "paypal"}), 400)
    assert body["message"] == ["property provider should not exist"]
    assert "sk_live" not in emu.app.store.conn.execute("SELECT group_concat(doc) FROM objects"
                                                        ).fetchone()[0]


def test_bill_run_needs_an_active_account(emu: Emu) -> None:
    assert emu.get("account").json() == {"status": "onboarding"}
    body = nest_error(emu.put("invoicing-settings", {"automaticBillRun": True}), 500)
    assert body["message"] == ("The automatic bill run can only be enabled when the account "
                               "status is Active")
    assert emu.put("invoicing-settings", {"automaticSending": True}).json()["automaticSending"]
    activated = emu.client.put("/_emulator/organizations/demo/account", json={"status": "active"})
    assert activated.json() == {"status": "active"}
    settings = emu.put("invoicing-settings", {"automaticBillRun": True}).json()
    assert settings == {"automaticBillRun": True, "automaticSending": True,
                        "automaticPaymentCollection": False, "payNowButton": False}
    nest_error(emu.put("invoicing-settings", {"automaticBillRun": "yes"}), 400)


def test_storefront_references_must_exist(emu: Emu) -> None:
    plan = emu.create("plans", {"name": "Day Pass", "price": 25, "intervalLength": "once"})
    shop = emu.put("storefront", {"enabled": True, "plans": [plan["_id"]]}).json()
    assert shop == {"enabled": True, "plans": [plan["_id"]], "resourceRates": [],
                    "locations": []}
    body = nest_error(emu.put("storefront", {"plans": ["0" * 24]}), 500)
    assert body["message"] == "Specified plan was not found"


def test_catalogue_writes_on_full(emu: Emu) -> None:
    loc = emu.create("locations", {"name": "Downtown", "code": "DT"})
    renamed = emu.put(f"locations/{loc['_id']}", {"name": "Harbor Downtown"}).json()
    assert renamed["name"] == "Harbor Downtown" and renamed["code"] == "DT"
    assert emu.delete(f"locations/{loc['_id']}").status_code == 200
    assert emu.get("locations").json()["results"] == []


def test_extension_scopes(emu: Emu) -> None:
    token = emu.token("flex.settings.billing.read")
    assert emu.get("invoicing-settings", token=token).status_code == 200
    body = nest_error(emu.put("invoicing-settings", {}, token=token), 401)
    assert body["message"] == "Unauthorized access"


def test_organization_endpoint(emu: Emu) -> None:
    org = emu.get(ORG).json()
    assert org["slug"] == "demo" and len(org["_id"]) == 24
