"""Executing a plan: changes in dependency order, independent ones concurrently, into a journal.

A change starts once the changes it needs have been applied: a membership or fee waits for its
customer and its plan when the same plan creates them, a member for its company; a delete waits
for the deletes of the objects that refer to it, and for every other change (so an update that
moves a member away from a company runs before the company is deleted). A change whose
dependency failed, was skipped, or is a manual step is skipped, naming it; unrelated changes
go on. A replace deletes the old object before it creates the new one, so a customer is never
billed twice (the diff blocks the replace of an invoiced membership, which cannot be deleted).
The thread pool only overlaps latency: the client's pacer keeps writes under the rate limit.
Ids of created objects go into the snapshot's `RefMap`, so that the request bodies of
dependents can refer to them.
"""

from __future__ import annotations

import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TextIO

from flexctl.config.secrets import SecretResolver
from flexctl.errors import ApplyError, FlexctlError, PlanError, SecretError
from flexctl.kinds import get as get_kind
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.refs import RefMap
from flexctl.platform import stopping
from flexctl.platform.stopping import Stopped
from flexctl.reconcile.journal import WAITS_FOR_MANUAL, ApiFailure, Entry, Journal
from flexctl.reconcile.plan import API_ACTIONS, Change, Plan, create_references, references
from flexctl.reconcile.recovery import Done, WriteClient, Writer

DEFAULT_WORKERS = 8  # requests in flight; enough to hide latency, the pacer sets the rate
INTERRUPTED = "not started: apply was interrupted"
ABORTED = "unknown: apply was stopped at once while it was in flight; the next run settles it"
POLL_SECONDS = 0.2  # how soon a Ctrl-C is noticed and said

Progress = Callable[[Entry, int, int], None]  # (entry just recorded, done, total)


@dataclass(frozen=True)
class Task:
    """A change to run and the addresses it needs applied first. Deletes (`last`) start only
    once every other change has finished, whatever its outcome."""

    change: Change
    needs: frozenset[str]

    @property
    def last(self) -> bool:
        return self.change.action == "delete"


def tasks_of(
    plan: Plan, live: Mapping[str, Obj], desired: Mapping[str, Obj] | None = None
) -> list[Task]:
    """The plan's API changes as tasks, with their dependencies (see the module docstring)."""
    api = [c for c in plan.changes if c.action in API_ACTIONS]
    referrers: dict[str, set[str]] = {}
    for change in api:
        old = live.get(change.address) if change.action == "delete" else None
        for target in references(old) if old else ():
            referrers.setdefault(target, set()).add(change.address)
    created = {  # what does not exist yet (a manual create has no id)
        c.address for c in plan.changes
        if c.action in ("create", "replace") or (c.action == "manual" and not c.id)
    }
    tasks = []
    for change in api:
        if change.action == "delete":
            needs = referrers.get(change.address, set()) - {change.address}
        else:
            needs = set(change.depends_on) | _default_references(change, desired or {}, created)
        tasks.append(Task(change, frozenset(needs)))
    return tasks


def _default_references(change: Change, desired: Mapping[str, Obj], created: set[str]) -> set[str]:
    """What a create sends that the same plan creates, what it sends without the config saying
    so included (a membership's location defaults to its customer's)."""
    obj = desired.get(change.address)
    if change.action not in ("create", "replace") or obj is None:
        return set()
    # Per reference, never a copy of `created` per change: that made scheduling quadratic.
    return {ref for ref in create_references(obj) if ref in created and ref != change.address}


class _Graph:
    """Which tasks may start: their needs applied, and for deletes every other change done."""

    def __init__(self, tasks: Sequence[Task], manual: Sequence[Entry]) -> None:
        self.by_address = {t.change.address: t for t in tasks}
        known = set(self.by_address) | {e.address for e in manual}
        self.waiting = {t.change.address: set(t.needs & known) for t in tasks}
        self.dependents: dict[str, list[Task]] = {}
        for task in tasks:
            for address in self.waiting[task.change.address]:
                self.dependents.setdefault(address, []).append(task)
        self.closed: set[str] = set()  # addresses with a recorded outcome
        self.unfinished_first = sum(1 for t in tasks if not t.last)
        self.held: list[Task] = []
        self.ready: list[Task] = []
        for task in tasks:
            if not self.waiting[task.change.address]:
                self._unblocked(task)

    def _unblocked(self, task: Task) -> None:
        (self.held if task.last and self.unfinished_first else self.ready).append(task)

    def finished(self, address: str) -> None:
        """Count a recorded outcome; when the last non-delete finishes, release the deletes."""
        self.closed.add(address)
        task = self.by_address.get(address)
        if task is not None and not task.last:
            self.unfinished_first -= 1
            if not self.unfinished_first:
                self.ready += self.held
                self.held = []

    def done(self, entry: Entry) -> list[Task]:
        """Tasks that needed `entry` to succeed and so must be skipped (if it did not)."""
        doomed = []
        for task in self.dependents.get(entry.address, ()):
            if task.change.address in self.closed:
                continue
            if entry.status != "applied":
                doomed.append(task)
                continue
            waiting = self.waiting[task.change.address]
            waiting.discard(entry.address)
            if not waiting:
                self._unblocked(task)
        return doomed

    def take_ready(self) -> list[Task]:
        ready, self.ready = self.ready, []
        return ready


@dataclass
class Executor:
    """Runs one plan's tasks on a thread pool and records every outcome in the journal."""

    plan: Plan
    desired: Mapping[str, Obj]  # address -> desired object
    live: Mapping[str, Obj]  # address -> live object as planned
    writer: Writer
    workers: int = DEFAULT_WORKERS
    progress: Progress | None = None
    on_interrupt: Callable[[list[str]], None] | None = None  # told what is still in flight
    sink: TextIO | None = None  # the journal file, written as changes complete
    journal: Journal = field(init=False)
    interrupted: bool = field(init=False, default=False)  # the first Ctrl-C
    aborted: bool = field(init=False, default=False)  # the second: left in flight, unknown
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _refs_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.journal = Journal([c.address for c in self.plan.changes], sink=self.sink)

    def run(self) -> Journal:
        if self.plan.blocked:
            raise PlanError("the plan has blocked changes; nothing is applied")
        self._check_secrets()
        manual = [
            Entry(c.address, c.kind, "manual", "manual", c.instructions or c.reason, c.id)
            for c in self.plan.changes
            if c.action == "manual"
        ]
        self._schedule(tasks_of(self.plan, self.live, self.desired), manual)
        return self.journal

    def _check_secrets(self) -> None:
        """Every secret a change must send is read before the first write: a missing one
        would otherwise fail the apply half-way."""
        problems: list[str] = []
        for change in self.plan.changes:
            obj = self.desired.get(change.address)
            if change.action not in API_ACTIONS or obj is None:
                continue
            kind = get_kind(change.kind)
            for ref, where in kind.secrets_needed(obj, change.action, change.changed_paths):
                try:
                    self.writer.secrets.value(ref, where)
                except SecretError as error:
                    problems.append(str(error))
        if problems:
            raise SecretError("; ".join(problems) + "; nothing was applied")

    # -- scheduling -------------------------------------------------------------------------

    def _schedule(self, tasks: Sequence[Task], manual: Sequence[Entry]) -> None:
        """Run the tasks, at most `workers` at a time. The first Ctrl-C starts nothing new and
        lets what is in flight finish (each outcome recorded); a second stops at once."""
        graph = _Graph(tasks, manual)
        for entry in manual:  # what needs a manual step cannot run in this apply
            self._finish(entry, graph)
        pool = ThreadPoolExecutor(max_workers=max(1, self.workers),
                                  thread_name_prefix="flexctl-apply")
        with _interrupts(self._stop) as presses:
            try:
                self._run_tasks(pool, graph)
            except KeyboardInterrupt:  # the second Ctrl-C: leave what is in flight behind
                self.aborted = True
                pool.shutdown(wait=False, cancel_futures=True)
            else:
                pool.shutdown(wait=True)
            presses.loop_done = True  # a press from now on only marks the apply aborted
            for task in tasks:  # interrupted, or (a bug) waiting in a dependency cycle
                if self.journal.get(task.change.address) is None:
                    self._record(self._not_started(task.change))
        self.aborted = self.aborted or presses.aborted

    def _run_tasks(self, pool: ThreadPoolExecutor, graph: _Graph) -> None:
        queued: deque[Task] = deque()
        running: dict[Future[Entry], Task] = {}
        while True:
            if self._stop.is_set() and not self.interrupted:
                self._interrupt(running)
            queued.extend(graph.take_ready())
            while queued and len(running) < self.workers and not self.interrupted:
                task = queued.popleft()
                running[pool.submit(self._execute, task.change)] = task
            if not running:
                return
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                self._finish(future.result(), graph)
                running.pop(future)

    def _interrupt(self, running: Mapping[Future[Entry], Task]) -> None:
        """The first Ctrl-C: stop starting changes, say what is still in flight."""
        self.interrupted = True
        stopping.request_stop()  # threads waiting on the pacer or a retry stop waiting
        if self.on_interrupt is not None:
            self.on_interrupt(sorted(task.change.address for task in running.values()))

    def _finish(self, entry: Entry, graph: _Graph) -> None:
        """Record an outcome; release what it unblocks, skip what needed it to succeed."""
        todo = [entry]
        while todo:
            current = todo.pop()
            if self.journal.get(current.address) is not None:
                continue  # already skipped through another failed dependency
            self._record(current)
            graph.finished(current.address)
            todo += [self._skip(task, current) for task in graph.done(current)]

    @staticmethod
    def _skip(task: Task, blocker: Entry) -> Entry:
        change = task.change
        manual = blocker.address if blocker.status == "manual" else blocker.manual_step
        if manual is not None:
            via = f" (through {blocker.address})" if manual != blocker.address else ""
            why = f"{WAITS_FOR_MANUAL} {manual}{via}; make it, then run apply again"
        else:
            was = "was " if blocker.status == "skipped" else ""
            why = f"its dependency {blocker.address} {was}{blocker.status}"
        return Entry(change.address, change.kind, change.action, "skipped", why, change.id,
                     waits_for=blocker.address, manual_step=manual)

    def _not_started(self, change: Change) -> Entry:
        if self.aborted:
            why = ABORTED
        elif self.interrupted:
            why = INTERRUPTED
        else:
            why = "not started: its dependencies never finished"
        return Entry(change.address, change.kind, change.action, "skipped", why, change.id)

    def _record(self, entry: Entry) -> None:
        self.journal.record(entry)
        if self.progress is not None:
            self.progress(entry, len(self.journal.entries), len(self.plan.changes))

    # -- one change -------------------------------------------------------------------------

    def _execute(self, change: Change) -> Entry:
        """Run one change on a worker thread; every error becomes a failed entry."""
        try:
            done = self._apply(get_kind(change.kind), change)
        except Stopped:  # Ctrl-C while it waited to send: nothing was sent by this attempt
            return self._not_started(change)
        except FlexctlError as error:
            return Entry(change.address, change.kind, change.action, "failed", str(error),
                         change.id, ApiFailure.of(error))
        except Exception as error:  # a bug: fail this change, keep the journal
            message = f"internal error: {type(error).__name__}: {error}"
            return Entry(change.address, change.kind, change.action, "failed", message,
                         change.id)
        return Entry(change.address, change.kind, change.action, "applied", done.note, done.id)

    def _apply(self, kind: Kind, change: Change) -> Done:
        if change.action == "delete":
            return self.writer.delete(kind, change.id)
        if change.action == "update":
            obj = self._target(change)
            return self.writer.update(kind, obj, set(change.changed_paths), change.id or obj.id)
        obj = self._desired(change)
        if change.action == "create":
            done = self.writer.create(kind, obj)
        else:
            done = self._replace(kind, change, obj)
        if done.id is not None:
            self._remember(kind, obj, done.id)
        return done

    def _replace(self, kind: Kind, change: Change, obj: Obj) -> Done:
        """Delete the old object first: the customer is never billed twice."""
        old = self.live.get(change.replaces or change.address)
        self.writer.delete(kind, change.id or (old.id if old else None))
        try:
            return self.writer.create(kind, obj)
        except FlexctlError as error:
            failure = ApplyError("the old one was deleted, but creating the new one failed: "
                                 f"{error}; run apply again to create it")
            raise failure from error

    def _desired(self, change: Change) -> Obj:
        obj = self.desired.get(change.address)
        if obj is None:
            raise PlanError(f"{change.address} is not in the configuration; make a new plan")
        return obj

    def _target(self, change: Change) -> Obj:
        """What an update writes: the desired object with the plan's values (which may set a
        field an interrupted create left unset), or a live one with the plan's values (ending
        an invoiced membership that left the configuration); see also `Kind.for_update`."""
        obj = self.desired.get(change.address)
        live = self.live.get(change.address)
        if obj is not None:
            planned = Obj(obj.kind, obj.address, {**obj.fields, **change.after}, obj.id,
                          obj.owner, obj.meta)
            return get_kind(change.kind).for_update(planned, live)
        if live is None:
            raise PlanError(f"{change.address} is not on the target any more; make a new plan")
        return Obj(live.kind, live.address, {**live.fields, **change.after}, live.id,
                   live.owner, live.meta)

    def _remember(self, kind: Kind, obj: Obj, id: str) -> None:
        """Dependents' bodies refer to a created object by the id recorded here."""
        key = obj.meta.get("key")
        if kind.owned or key is None:
            return
        with self._refs_lock:
            self.writer.refs.add(kind.name, str(key), id)
            self.writer.refs.set_name(kind.name, str(key), str(obj.fields.get("name") or ""))


@dataclass
class _Presses:
    loop_done: bool = False
    aborted: bool = False


@contextmanager
def _interrupts(stop: threading.Event) -> Iterator[_Presses]:
    """While the block runs, the first Ctrl-C sets `stop` (the loop notices it within
    POLL_SECONDS) instead of raising anywhere; a second raises KeyboardInterrupt at once, or
    once the loop is done only marks the apply aborted. Only the main thread can handle
    signals; elsewhere Ctrl-C keeps its usual meaning."""
    presses = _Presses()
    if threading.current_thread() is not threading.main_thread():
        yield presses
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            stop.set()
        elif not presses.loop_done:
            raise KeyboardInterrupt
        else:
            presses.aborted = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield presses
    finally:
        signal.signal(signal.SIGINT, previous)


def execute(
    plan: Plan,
    desired: Mapping[str, Sequence[Obj]],
    live: Mapping[str, Sequence[Obj]],
    *,
    client: WriteClient,
    refs: RefMap,
    secrets: SecretResolver,
    currency: str,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
    on_interrupt: Callable[[list[str]], None] | None = None,
    sink: TextIO | None = None,
) -> Executor:
    """Apply `plan` (nothing blocked) through `client`; returns the finished executor, whose
    `journal` holds every change's outcome and `interrupted` whether Ctrl-C cut it short."""
    executor = Executor(
        plan=plan,
        desired={o.address: o for objs in desired.values() for o in objs},
        live={o.address: o for objs in live.values() for o in objs},
        writer=Writer(client, refs, secrets, currency),
        workers=workers,
        progress=progress,
        on_interrupt=on_interrupt,
        sink=sink,
    )
    executor.run()
    return executor
