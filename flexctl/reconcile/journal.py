"""The apply journal: what happened to every change of a plan, and its renderings.

Every change ends in exactly one state — applied, failed (with the API's method, path, status
and message), skipped (naming the change it waited for) or manual (the target's API cannot make
it; listed, never counted as applied). The journal is printed at the end of `flexctl apply` as
text, or as JSON with `--format json`.
"""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from flexctl import __version__
from flexctl.errors import ApiError, ApplyError, TransportError
from flexctl.kinds import get as get_kind
from flexctl.reconcile.manual import confirm_command
from flexctl.reconcile.plan import Plan, is_unverified
from flexctl.reconcile.render import FORMAT_VERSION, SYMBOLS
from flexctl.redaction import redact
from flexctl.sanitize import for_terminal
from flexctl.wording import counted

Status = Literal["applied", "failed", "skipped", "manual"]
STATUSES: tuple[Status, ...] = ("applied", "failed", "skipped", "manual")


@dataclass(frozen=True)
class ApiFailure:
    """The platform's side of a failed change, as the user needs it to act."""

    method: str
    path: str
    status: int | None  # None: no answer (connection lost, timeout)
    message: str

    @classmethod
    def of(cls, error: BaseException) -> ApiFailure | None:
        if isinstance(error, ApplyError) and error.__cause__ is not None:
            return cls.of(error.__cause__)  # an unsettled write: the write's own failure
        if isinstance(error, ApiError):
            text = error.platform_message
            message = "; ".join(text) if isinstance(text, list) else str(text)
            if error.hint:
                message = f"{message} ({error.hint})"
            return cls(error.method, error.path, error.status, message)
        if isinstance(error, TransportError):
            return cls(error.method, error.path, None, error.reason)
        return None

    def data(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "status": self.status,
                "message": self.message}


@dataclass(frozen=True)
class Entry:
    """The outcome of one change."""

    address: str
    kind: str
    action: str  # the plan's action: create, update, delete, replace, manual
    status: Status
    message: str = ""  # failed: the error; skipped: why; applied: how it was settled, if notable
    id: str | None = None  # the platform id of the object created or changed
    error: ApiFailure | None = None
    waits_for: str | None = None  # skipped: the address of the change it depended on
    manual_step: str | None = None  # skipped: the manual change it waits for, maybe indirectly

    def data(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "kind": self.kind,
            "action": self.action,
            "status": self.status,
            "id": self.id,
            "message": self.message or None,
            "error": self.error.data() if self.error else None,
            "waits_for": self.waits_for,
            "manual_step": self.manual_step,
        }


@dataclass
class Journal:
    """The entries in plan order; thread-safe to record into while changes run concurrently."""

    order: list[str]  # addresses in plan order
    entries: dict[str, Entry] = field(default_factory=dict)
    # A file the entries are appended to as they are recorded (JSON lines, flushed at once),
    # so no interrupt, kill or crash loses what is known to have been applied.
    sink: TextIO | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, entry: Entry) -> None:
        with self._lock:
            self.entries[entry.address] = entry
            if self.sink is not None:
                line = json.dumps(entry.data(), ensure_ascii=False)
                self.sink.write(redact(line) + "\n")
                self.sink.flush()

    def get(self, address: str) -> Entry | None:
        with self._lock:
            return self.entries.get(address)

    def __iter__(self) -> Iterator[Entry]:
        with self._lock:
            entries = dict(self.entries)
        return iter([entries[a] for a in self.order if a in entries])

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for entry in self:
            counts[entry.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """True when everything that could be applied was: no failure, nothing skipped because
        of one (changes waiting for a manual step are listed, not failures)."""
        return not any(
            e.status == "failed" or (e.status == "skipped" and e.manual_step is None)
            for e in self
        )

    @property
    def left(self) -> bool:
        """Whether manual steps remain: the live organization does not match yet."""
        return any(e.status == "manual" or e.manual_step is not None for e in self)

    def exit_code(self, *, detailed: bool = False) -> int:
        """1 something failed; with `detailed`, 2 when manual steps remain; else 0."""
        if not self.ok:
            return 1
        return 2 if detailed and self.left else 0


WAITS_FOR_MANUAL = "waits for the manual change"


# --- renderings ----------------------------------------------------------------------------------


def summary_line(journal: Journal) -> str:
    c = journal.counts
    return (f"Apply: {c['applied']} applied, {c['failed']} failed, {c['skipped']} skipped, "
            f"{c['manual']} manual.")


def entry_line(entry: Entry) -> str:
    """One journal line: status, the plan's symbol, the address and what happened."""
    line = f"{entry.status:<8} {SYMBOLS.get(entry.action, '?'):<3} {for_terminal(entry.address)}"
    return f"{line}: {for_terminal(entry.message)}" if entry.message else line


def render_journal_text(journal: Journal) -> str:
    lines = ["Apply results:"]
    lines += [f"  {entry_line(entry)}" for entry in journal]
    lines += ["", summary_line(journal)]
    return "\n".join(lines) + "\n"


def render_left(journal: Journal, plan: Plan, config_path: str | None = None) -> str:
    """The last lines of an apply that leaves manual steps: each one, where in the admin
    portal, and how it is then recorded as done: `flexctl confirm` where the target cannot
    read it, the next apply (which reads it) elsewhere. Empty when nothing is left."""
    manual = [c for c in plan.changes if c.action == "manual"]
    if not manual:
        return ""
    waiting = sum(1 for e in journal if e.status == "skipped" and e.manual_step is not None)
    verb = "waits" if waiting == 1 else "wait"
    steps = "it" if len(manual) == 1 else "them"
    after = f"; {counted(waiting, 'change')} {verb} for {steps}" if waiting else ""
    where = f" {shlex.quote(config_path)}" if config_path not in (None, ".") else ""
    lines = [f"Left to do by hand ({counted(len(manual), 'manual step')}{after}):"]
    for change in manual:
        lines.append(for_terminal(f"  {change.address}: {change.instructions or change.reason}"))
        if is_unverified(change):  # only a person can tell it was done
            lines.append(f"    then record it: {confirm_command(change.address, config_path)}")
        else:
            plural = get_kind(change.kind).plural
            lines.append(f"    then run: flexctl apply{where} (it reads {plural}: no "
                         "confirmation needed)")
    return "\n".join(lines) + "\n"


def journal_data(journal: Journal, target: dict[str, Any],
                 plan_id: str | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = dict(journal.counts)
    return {
        "format_version": FORMAT_VERSION,
        "flexctl_version": __version__,
        "target": target,
        "plan_id": plan_id,
        "ok": journal.ok,
        "summary": summary,
        "changes": [entry.data() for entry in journal],
    }


def render_journal_json(journal: Journal, target: dict[str, Any],
                        plan_id: str | None = None) -> str:
    return json.dumps(journal_data(journal, target, plan_id), indent=2, ensure_ascii=False) + "\n"
