"""The dialect: one setting per uncertain platform behaviour, and where it is set from."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from flexctl.cli import main
from flexctl.emulator import Dialect, create_app
from flexctl.emulator.seed import SeedError
from tests.emulator.emu_harness import Emu, nest_error


def test_settings_and_their_variants() -> None:
    variants = Dialect.variants()
    assert variants["fee_update"] == ("put", "patch", "none")
    assert variants["billing_settings"] == ("currency", "no-currency", "not-found",
                                            "unauthorized")
    assert set(variants) == set(Dialect().describe())
    assert all(Dialect().describe()[name] == choices[0] for name, choices in variants.items())
    assert Dialect.for_profile("full").describe() == {**Dialect().describe(),
                                                      "single_get": "empty"}
    # The real platform's known or most likely variants.
    assert Dialect.for_profile("officernd").describe() == {
        **Dialect().describe(), "membership_price": "reject", "customer_create": "strict",
        "fee_update": "patch", "billing_settings": "no-currency"}


def test_with_settings_takes_text_or_a_mapping() -> None:
    changed = Dialect().with_settings("fee-update=patch, membership_price=reject")
    assert (changed.fee_update, changed.membership_price) == ("patch", "reject")
    assert Dialect().with_settings({"no_cursor": "null"}).no_cursor == "null"
    assert Dialect().with_settings(None) == Dialect() == Dialect().with_settings("")


@pytest.mark.parametrize(("settings", "message"), [
    ("colour=red", "unknown dialect setting 'colour' (known: membership_price, "),
    ("fee_update=post", "dialect setting fee_update must be one of put, patch, none, not 'post'"),
    ("fee_update", "bad dialect setting 'fee_update': use name=variant"),
    ({"throttling": 5}, "dialect setting throttling must be one of retry-after, bare, none"),
])
def test_bad_settings_are_refused(settings: str | dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Dialect().with_settings(settings)
    assert str(caught.value).startswith(message)


def test_every_variant_changes_one_setting_at_a_time() -> None:
    base = Dialect.for_profile("full")
    found = dict(base.every_variant())
    expected = sum(len(choices) - 1 for choices in Dialect.variants().values())
    assert len(found) == expected == 18
    for label, dialect in found.items():
        name, variant = label.split("=")
        changed = {k: v for k, v in dialect.describe().items() if v != base.describe()[k]}
        assert changed == {name: variant}
    assert "single_get=absent" in found and "single_get=empty" not in found


def test_set_from_create_app_and_the_harness(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="fee_update=none,membership_price=accept")
    assert emu.client.get("/_emulator/dialect").json()["fee_update"] == "none"
    posted = emu.client.post("/_emulator/dialect", json={"membership_price": "reject"})
    assert posted.status_code == 200
    assert (posted.json()["membership_price"], posted.json()["fee_update"]) == ("reject", "none")
    body = nest_error(emu.client.post("/_emulator/dialect", json={"fee_update": "post"}), 400)
    assert body["message"] == [
        "dialect setting fee_update must be one of put, patch, none, not 'post'"]
    emu.client.post("/_emulator/reset")  # back to the dialect it started with
    assert emu.client.get("/_emulator/dialect").json()["membership_price"] == "accept"
    emu.client.post("/_emulator/dialect", json={"fee_update": "put"})
    assert emu.client.delete("/_emulator/dialect").json()["fee_update"] == "none"
    given = create_app(dialect=Dialect(no_cursor="null"))
    assert given.dialect == Dialect(no_cursor="null")  # taken as it is, not per profile


def test_set_from_a_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"dialect": {"membership_price": "reject"}, "demo": {
        "locations": [{"_id": "a" * 24, "name": "Downtown"}],
        "plans": [{"_id": "b" * 24, "name": "Desk", "price": 250, "intervalLength": "month"}],
        "companies": [{"_id": "c" * 24, "name": "Acme"}],
        # a seed is what the admin UI made: it may hold a membership's price
        "memberships": [{"name": "Desk", "startDate": "2026-12-01", "location": "a" * 24,
                         "plan": "b" * 24, "company": "c" * 24, "price": 199}],
    }}))
    app = create_app(seed=seed, dialect="fee_update=patch")
    assert (app.dialect.membership_price, app.dialect.fee_update) == ("reject", "patch")
    assert app.store.orgs() == ["demo"]
    (membership,) = app.store.find("demo", "memberships", "company", "c" * 24)
    assert membership["price"] == 199
    seed.write_text(json.dumps({"dialect": {"membership_price": "maybe"}}))
    with pytest.raises(SeedError, match="seed: dialect: dialect setting membership_price"):
        create_app(seed=seed)


def test_serve_refuses_a_bad_dialect() -> None:
    assert main(["emulator", "serve", "--port", "0", "--dialect", "fee_update=post"]) == 64
