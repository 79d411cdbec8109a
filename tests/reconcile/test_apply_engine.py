"""The apply engine against the in-process emulator: dependency order, skipping, settling
unknown outcomes (lost answers, 5xx) without duplicates, replaces, interruption, manual steps."""

from __future__ import annotations

import json
import shutil
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import Emulator, create_app
from flexctl.errors import PlanError
from flexctl.kinds.base import Obj, Profile
from flexctl.kinds.configuration import load_config
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from flexctl.reconcile.apply import ABORTED, INTERRUPTED, Executor, _Graph, execute, tasks_of
from flexctl.reconcile.journal import WAITS_FOR_MANUAL, Entry, Journal
from flexctl.reconcile.plan import Change, Plan
from flexctl.session import PlanRun, make_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
ORG = "harbor-works"
ENV = {"HARBOR_STRIPE_SECRET_KEY": "sk_test_51HarborSecret4242"}
FAST = "100000/s"


@dataclass
class World:
    """An example config copy, an emulator, and a client on it."""

    root: Path
    app: Emulator
    client: FlexClient

    def plan(self, today: date | None = None) -> PlanRun:
        loaded = load_config(self.root)
        secrets = SecretResolver.for_config(loaded, ENV)
        return make_plan(loaded, self.client, {"api_url": "test", "org": ORG},
                         secrets=secrets, today=today)

    def apply(self, run: PlanRun | None = None, **kwargs: Any) -> Executor:
        run = run or self.plan()
        snap = run.snapshot
        return execute(run.plan, run.desired, snap.objects, client=self.client,
                       refs=snap.refs, secrets=run.secrets, currency=snap.currency, **kwargs)

    def faults(self, *rules: dict[str, Any]) -> None:
        self.app.faults.configure(list(rules))

    def docs(self, kind: str) -> list[dict[str, Any]]:
        return [dict(doc) for doc in self.client.list(kind)]

    def harness(self, method: str, path: str, body: Any) -> None:
        with httpx.Client(transport=httpx.WSGITransport(app=self.app),
                          base_url="http://emulator.test") as http:
            http.request(method, f"/_emulator/{path}", json=body).raise_for_status()

    def edit(self, file: str, old: str, new: str) -> None:
        path = self.root / file
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


def connect(app: Emulator, scopes: tuple[str, ...] | None = None) -> FlexClient:
    target = Target(api_url="http://emulator.test/api/v2", org=ORG,
                    token_url="http://emulator.test/oauth/token",
                    client_id="emulator", client_secret="emulator")
    chosen = scopes if scopes is not None else profile_scopes(Profile.FULL)
    return open_client(target, app=app, scopes=chosen, sleep=lambda s: None,
                       read_rate=FAST, write_rate=FAST)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    root = tmp_path / "harbor-works"
    shutil.copytree(EXAMPLE, root)
    app = create_app(None, profile="full", orgs=(ORG,))
    with connect(app) as client:
        yield World(root, app, client)


def by_status(journal: Journal) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for entry in journal:
        out.setdefault(entry.status, set()).add(entry.address)
    return out


def names(world: World, kind: str, field: str = "name") -> Counter[str]:
    return Counter(str(d.get(field)) for d in world.docs(kind))


# --- the whole example -------------------------------------------------------------------------


def test_fresh_org_is_applied_in_full_and_then_plans_empty(world: World) -> None:
    executor = world.apply()
    journal = executor.journal
    assert journal.ok and journal.exit_code() == 0
    assert journal.counts == {"applied": 48, "failed": 0, "skipped": 0, "manual": 0}
    created = [e for e in journal if e.action == "create"]
    assert all(e.id for e in created), "every create records the new object's id"
    assert world.plan().plan.empty
    assert names(world, "companies") == Counter(
        {"Acme Ltd": 1, "Lighthouse Labs": 1, "Quay Studio": 1, "Tidewater Consulting": 1})


def test_journal_is_in_plan_order(world: World) -> None:
    run = world.plan()
    journal = world.apply(run).journal
    assert [e.address for e in journal] == [c.address for c in run.plan.changes]


# --- failures and dependents -------------------------------------------------------------------


def test_failed_plan_creates_skip_only_their_dependents(world: World) -> None:
    world.faults({"fault": "500", "method": "POST", "path": "/plans$"})
    journal = world.apply().journal
    groups = by_status(journal)
    plans = {a for a in groups["failed"] if a.startswith("plans.")}
    assert plans == {e.address for e in journal if e.kind == "plans"}
    assert groups["failed"] == plans
    skipped = groups["skipped"]
    assert {e.kind for e in journal if e.address in skipped} == {
        "memberships", "fees", "storefront"}
    for address in skipped:
        entry = journal.get(address)
        assert entry is not None and entry.waits_for is not None
        assert entry.waits_for.startswith("plans.")
        assert entry.message == f"its dependency {entry.waits_for} failed"
    # Unrelated changes went on: customers, rates, gateways, invoicing.
    applied_kinds = {e.kind for e in journal if e.status == "applied"}
    assert {"companies", "members", "rates", "gateways", "invoicing"} <= applied_kinds
    failure = journal.get("plans.hot-desk")
    assert failure is not None and failure.error is not None
    assert (failure.error.method, failure.error.status) == ("POST", 500)
    assert failure.error.path == f"/api/v2/organizations/{ORG}/plans"
    assert "injected fault" in failure.error.message
    assert not journal.ok and journal.exit_code() == 1
    assert world.docs("plans") == [] and world.docs("memberships") == []


def test_a_rerun_after_failures_converges(world: World) -> None:
    world.faults({"fault": "500", "method": "POST", "path": "/plans$"})
    world.apply()
    world.faults()
    assert world.apply().journal.ok
    assert world.plan().plan.empty
    assert sum(names(world, "companies").values()) == 4


# --- unknown outcomes --------------------------------------------------------------------------


def test_create_whose_answer_is_lost_is_found_not_resent(world: World) -> None:
    world.faults({"fault": "drop", "method": "POST", "path": "/companies$", "count": 2})
    journal = world.apply().journal
    assert journal.ok
    notes = [e for e in journal if "found by its natural key" in e.message]
    assert len(notes) == 2 and all(e.kind == "companies" and e.id for e in notes)
    assert set(names(world, "companies").values()) == {1}
    assert world.plan().plan.empty


def test_create_answered_500_before_writing_is_sent_again(world: World) -> None:
    world.faults({"fault": "500", "method": "POST", "path": "/members$", "count": 1})
    journal = world.apply().journal
    assert journal.ok
    retried = [e for e in journal if e.message == "created on attempt 2"]
    assert [e.kind for e in retried] == ["members"]
    assert set(names(world, "members", "email").values()) == {1}


def test_lost_membership_creates_never_duplicate(world: World) -> None:
    world.faults({"fault": "drop", "method": "POST", "path": "/memberships$"})
    journal = world.apply().journal
    assert journal.ok
    docs = world.docs("memberships")
    assert len(docs) == 6
    keys = Counter((d.get("company") or d.get("member"), d["plan"], d["startDate"]) for d in docs)
    assert set(keys.values()) == {1}


def test_update_answered_500_is_read_back_then_sent_again(world: World) -> None:
    world.faults({"fault": "500", "method": "PUT", "path": "/invoicing-settings$", "count": 1})
    journal = world.apply().journal
    entry = journal.get("invoicing")
    assert entry is not None and entry.status == "applied"
    assert entry.message == "updated on attempt 2"
    assert world.plan().plan.empty


def test_delete_answered_500_or_lost_counts_once_done(world: World) -> None:
    world.apply()
    world.edit("customers/companies.yaml",
               "      - {plan: meeting-credit, date: 2026-12-01}\n", "")
    world.edit("customers/companies.yaml",
               "      - {plan: printing, date: 2026-12-03, quantity: 120}\n", "")
    world.edit("customers/companies.yaml", "    fees:\n  lighthouse", "  lighthouse")
    world.faults({"fault": "500", "method": "DELETE", "path": "/fees/", "count": 1},
                 {"fault": "drop", "method": "DELETE", "path": "/fees/", "count": 1})
    run = world.plan()
    assert {c.action for c in run.plan.changes} == {"delete"}
    journal = world.apply(run).journal
    assert journal.counts["applied"] == 2 and journal.ok
    assert world.plan().plan.empty
    assert len(world.docs("fees")) == 5


def test_permanent_business_error_fails_after_bounded_attempts(world: World) -> None:
    world.faults({"fault": "500", "method": "POST", "path": "/fees$"})
    world.app.stats.reset()
    journal = world.apply().journal
    fees = [e for e in journal if e.kind == "fees"]
    assert {e.status for e in fees} == {"failed"}
    # Each fee: three POSTs, each followed by one lookup; nothing else re-sent.
    posts = 3 * len(fees)
    assert world.app.faults.rules[0].fired == posts


# --- replace, manual, interruption -------------------------------------------------------------


def test_replace_of_a_never_invoiced_membership_deletes_old_then_creates_new(
        world: World) -> None:
    world.apply()
    old = next(d for d in world.docs("memberships") if d["price"] == 1750)
    world.edit("customers/companies.yaml", "      - plan: private-office-4\n",
               "      - plan: dedicated-desk\n")
    run = world.plan()
    [change] = run.plan.changes
    assert (change.action, change.id) == ("replace", old["_id"])
    assert world.apply(run).journal.ok
    docs = world.docs("memberships")
    assert old["_id"] not in {d["_id"] for d in docs}, "the old membership is deleted"
    [new] = [d for d in docs if d["price"] == 1750]
    assert (new["startDate"], new["company"]) == (old["startDate"], old["company"])
    assert new["plan"] != old["plan"] and len(docs) == 6
    assert world.plan().plan.empty


def test_replace_of_invoiced_membership_is_blocked_and_nothing_is_written(
        world: World) -> None:
    world.apply()
    old = next(d for d in world.docs("memberships") if d["price"] == 1750)
    world.harness("POST", f"organizations/{ORG}/invoices", {"memberships": [old["_id"]]})
    world.edit("customers/companies.yaml", "      - plan: private-office-4\n",
               "      - plan: dedicated-desk\n")
    run = world.plan()
    [change] = run.plan.changes
    assert change.action == "blocked" and run.plan.exit_code() == 3
    assert "has invoices" in change.reason and "(plan private-office-4)" in change.reason
    before = world.docs("memberships")
    world.app.stats.reset()
    with pytest.raises(PlanError, match="blocked"):
        world.apply(run)
    assert world.app.stats.writes == 0
    assert world.docs("memberships") == before, "the old membership is neither ended nor deleted"


def test_changes_waiting_for_a_manual_step_are_skipped_not_failed(tmp_path: Path) -> None:
    root = tmp_path / "harbor-works"
    shutil.copytree(EXAMPLE, root)
    app = create_app(None, profile="officernd", orgs=(ORG,))
    with connect(app, scopes=profile_scopes(Profile.OFFICERND)) as client:
        world = World(root, app, client)
        journal = world.apply().journal
    groups = by_status(journal)
    assert all(a.startswith(("plans.", "rates.", "locations.", "tax_rates.", "revenue_accounts",
                             "gateways.", "invoicing", "storefront")) for a in groups["manual"])
    for address in groups["skipped"]:
        entry = journal.get(address)
        assert entry is not None and entry.message.startswith(WAITS_FOR_MANUAL)
    assert "failed" not in groups
    assert journal.ok, "waiting for a manual step is not a failure"


def ctrl_c() -> None:
    """What a user's Ctrl-C does: SIGINT, handled by the main thread. Sent to that thread, so
    that its handler runs before the next line (to the process, the kernel may hand it to a
    worker thread, and the main thread would notice it only a little later)."""
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def test_interrupt_stops_starting_changes_and_rerun_converges(world: World) -> None:
    seen: list[Entry] = []
    told: list[list[str]] = []

    def progress(entry: Entry, done: int, total: int) -> None:
        seen.append(entry)
        if len(seen) == 10:
            ctrl_c()

    executor = world.apply(workers=2, progress=progress, on_interrupt=told.append)
    assert executor.interrupted and not executor.aborted
    assert len(told) == 1  # what is still in flight was said once
    journal = executor.journal
    not_started = [e for e in journal if e.message == INTERRUPTED]
    assert not_started and all(e.status == "skipped" for e in not_started)
    assert len(list(journal)) == 48
    assert world.apply().journal.ok
    assert world.plan().plan.empty
    assert set(names(world, "members", "email").values()) == {1}


def test_interrupt_while_an_outcome_is_being_recorded_keeps_that_outcome(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    finish = Executor._finish
    calls: list[str] = []

    def interrupted_finish(self: Executor, entry: Entry, graph: _Graph) -> None:
        calls.append(entry.address)
        if len(calls) == 5:  # Ctrl-C lands just as a finished change is picked up
            ctrl_c()
        finish(self, entry, graph)

    monkeypatch.setattr(Executor, "_finish", interrupted_finish)
    run = world.plan()
    world.app.stats.reset()
    executor = world.apply(run, workers=2)
    assert executor.interrupted
    applied = [e for e in executor.journal if e.status == "applied"]
    assert len(applied) == world.app.stats.writes, "every write made is journaled as applied"
    assert calls[4] in {e.address for e in applied}


def test_a_second_interrupt_stops_at_once_and_the_journal_file_has_every_outcome(
        world: World, tmp_path: Path) -> None:
    def progress(entry: Entry, done: int, total: int) -> None:
        if done == 6:
            ctrl_c()

    def second_press(in_flight: list[str]) -> None:
        ctrl_c()  # once the first was noticed: two signals sent at once are one

    sink_path = tmp_path / "journal.jsonl"
    with sink_path.open("w", encoding="utf-8") as sink:
        executor = world.apply(workers=2, progress=progress, sink=sink,
                               on_interrupt=second_press)
    assert executor.aborted
    lines = [json.loads(line) for line in sink_path.read_text(encoding="utf-8").splitlines()]
    assert [line["address"] for line in lines] == [e.address for e in executor.journal.entries
                                                   .values()]
    assert any(line["message"] == ABORTED for line in lines)
    assert world.apply().journal.ok  # the next run settles what was left in flight
    assert world.plan().plan.empty


# --- the dependency graph ----------------------------------------------------------------------


def test_deletes_wait_for_what_refers_to_them() -> None:
    company = Obj("companies", "companies.acme", {"name": "Acme"}, id="c1")
    fee = Obj("fees", "companies.acme.fees[printing@2026-12-03]", {"plan": "printing"},
              id="f1", owner="companies.acme")
    plan_obj = Obj("plans", "plans.printing", {"name": "Printing"}, id="p1")
    changes = (
        Change("members.jane", "members", "update", id="m1"),
        Change(fee.address, "fees", "delete", id="f1"),
        Change("plans.printing", "plans", "delete", id="p1"),
        Change("companies.acme", "companies", "delete", id="c1"),
    )
    plan = Plan(target={}, config_digest="", live_digest="", changes=changes)
    live = {o.address: o for o in (company, fee, plan_obj)}
    tasks = {t.change.address: t for t in tasks_of(plan, live)}
    assert tasks["companies.acme"].needs == {fee.address}
    assert tasks["plans.printing"].needs == {fee.address}
    assert tasks[fee.address].needs == frozenset()
    assert [a for a, t in tasks.items() if t.last] == [
        fee.address, "plans.printing", "companies.acme"]


def test_deletes_follow_every_other_change_and_wait_for_their_referrers(
        world: World) -> None:
    world.apply()
    world.edit("organization.yaml", "prune: [fees]", "prune: [fees, plans]")
    world.edit("services.yaml", "  meeting-credit:\n    name: Meeting room credit (10 hours)\n"
               "    billing: one_off\n    price: 240.00\n    revenue_account: bookings\n", "")
    world.edit("customers/companies.yaml", "      - {plan: meeting-credit, date: 2026-12-01}\n",
               "")
    world.edit("customers/members.yaml", "Chen Wei", "Chen Wei Jr")
    # Undeclared live objects are addressed by a slug of their name.
    fee = "companies.acme.fees[meeting-room-credit-10-hours@2026-12-01]"
    plan_address = "plans.meeting-room-credit-10-hours"
    run = world.plan()
    assert {c.address: c.action for c in run.plan.changes} == {
        "members.chen-wei": "update", fee: "delete", plan_address: "delete"}
    world.faults({"fault": "500", "method": "DELETE", "path": "/fees/"})
    order: list[str] = []
    journal = world.apply(run, progress=lambda e, done, total: order.append(e.address)).journal
    assert order == ["members.chen-wei", fee, plan_address]
    plan = journal.get(plan_address)
    assert plan is not None and plan.status == "skipped" and plan.waits_for == fee
    world.faults()
    assert world.apply().journal.ok and world.plan().plan.empty


def test_replace_whose_create_fails_says_the_old_one_is_gone(world: World) -> None:
    world.apply()
    world.edit("customers/companies.yaml", "      - plan: private-office-4\n",
               "      - plan: dedicated-desk\n")
    world.faults({"fault": "500", "method": "POST", "path": "/memberships$"})
    journal = world.apply().journal
    [entry] = list(journal)
    assert entry.action == "replace" and entry.status == "failed"
    assert entry.message.startswith("the old one was deleted, but creating the new one failed: "
                                    f"POST /api/v2/organizations/{ORG}/memberships: 500")
    assert entry.error is not None and entry.error.method == "POST"
    world.faults()
    run = world.plan()
    assert [c.action for c in run.plan.changes] == ["create"]
    assert world.apply(run).journal.ok and world.plan().plan.empty


def test_a_create_waits_for_what_it_sends_by_default(world: World) -> None:
    world.apply()
    world.edit("organization.yaml", "  riverside:\n", "  quay:\n    name: Harbor Works Quay\n"
               "  riverside:\n")
    world.edit("customers/companies.yaml", "    email: billing@acme.example\n"
               "    location: downtown\n", "    email: billing@acme.example\n"
               "    location: quay\n")
    world.edit("customers/companies.yaml", "        price: 1750.00          # negotiated",
               "        price: 1750.00\n      - {plan: hot-desk, start: 2027-02-01}\n#")
    run = world.plan()
    new = "companies.acme.memberships[hot-desk@2027-02-01]"
    assert {c.address: c.action for c in run.plan.changes} == {
        "locations.quay": "create", "companies.acme": "update", new: "create"}
    desired = {o.address: o for objs in run.desired.values() for o in objs}
    tasks = {t.change.address: t for t in tasks_of(run.plan, {}, desired)}
    assert tasks[new].needs == {"locations.quay"}  # the customer's location, sent by default
    assert world.apply(run).journal.ok
    membership = next(d for d in world.docs("memberships") if d["startDate"].startswith("2027-02"))
    quay = next(d for d in world.docs("locations") if d["name"] == "Harbor Works Quay")
    assert membership["location"] == quay["_id"]


def test_invoiced_membership_removed_from_the_config_is_ended(world: World) -> None:
    world.apply()
    quay = next(d for d in world.docs("memberships") if d.get("endDate"))
    world.harness("POST", f"organizations/{ORG}/invoices", {"memberships": [quay["_id"]]})
    world.edit("organization.yaml", "prune: [fees]", "prune: [fees, memberships]")
    world.edit("customers/companies.yaml", "    memberships:\n      - plan: virtual-office\n"
               "        start: 2026-12-01\n        end: 2027-11-30\n", "")
    # Ended today: pinned to a day before the membership's own end (2027-11-30), on or after
    # which it already ends by then and the plan is empty.
    today = date(2026, 12, 2)
    run = world.plan(today)
    [change] = run.plan.changes
    assert (change.action, change.reason) == ("update", "invoiced: ended, not deleted")
    journal = world.apply(run).journal
    assert journal.ok
    ended = next(d for d in world.docs("memberships") if d["_id"] == quay["_id"])
    assert ended["endDate"] != quay["endDate"]
    assert world.plan(today).plan.empty


def test_at_most_workers_changes_are_in_flight_and_each_runs_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    changes = tuple(Change(f"members.m{i}", "members", "update", id=f"m{i}") for i in range(60))
    plan = Plan(target={}, config_digest="", live_digest="", changes=changes)
    lock, gate = threading.Lock(), threading.Event()
    flight = {"now": 0, "most": 0}
    ran: Counter[str] = Counter()

    def execute_one(self: Executor, change: Change) -> Entry:
        with lock:
            flight["now"] += 1
            flight["most"] = max(flight["most"], flight["now"])
            ran[change.address] += 1
        gate.wait(0.002)  # long enough for the scheduler to try to start more
        with lock:
            flight["now"] -= 1
        return Entry(change.address, change.kind, change.action, "applied", "", change.id)

    class CountingPool(ThreadPoolExecutor):  # submitted and not finished: queued ones too
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            future = super().submit(fn, *args, **kwargs)
            with lock:
                flight["submitted"] += 1
                flight["pending"] = flight["submitted"] - flight["finished"]
                flight["most_pending"] = max(flight["most_pending"], flight["pending"])
            future.add_done_callback(lambda _: finished())
            return future

    def finished() -> None:
        with lock:
            flight["finished"] += 1

    flight.update(submitted=0, finished=0, pending=0, most_pending=0)
    monkeypatch.setattr("flexctl.reconcile.apply.ThreadPoolExecutor", CountingPool)
    monkeypatch.setattr(Executor, "_execute", execute_one)
    executor = Executor(plan=plan, desired={}, live={}, writer=None, workers=3)  # type: ignore[arg-type]
    journal = executor.run()
    assert flight["most"] == 3 and flight["most_pending"] == 3  # none waits queued in the pool
    assert ran == Counter({c.address: 1 for c in changes})
    assert [e.status for e in journal] == ["applied"] * 60
