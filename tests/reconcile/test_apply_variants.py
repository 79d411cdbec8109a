"""`Writer` and `FlexClient.update` against the emulator's variants of the platform's uncertain
write behaviours: what is sent, what is learned (once per run), and what is refused as it is."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import Emulator, create_app
from flexctl.errors import ApplyError, NoRouteError, NotFoundError, ServerError, ValidationError
from flexctl.kinds import get as get_kind
from flexctl.kinds.base import Obj, Profile
from flexctl.kinds.refs import RefMap
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from flexctl.reconcile.recovery import Writer

ORG = "demo"


@pytest.fixture
def app() -> Iterator[Emulator]:
    emulator = create_app(None, profile="officernd", orgs=(ORG,))
    yield emulator
    emulator.store.close()


@pytest.fixture
def client(app: Emulator, tmp_path: Path) -> Iterator[FlexClient]:
    target = Target(api_url="local", org=ORG, sandbox_db=tmp_path / "unused.db")
    with open_client(target, app=app, scopes=profile_scopes(Profile.OFFICERND)) as opened:
        yield opened


def catalogue(app: Emulator) -> RefMap:
    """A location and a recurring plan, made in the admin portal."""
    refs = RefMap()
    location = app.store.insert(ORG, "locations", {"name": "Main"})["_id"]
    plan = app.store.insert(ORG, "plans", {"name": "Desk", "price": Decimal(200),
                                           "intervalLength": "month"})["_id"]
    company = app.store.insert(ORG, "companies", {"name": "Acme", "location": location})["_id"]
    refs.add("locations", "main", location)
    refs.add("plans", "desk", plan)
    refs.add("companies", "acme", company)
    return refs


def membership(start: int) -> Obj:
    return Obj("memberships", f"companies.acme.memberships[desk@2026-12-{start:02d}]",
               {"plan": "desk", "start": date(2026, 12, start), "end": None},
               owner="companies.acme",
               meta={"create_defaults": {"price": Decimal("200.00"), "name": "Desk",
                                         "location": "main"}})


def writes(app: Emulator) -> int:
    return app.stats.as_dict()["writes"]


def test_a_refused_price_is_learned_once_and_set_by_an_update(
    app: Emulator, client: FlexClient
) -> None:
    writer = Writer(client, catalogue(app), SecretResolver(environ={}), "EUR")  # rejects price
    kind = get_kind("memberships")
    done = writer.create(kind, membership(1))
    assert "the platform refuses price on create: created, then updated" in done.note
    assert writes(app) == 3  # POST refused (400), POST without the price, PUT {price}
    assert client.learned.get("create-refuses:memberships") == "price"
    second = writer.create(kind, membership(2))
    assert writes(app) == 5  # learned: no refused POST any more
    stored = client.get("memberships", str(second.id))
    assert stored["price"] == 200 and stored["properties"]["flexctlDeferred"] == "price"


def test_a_price_the_platform_takes_is_sent_with_the_create(
    app: Emulator, client: FlexClient
) -> None:
    app.dialect = app.dialect.with_settings("membership_price=accept")
    writer = Writer(client, catalogue(app), SecretResolver(environ={}), "EUR")
    done = writer.create(get_kind("memberships"), membership(1))
    assert done.note == "" and writes(app) == 1
    assert "flexctlDeferred" not in client.get("memberships", str(done.id))["properties"]


def test_a_status_the_platform_asks_for_is_learned(app: Emulator, client: FlexClient) -> None:
    refs = catalogue(app)
    writer = Writer(client, refs, SecretResolver(environ={}), "EUR")
    jane = Obj("members", "members.jane", {"name": "Jane", "email": "jane@example.com",
                                           "location": "main"}, meta={"key": "jane"})
    before = datetime.now(UTC).date()
    done = writer.create(get_kind("members"), jane)
    days = {before.isoformat(), datetime.now(UTC).date().isoformat()}  # a midnight between
    assert client.learned.get("create-needs:members") == "status"
    stored = client.get("members", str(done.id))
    assert stored["status"] == "active" and stored["location"] == refs.id_of("locations", "main")
    assert stored["startDate"][:10] in days  # the day of the apply, in UTC


def test_a_400_flexctl_cannot_fix_is_raised_as_it_is(app: Emulator, client: FlexClient) -> None:
    writer = Writer(client, catalogue(app), SecretResolver(environ={}), "EUR")
    bad = Obj("memberships", "companies.acme.memberships[desk@2026-12-01]",
              {"plan": "desk", "start": date(2026, 12, 1), "end": date(2026, 11, 1)},
              owner="companies.acme", meta={"create_defaults": {"location": "main",
                                                                "name": "Desk"}})
    with pytest.raises(ServerError, match="Membership startDate should be before the endDate"):
        writer.create(get_kind("memberships"), bad)
    assert client.learned.as_dict() == {}
    assert client.stats.writes == 1  # nothing written: neither looked up nor sent again


@pytest.mark.parametrize(("variant", "learned"), [("put", None), ("patch", "PATCH")])
def test_a_fee_is_updated_with_the_verb_the_platform_has(
    app: Emulator, client: FlexClient, variant: str, learned: str | None
) -> None:
    app.dialect = app.dialect.with_settings({"fee_update": variant})
    fee = client.create("fees", fee_body(catalogue(app)))
    assert client.update("fees", fee["_id"], {"quantity": 2})["quantity"] == 2
    assert client.learned.get("update:fees") == learned
    client.update("fees", fee["_id"], {"quantity": 3})
    assert client.stats.writes == (3 if learned is None else 4)  # the missing PUT: tried once


def test_without_a_fee_update_the_route_is_missing_not_the_fee(
    app: Emulator, client: FlexClient
) -> None:
    app.dialect = app.dialect.with_settings("fee_update=none")
    fee = client.create("fees", fee_body(catalogue(app)))
    with pytest.raises(NoRouteError):
        client.update("fees", fee["_id"], {"quantity": 2})
    assert client.learned.get("update:fees") == "none"
    with pytest.raises(NoRouteError):  # learned: no request at all this time
        client.update("fees", fee["_id"], {"quantity": 2})
    gone = "650000000000000000000fff"
    with pytest.raises(NotFoundError) as caught:
        client.get("fees", gone)
    assert not isinstance(caught.value, NoRouteError)


def test_without_a_fee_update_an_uninvoiced_fee_is_replaced(
    app: Emulator, client: FlexClient
) -> None:
    app.dialect = app.dialect.with_settings("fee_update=none")
    refs = catalogue(app)
    fee = client.create("fees", fee_body(refs))
    obj = Obj("fees", "companies.acme.fees[desk@2026-12-01]",
              {"plan": "desk", "date": date(2026, 12, 1), "quantity": 2}, owner="companies.acme",
              meta={"create_defaults": {"location": "main", "name": "Desk",
                                        "price": Decimal(5)}})
    writer = Writer(client, refs, SecretResolver(environ={}), "EUR")
    done = writer.update(get_kind("fees"), obj, {"quantity"}, str(fee["_id"]))
    assert "no update of fees (neither PUT nor PATCH): deleted and created again" in done.note
    [stored] = client.find("fees", {})
    assert stored["_id"] == done.id != fee["_id"] and stored["quantity"] == 2
    pinned = Obj(obj.kind, obj.address, obj.fields, str(done.id), obj.owner, obj.meta)
    with pytest.raises(NoRouteError):  # a pin would name the deleted fee: not replaced
        writer.update(get_kind("fees"), pinned, {"quantity"}, str(done.id))


def test_a_replaced_fee_that_cannot_be_created_again_says_so(
    app: Emulator, client: FlexClient
) -> None:
    app.dialect = app.dialect.with_settings("fee_update=none")
    refs = catalogue(app)
    fee = client.create("fees", fee_body(refs))
    app.faults.configure([{"fault": "500", "method": "POST", "path": "/fees$"}])
    obj = Obj("fees", "companies.acme.fees[desk@2026-12-01]",
              {"plan": "desk", "date": date(2026, 12, 1), "quantity": 2}, owner="companies.acme",
              meta={"create_defaults": {"location": "main", "name": "Desk",
                                        "price": Decimal(5)}})
    writer = Writer(client, refs, SecretResolver(environ={}), "EUR")
    with pytest.raises(ApplyError, match="the old one was deleted; creating the new one failed"):
        writer.update(get_kind("fees"), obj, {"quantity"}, str(fee["_id"]))
    assert client.find("fees", {}) == []  # deleted: run apply again to create it


def fee_body(refs: RefMap) -> dict[str, Any]:
    return {"name": "Desk", "issueDate": "2026-12-01", "location": refs.id_of("locations", "main"),
            "plan": refs.id_of("plans", "desk"), "price": 5, "company": refs.id_of("companies",
                                                                                   "acme")}


def test_validation_error_type_is_what_the_learning_reads(
    app: Emulator, client: FlexClient
) -> None:
    refs = catalogue(app)
    body = get_kind("memberships").create_body(membership(1), refs, SecretResolver(environ={}))
    with pytest.raises(ValidationError) as caught:
        client.create("memberships", body)
    assert caught.value.platform_message == ["property price should not exist"]


def test_a_500_that_validation_explains_is_not_looked_up_or_resent(
    app: Emulator, client: FlexClient
) -> None:
    refs = catalogue(app)
    nameless = Obj("companies", "companies.blank", {"name": "", "location": "main"},
                   meta={"key": "blank"})
    writer = Writer(client, refs, SecretResolver(environ={}), "EUR")
    with pytest.raises(ServerError, match=r"Path 'name' is required\."):
        writer.create(get_kind("companies"), nameless)
    assert (client.stats.writes, client.stats.reads) == (1, 0)


def test_each_fact_is_said_once_in_the_debug_log(
    app: Emulator, client: FlexClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="flexctl.platform")
    writer = Writer(client, catalogue(app), SecretResolver(environ={}), "EUR")
    for start in (1, 2, 3):
        writer.create(get_kind("memberships"), membership(start))
    said = [m for r in caplog.records if "learned about the platform" in (m := r.getMessage())]
    assert len(said) == 1
    assert said[0].startswith("learned about the platform: create-refuses:memberships = price "
                              "(POST memberships answered 400 ['property price should not exist']")
