"""Incremental snapshots on the emulator: each equal to a full read, their plans equal too.

50 rounds of seeded random creates, updates and deletes made directly on the emulator (its
API, as another client would), across every writable kind, with the emulator's clock moved by
random steps (inside and beyond the margin), each followed by an incremental snapshot compared
with a full one and an incremental plan compared with a plan from a full read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import Emulator, create_app
from flexctl.errors import ApiError
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import LoadedConfig, load_config
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import open_client, resolve_target
from flexctl.reconcile.render import render_json
from flexctl.session import make_plan
from flexctl.state.cache import SnapshotCache
from flexctl.state.desired import desired_state
from flexctl.state.incremental import CachedReader
from flexctl.state.snapshot import Snapshot, read_snapshot
from tests.commands.plan_helpers import ORG, make_sandbox
from tests.state.every_invoice import every_invoice

ROUNDS = 50
STEPS = (0, 1, 30, 299, 301, 900, 4000)  # clock moves between rounds, around the margin


@pytest.fixture
def world(tmp_path: Path, capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, FlexClient, LoadedConfig]]:
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    sandbox.seed()
    app = create_app(str(sandbox.db), profile="full", orgs=(ORG,))
    app.clock.real_sleep = False
    target = resolve_target(sandbox.api_url, None, None, ORG, sandbox.root)
    with open_client(target, app=app, scopes=profile_scopes(Profile.FULL)) as client:
        yield app, client, load_config(sandbox.root)
    app.store.close()


def _ids(client: FlexClient, path: str) -> list[str]:
    return [str(doc["_id"]) for doc in client.list(path, select=("_id",))]


def _invoice(app: Emulator, client: FlexClient, rng: random.Random) -> None:
    """Bill a few memberships and fees of one customer, as a bill run would (the emulator's
    harness): an invoice bills one customer."""
    owned = {path: [(str(d["_id"]), str(d.get("company")), str(d.get("member")))
                    for d in client.list(path, select=("company", "member", "isPersonal"))]
             for path in ("memberships", "fees")}
    customers = sorted({(c, m) for items in owned.values() for _, c, m in items})
    if not customers:
        return
    customer = rng.choice(customers)
    mine = {path: [i for i, c, m in items if (c, m) == customer] for path, items in owned.items()}
    memberships = rng.sample(mine["memberships"], min(2, len(mine["memberships"])))
    fees = mine["fees"][:1]
    if not memberships and not fees:
        return
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://e") as http:
        http.post(f"/_emulator/organizations/{ORG}/invoices",
                  json={"memberships": memberships, "fees": fees}).raise_for_status()


def _change(client: FlexClient, rng: random.Random, serial: int) -> None:
    """One random create, update or delete of a random kind, as a person in the portal would."""
    location = rng.choice(_ids(client, "locations"))
    companies = _ids(client, "companies") or [
        str(client.create("companies", {"name": f"First {serial}", "location": location})["_id"])]
    plans = {doc["_id"]: doc["intervalLength"]
             for doc in client.list("plans", select=("intervalLength",))}
    once = [p for p, interval in plans.items() if interval == "once"]
    monthly = [p for p, interval in plans.items() if interval == "month"]
    day = (date(2026, 12, 1) + timedelta(days=rng.randrange(60))).isoformat()
    price = Decimal(rng.randrange(1, 400))
    creates: dict[str, Any] = {
        "companies": {"name": f"Random {serial}", "location": location},
        "members": {"name": f"Person {serial}", "email": f"p{serial}@example.com",
                    "location": location},
        "memberships": {"name": "Desk", "startDate": day, "location": location,
                        "plan": rng.choice(monthly), "company": rng.choice(companies)},
        "fees": {"name": f"Fee {serial}", "issueDate": day, "location": location,
                 "plan": rng.choice(once), "price": price, "company": rng.choice(companies)},
        "plans": {"name": f"Plan {serial}", "price": price, "intervalLength": "once"},
    }
    updates: dict[str, dict[str, Any]] = {
        "companies": {"name": f"Renamed {serial}"},
        "members": {"name": f"Renamed {serial}"},
        "memberships": {"price": price},
        "fees": {"price": price, "quantity": rng.randrange(1, 5)},
        "plans": {"price": price},
    }
    path = rng.choice(sorted(creates))
    action = rng.choice(("create", "update", "update", "delete"))
    existing = _ids(client, path)
    try:
        if action == "create" or not existing:
            client.create(path, creates[path])
        elif action == "update":
            client.update(path, rng.choice(existing), updates[path])
        else:
            client.delete(path, rng.choice(existing))
    except ApiError:
        pass  # refused by the platform's rules (a company with memberships): also a real case


def _same(incremental: Snapshot, full: Snapshot) -> None:
    assert incremental.objects.keys() == full.objects.keys()
    for kind, objects in full.objects.items():
        assert incremental.objects[kind] == objects, kind


def test_incremental_snapshots_and_plans_equal_full_ones(
    world: tuple[Emulator, FlexClient, LoadedConfig], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, client, loaded = world
    rng = random.Random(16)
    desired = desired_state(loaded, SecretResolver.for_config(loaded))
    snapshots = CachedReader(client, SnapshotCache(tmp_path / "a.sqlite"))
    plans = CachedReader(client, SnapshotCache(tmp_path / "b.sqlite"))
    secrets = SecretResolver.for_config(loaded)
    target = {"api_url": "emulator", "org": ORG}
    for serial in range(ROUNDS):
        app.clock.advance(rng.choice(STEPS))
        for _ in range(rng.randrange(1, 4)):
            _change(client, rng, serial)
        if rng.random() < 0.5:
            _invoice(app, client, rng)
        app.clock.advance(rng.choice(STEPS[:3]))
        incremental = read_snapshot(client, desired, "EUR", all_objects=True, reader=snapshots)
        _same(incremental, read_snapshot(client, desired, "EUR", all_objects=True))
        planned = make_plan(loaded, client, target, secrets=secrets, reader=plans)
        full = make_plan(loaded, client, target, secrets=secrets)
        assert render_json(planned.plan) == render_json(full.plan), f"round {serial}"
        assert planned.plan.live_digest == full.plan.live_digest
        with every_invoice(monkeypatch):  # the invoices it read are all that matter to it
            everything = make_plan(loaded, client, target, secrets=secrets)
        assert render_json(full.plan) == render_json(everything.plan), f"round {serial}"
    # The rounds exercised every path: change sets, and sweeps after deletions.
    assert snapshots.incremental == {"companies", "members", "fees"}
    assert snapshots.swept


class Spy:
    """The client, noting what each list with a `modifiedAt` filter brought back."""

    def __init__(self, client: FlexClient) -> None:
        self.client = client
        self.changed: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def list(self, path: str, select: Any = (), filters: Any = None, *,
             texts: dict[str, str] | None = None) -> list[dict[str, Any]]:
        docs = list(self.client.list(path, select=select, filters=filters, texts=texts))
        if filters and "modifiedAt[$gt]" in filters:
            self.changed[path] = len(docs)
        return docs


def test_an_incremental_read_asks_only_for_what_changed(
    world: tuple[Emulator, FlexClient, LoadedConfig], tmp_path: Path
) -> None:
    app, client, loaded = world
    desired = desired_state(loaded, SecretResolver.for_config(loaded))
    spy = Spy(client)
    reader = CachedReader(spy, SnapshotCache(tmp_path / "c.sqlite"))
    app.clock.advance(3600)  # the seeding is long past
    read_snapshot(client, desired, "EUR", all_objects=True, reader=reader)
    assert not spy.changed and not reader.incremental  # nothing cached yet: full reads
    app.clock.advance(3600)
    fee = _ids(client, "fees")[0]
    client.update("fees", fee, {"quantity": 3})
    app.clock.advance(5)
    after = read_snapshot(client, desired, "EUR", all_objects=True, reader=reader)
    assert spy.changed == {"companies": 0, "members": 0, "fees": 1}
    assert reader.incremental == {"companies", "members", "fees"}
    assert not reader.swept
    assert next(o for o in after.objects["fees"] if o.id == fee).fields["quantity"] == 3
    refreshed = CachedReader(spy, SnapshotCache(tmp_path / "c.sqlite"), refresh=True)
    spy.changed.clear()
    read_snapshot(client, desired, "EUR", all_objects=True, reader=refreshed)
    assert not spy.changed and not refreshed.incremental  # --refresh: full reads


def test_deletions_are_found_by_the_count_and_a_sweep(
    world: tuple[Emulator, FlexClient, LoadedConfig], tmp_path: Path
) -> None:
    app, client, loaded = world
    desired = desired_state(loaded, SecretResolver.for_config(loaded))
    reader = CachedReader(client, SnapshotCache(tmp_path / "d.sqlite"))
    first = read_snapshot(client, desired, "EUR", all_objects=True, reader=reader)
    app.clock.advance(3600)
    gone = first.objects["fees"][0]
    assert gone.id is not None
    client.delete("fees", gone.id)
    after = read_snapshot(client, desired, "EUR", all_objects=True, reader=reader)
    assert reader.swept == {"fees"}
    assert gone.id not in {obj.id for obj in after.objects["fees"]}
    _same(after, read_snapshot(client, desired, "EUR", all_objects=True))
