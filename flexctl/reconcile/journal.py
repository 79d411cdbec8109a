"""The apply journal: what happened to every change of a plan, and its renderings.

Every change ends in exactly one state — applied, failed (with the API's method, path, status
and message), skipped (naming the change it waited for) or manual (the target's API cannot make
it; listed, never counted as applied). The journal is printed at the end of `flexctl apply` as
text, or as JSON with `--format json`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from flexctl import __version__
from flexctl.errors import ApiError, ApplyError, TransportError
from flexctl.reconcile.render import FORMAT_VERSION, SYMBOLS
from flexctl.redaction import redact
from flexctl.sanitize import for_terminal

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

    def exit_code(self) -> int:
        return 0 if self.ok else 1


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
    if any(e.status == "manual" for e in journal):
        lines += ["", "Manual changes are not applied by flexctl: make them as the plan says, "
                      "then run apply again."]
    lines += ["", summary_line(journal)]
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
