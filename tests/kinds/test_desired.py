"""ConfigBase -> desired objects: addresses, written-only fields, implied defaults, secrets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from flexctl import kinds
from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.kinds.base import Obj
from flexctl.kinds.configuration import config_model
from flexctl.kinds.refs import RefMap
from tests.kinds.kinds_sample import STRIPE_KEY, config_data


def by_address(config: ConfigBase, secrets: SecretResolver, kind: str) -> dict[str, Obj]:
    return {o.address: o for o in kinds.get(kind).desired(config, secrets)}


def test_registry_is_in_dependency_order() -> None:
    assert kinds.names() == [
        "locations", "tax_rates", "revenue_accounts", "gateways", "plans", "rates",
        "companies", "members", "memberships", "fees", "invoicing", "storefront",
    ]
    ranks = [k.rank for k in kinds.registry()]
    assert ranks == sorted(ranks)
    by_name = {k.name: k for k in kinds.registry()}
    for kind in kinds.registry():  # a kind only references kinds ranked before it
        assert all(by_name[r].rank < kind.rank for r in kind.references), kind.name


def test_plan_fields_are_written_ones_plus_implied_locations(
    config: ConfigBase, secrets: SecretResolver
) -> None:
    plans = by_address(config, secrets, "plans")
    assert dict(plans["plans.hot-desk"].fields) == {
        "name": "Hot Desk", "billing": "recurring", "price": Decimal("250.00"),
        "type": "Hotdesk", "locations": ("downtown",), "revenue_account": "memberships",
        "prorate": True, "visibility.non_members": True,
    }
    # omitted locations = all = (); omitted deposit/prorate/visibility are not managed
    assert dict(plans["plans.printing"].fields) == {
        "name": "Printing", "billing": "one_off", "price": Decimal("0.10"), "locations": (),
    }
    assert str(plans["plans.hot-desk"].fields["price"]) == "250.00"


def test_rate_components_are_managed_as_a_whole(
    config: ConfigBase, secrets: SecretResolver
) -> None:
    rate = by_address(config, secrets, "rates")["rates.meeting-room"]
    assert rate.fields["off_hours_price"] == Decimal("20.00")
    assert rate.fields["full_day_price"] == Decimal("200.00")
    assert rate.fields["half_day_price"] is None and rate.fields["month_price"] is None


def test_gateway_secret_is_a_fingerprint_and_a_reference(
    config: ConfigBase, secrets: SecretResolver
) -> None:
    gw = by_address(config, secrets, "gateways")["gateways.stripe-main"]
    assert gw.fields["secret_key"] == "…" + STRIPE_KEY[-4:]
    assert gw.fields["locations"] == ("downtown", "riverside")  # sorted set
    assert gw.fields["default"] is True
    assert gw.meta["secret_refs"] == {"secret_key": {"env": "HARBOR_STRIPE_KEY"}}
    assert STRIPE_KEY not in repr(gw)
    bank = by_address(config, secrets, "gateways")["gateways.bank"]
    assert bank.fields["default"] is False and bank.meta["secret_refs"] == {}


def test_missing_secret_is_left_out_with_a_warning(config: ConfigBase) -> None:
    secrets = SecretResolver(environ={})
    gw = by_address(config, secrets, "gateways")["gateways.stripe-main"]
    assert "secret_key" not in gw.fields
    assert len(secrets.warnings) == 1
    assert "HARBOR_STRIPE_KEY" in secrets.warnings[0]
    assert "gateways.stripe-main.secret_key" in secrets.warnings[0]


def test_secret_from_file_relative_to_config_dir(tmp_path: Path, config: ConfigBase) -> None:
    (tmp_path / "stripe.key").write_text("sk_file_value_ABCD\n")
    data = config.model_dump()
    data["gateways"]["stripe-main"]["secret_key"] = {"file": "stripe.key"}
    cfg = config_model().model_validate(data, strict=False)
    gw = by_address(cfg, SecretResolver(tmp_path, environ={}), "gateways")["gateways.stripe-main"]
    assert gw.fields["secret_key"] == "…ABCD"


def test_customers(config: ConfigBase, secrets: SecretResolver) -> None:
    acme = by_address(config, secrets, "companies")["companies.acme"]
    assert dict(acme.fields) == {
        "name": "Acme Ltd", "email": "billing@acme.example", "location": "downtown",
        "billing_details.billing_name": "Acme Ltd", "billing_details.vat_number": "GB123456789",
    }
    jane = by_address(config, secrets, "members")["members.jane"]
    assert jane.fields["company"] == "acme" and jane.fields["billing_person"] is True
    assert "contact_person" not in jane.fields  # not written: not managed


def test_memberships_addresses_owner_and_create_defaults(
    config: ConfigBase, secrets: SecretResolver
) -> None:
    ms = by_address(config, secrets, "memberships")
    acme = ms["companies.acme.memberships[hot-desk@2026-12-01]"]
    assert acme.owner == "companies.acme"
    assert dict(acme.fields) == {
        "plan": "hot-desk", "start": date(2026, 12, 1), "end": None, "price": Decimal("230.00"),
    }
    jane = ms["members.jane.memberships[hot-desk@2027-01-01]"]
    assert "price" not in jane.fields  # omitted price: not managed...
    assert jane.meta["create_defaults"] == {  # ...but a create sends the plan's
        "name": "Hot Desk", "price": Decimal("250.00"), "location": "downtown",
    }


def test_fee_address_carries_a_name_only_when_it_differs(
    config: ConfigBase, secrets: SecretResolver
) -> None:
    fees = by_address(config, secrets, "fees")
    assert set(fees) == {
        "companies.acme.fees[printing@2026-12-03]",
        "companies.acme.fees[printing@2026-12-03#colour-prints]",
    }
    plain = fees["companies.acme.fees[printing@2026-12-03]"]
    assert plain.fields["quantity"] == 120 and "name" not in plain.fields
    named = fees["companies.acme.fees[printing@2026-12-03#colour-prints]"]
    assert named.fields["quantity"] == 1  # the documented default is managed


def test_duplicate_lines_get_distinct_addresses(
    config: ConfigBase, secrets: SecretResolver
) -> None:
    data = config.model_dump()
    data["companies"]["acme"]["fees"].append(data["companies"]["acme"]["fees"][0])
    cfg = config_model().model_validate(data, strict=False)
    addresses = [o.address for o in kinds.get("fees").desired(cfg, secrets)]
    assert len(set(addresses)) == 3
    assert "companies.acme.fees[printing@2026-12-03#2]" in addresses


def test_singletons(config: ConfigBase, secrets: SecretResolver) -> None:
    (inv,) = kinds.get("invoicing").desired(config, secrets)
    assert inv.address == "invoicing"
    assert dict(inv.fields) == {"automatic_bill_run": True, "pay_now_button": False}
    (store,) = kinds.get("storefront").desired(config, secrets)
    assert dict(store.fields) == {
        "enabled": True, "plans": ("hot-desk", "printing"), "locations": ("downtown",),
    }
    no_invoicing = config.model_copy(update={"invoicing": None})
    assert kinds.get("invoicing").desired(no_invoicing, secrets) == []


def test_pins_are_kept_in_obj_id(config: ConfigBase, secrets: SecretResolver) -> None:
    data = config.model_dump()
    data["plans"]["hot-desk"]["id"] = "a" * 24
    cfg = config_model().model_validate(data, strict=False)
    assert by_address(cfg, secrets, "plans")["plans.hot-desk"].id == "a" * 24


def test_an_empty_string_is_desired_as_none_like_the_live_side(
    secrets: SecretResolver, refs: RefMap
) -> None:
    # The platform's "" reads back as None (unset): a config's "" must compare equal to it,
    # or `description: ""` would plan an update after every apply.
    data = config_data()
    data["companies"]["acme"]["description"] = ""
    config = config_model().model_validate(data, strict=False)
    acme = by_address(config, secrets, "companies")["companies.acme"]
    assert "description" in acme.fields and acme.fields["description"] is None
    live = kinds.get("companies").from_api(
        {"_id": "c1", "name": acme.fields["name"], "description": ""}, refs, "EUR")
    assert live.fields["description"] == acme.fields["description"]
