"""The emulator's payment pieces (full profile): saved cards from Stripe test tokens, one-off
invoices, collection through the default gateway, voiding; absent on the officernd profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flexctl.emulator.seed import apply_seed
from tests.emulator.emu_harness import Emu, nest_error


def _setup(emu: Emu, *, gateway: bool = True) -> dict[str, Any]:
    cat = emu.catalogue()
    if gateway:
        emu.create("payment-gateways", {"provider": "stripe", "account": "acct_1",
                                        "secret": "sk_test_abcd4242", "isDefault": True})
    member = emu.create("members", {"name": "Smoke", "email": "smoke@example.com",
                                    "location": cat["location"]["_id"]})
    fee = emu.create("fees", {"name": "Day Pass", "issueDate": "2026-12-03", "price": 1,
                              "location": cat["location"]["_id"], "plan": cat["day"]["_id"],
                              "member": member["_id"], "isPersonal": True})
    return {**cat, "smoke": member, "smoke_fee": fee}


def _card(emu: Emu, member: dict[str, Any], token: str) -> dict[str, Any]:
    return emu.create("payment-details", {"type": "stripe", "method": "card", "data": token,
                                          "member": member["_id"], "isPersonal": True})


def _invoice(emu: Emu, cat: dict[str, Any]) -> dict[str, Any]:
    body = {"member": cat["smoke"]["_id"], "fees": [cat["smoke_fee"]["_id"]]}
    return emu.create("payments", body)


def test_good_card_is_charged_and_the_invoice_paid(emu: Emu) -> None:
    cat = _setup(emu)
    card = _card(emu, cat["smoke"], "tok_visa")
    assert card["details"]["last4"] == "4242" and card["details"]["brand"] == "Visa"
    assert "tok_visa" not in str(card)  # the token is spent, never stored
    invoice = _invoice(emu, cat)
    assert invoice["documentType"] == "invoice" and invoice["status"] == "awaiting_payment"
    fee = emu.get(f"fees/{cat['smoke_fee']['_id']}").json()
    assert fee["payment"]["_id"] == invoice["_id"]
    response = emu.post(f"payments/{invoice['_id']}/collect", {})
    assert response.status_code == 201, response.text
    charge = response.json()
    assert (charge["status"], charge["payment"], charge["amount"]) == (
        "success", invoice["_id"], 1)
    assert charge["providerChargeReference"].startswith("ch_")
    paid = emu.get(f"payments/{invoice['_id']}").json()
    assert paid["status"] == "paid" and paid["isPaid"] is True
    listed = emu.get("charges", params={"payment": invoice["_id"]}).json()["results"]
    assert [c["_id"] for c in listed] == [charge["_id"]]
    again = nest_error(emu.post(f"payments/{invoice['_id']}/collect", {}), 500)
    assert again["message"] == "The invoice is already paid"


@pytest.mark.parametrize(("token", "message"), [
    ("tok_chargeDeclined", "Your card was declined."),
    ("tok_insufficientFunds", "Your card has insufficient funds."),
    ("tok_expiredCard", "Your card has expired."),
])
def test_declining_cards_record_a_failed_charge(emu: Emu, token: str, message: str) -> None:
    cat = _setup(emu)
    _card(emu, cat["smoke"], token)
    invoice = _invoice(emu, cat)
    charge = emu.post(f"payments/{invoice['_id']}/collect", {}).json()
    assert (charge["status"], charge["failureMessage"]) == ("fail", message)
    failed = emu.get(f"payments/{invoice['_id']}").json()
    assert failed["status"] == "failed" and failed["isPaid"] is False


def test_void_removes_invoice_and_charges_and_frees_the_fee(emu: Emu) -> None:
    cat = _setup(emu)
    card = _card(emu, cat["smoke"], "tok_visa")
    invoice = _invoice(emu, cat)
    emu.post(f"payments/{invoice['_id']}/collect", {})
    assert nest_error(emu.delete(f"fees/{cat['smoke_fee']['_id']}"), 500)  # invoiced
    voided = emu.delete(f"payments/{invoice['_id']}")
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert emu.get("charges").json()["results"] == []
    assert emu.get("payments").json()["results"] == []
    assert emu.delete(f"fees/{cat['smoke_fee']['_id']}").status_code == 200
    assert emu.delete(f"payment-details/{card['_id']}").status_code == 200
    found = emu.get("payment-details", params={"member": cat["smoke"]["_id"]}).json()
    assert found["results"] == []


def test_refusals_are_clear_and_write_nothing(emu: Emu) -> None:
    cat = _setup(emu, gateway=False)
    body = {"type": "stripe", "method": "card", "data": "tok_visa", "member": cat["smoke"]["_id"],
            "isPersonal": True}
    assert nest_error(emu.post("payment-details", body), 500)["message"] == (
        "No Stripe payment gateway is connected")
    emu.create("payment-gateways", {"provider": "stripe", "account": "acct_1", "secret": "sk_1234"})
    bad = nest_error(emu.post("payment-details", {**body, "data": "tok_nope"}), 400)
    assert "No such token: 'tok_nope'" in str(bad["message"])
    wrong = nest_error(emu.post("payment-details", {**body, "type": "paypal"}), 400)
    assert wrong["message"]
    for_company = {k: v for k, v in body.items() if k != "member"}
    company = nest_error(emu.post("payment-details", {**for_company,
                                                      "company": cat["company"]["_id"]}), 500)
    assert "billing person" in company["message"]
    assert emu.get("payment-details", params={"member": cat["smoke"]["_id"]}).json()[
        "results"] == []
    invoice = _invoice(emu, cat)
    no_card = nest_error(emu.post(f"payments/{invoice['_id']}/collect", {}), 500)
    assert no_card["message"] == "The customer has no saved payment method"
    twice = nest_error(emu.post("payments", {"member": cat["smoke"]["_id"],
                                             "fees": [cat["smoke_fee"]["_id"]]}), 500)
    assert "already been invoiced" in twice["message"]
    other = emu.fee(cat)  # the company's fee
    wrong_owner = nest_error(emu.post("payments", {"member": cat["smoke"]["_id"],
                                                   "fees": [other["_id"]]}), 500)
    assert "does not belong" in wrong_owner["message"]


def test_collect_needs_a_default_stripe_gateway(emu: Emu) -> None:
    cat = _setup(emu, gateway=False)
    emu.create("payment-gateways", {"provider": "stripe", "account": "acct_1", "secret": "sk_1234"})
    _card(emu, cat["smoke"], "tok_visa")
    emu.create("payment-gateways", {"provider": "bank_transfer", "account": "IE29",
                                    "isDefault": True})
    invoice = _invoice(emu, cat)
    body = nest_error(emu.post(f"payments/{invoice['_id']}/collect", {}), 500)
    assert body["message"] == "The default payment gateway (bank_transfer) cannot charge a card"
    assert emu.get("charges").json()["results"] == []


def test_officernd_profile_has_no_invoice_creation(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    for method, path in (("POST", "payments"), ("DELETE", f"payments/{'a' * 24}"),
                         ("POST", f"payments/{'a' * 24}/collect")):
        body = nest_error(emu.request(method, path, json={}), 404)
        assert body["message"].startswith(f"Cannot {method} ")
    assert emu.get("payments").status_code == 200  # reading invoices is the public API


def test_officernd_saves_and_removes_cards(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    cat = emu.catalogue()
    # only the admin UI connects a gateway: a seed stands in for it
    apply_seed(emu.app, {"demo": {"payment-gateways": [
        {"provider": "stripe", "account": "acct_1", "secret": "sk_test_4242"}]}},
        only_new=False)
    member = cat["member"]
    card = _card(emu, member, "tok_mastercard")
    assert card["details"]["last4"] == "4444" and len(card["createdBy"]) == 24
    assert not {"member", "company", "isPersonal"} & set(card)  # not in the platform's answer
    missing = nest_error(emu.post("payment-details", {"type": "stripe", "method": "card",
                                                      "data": "tok_visa",
                                                      "member": member["_id"]}), 400)
    assert missing["message"] == ["isPersonal must be a boolean value"]
    listed = emu.get("payment-details", params={"member": member["_id"]}).json()["results"]
    assert [c["_id"] for c in listed] == [card["_id"]] and "member" not in listed[0]
    assert emu.get("payment-details", params={"company": cat["company"]["_id"]}).json()[
        "results"] == []
    body = nest_error(emu.get("payment-details", params={"_id": card["_id"]}), 400)
    assert body["message"] == ["property _id should not exist"]
    path = f"payment-details/{card['_id']}"
    nest_error(emu.delete(path, params={"member": cat["company"]["_id"]}), 404)
    assert nest_error(emu.delete(path, params={"colour": "red"}), 400)["message"] == [
        "property colour should not exist"]
    removed = emu.delete(path, params={"member": member["_id"]})
    assert removed.status_code == 200 and removed.json()["_id"] == card["_id"]
    nest_error(emu.delete(path), 404)


def test_officernd_lists_and_deletes_charges(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    payment = "b" * 24
    apply_seed(emu.app, {"demo": {"charges": [
        {"_id": "c" * 24, "amount": 10, "status": "success", "payment": payment,
         "source": "stripe", "date": "2026-12-01T00:00:00.000Z"},
        {"_id": "d" * 24, "amount": 10, "status": "fail", "payment": payment,
         "source": "stripe", "date": "2026-12-02T00:00:00.000Z"},
    ]}}, only_new=False)

    def ids(**params: str) -> list[str]:
        return [c["_id"][0] for c in emu.get("charges", params=params).json()["results"]]

    assert ids() == ["c", "d"]
    assert ids(**{"status[$in]": "fail,refund"}) == ["d"]
    assert ids(status="success", payment=payment, source="stripe") == ["c"]
    assert ids(**{"date[$gte]": "2026-12-02"}) == ["d"]
    assert ids(**{"_id[$in]": "d" * 24}) == ["d"]
    assert ids(**{"modifiedAt[$lt]": "2000-01-01"}) == []
    assert emu.delete(f"charges/{'c' * 24}").status_code == 200
    assert ids() == ["d"]
