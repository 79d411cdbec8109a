"""The saved plan (`flexctl plan -o FILE`): the JSON plan plus what `apply` needs to trust it.

Beyond the JSON plan it records the target it is bound to (`binding`: API, token host and
organization), what apply needs to check the plan by reading only what it touches (`check`,
see `saved_check`), a random plan id (so apply can refuse a plan it already applied), when and from
which config it was made, for every address the plan touches the digest of the live object as
planned (`null`: it must not exist yet), and the kinds it was limited to (`kinds`, null for
all). Changes carry their live `id`, `depends_on` and `replaces`. Secrets appear only as
fingerprints (the last four characters, which the platform itself shows).

`apply PLANFILE` resolves its own target from flags, environment and configuration and refuses
one that differs from the binding before any credential is sent; it re-plans and calls
`stale_reasons`: any reason means the saved plan no longer describes what would happen, and
nothing is applied. Applied plans are recorded (`applied_plans_file`) so none runs twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flexctl.errors import PlanError
from flexctl.fileio import write_atomic
from flexctl.kinds import get as get_kind
from flexctl.kinds.base import Obj
from flexctl.platform.target import Target
from flexctl.reconcile.plan import Plan
from flexctl.reconcile.render import FORMAT_VERSION, plan_data
from flexctl.redaction import redact

FILE_KIND = "flexctl-plan"
APPLIED_PLANS = "applied-plans"  # one line per applied plan file: "<plan id> <time> <org>"
_STRINGS = {"type": "array", "items": {"type": "string"}}
# What apply reads from a plan file; anything else in it is informative only.
_SHAPE: dict[str, Any] = {
    "type": "object",
    "required": ["plan_id", "config_path", "config_digest", "target", "binding", "objects",
                 "changes", "summary"],
    "properties": {
        "plan_id": {"type": "string", "minLength": 1},
        "config_path": {"type": "string"},
        "config_digest": {"type": "string"},
        "target": {"type": "object", "required": ["api_url", "org"],
                   "properties": {"api_url": {"type": "string"}, "org": {"type": "string"}}},
        "binding": {"type": "object", "required": ["api", "token_host", "org"],
                    "properties": {"api": {"type": "string"},
                                   "token_host": {"type": ["string", "null"]},
                                   "org": {"type": "string"}}},
        "objects": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        "changes": {"type": "array", "items": {
            "type": "object", "required": ["address", "kind", "action"],
            "properties": {"address": {"type": "string"}, "kind": {"type": "string"},
                           "action": {"type": "string"}}}},
        "summary": {"type": "object"},
        # 1.1: the money summary; its date is what apply re-plans the figures for.
        "money": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["currency", "as_of"],
            "properties": {"currency": {"type": "string"},
                           "as_of": {"type": "string", "format": "date",
                                     "pattern": r"^\d{4}-\d{2}-\d{2}$"}}}]},
        "kinds": {"oneOf": [_STRINGS, {"type": "null"}]},
        "warnings": _STRINGS,
    },
}
_CHANGE_KEYS = ("address", "kind", "action", "reason", "changed_paths", "before", "after",
                "instructions")


@dataclass(frozen=True)
class SavedPlan:
    """A plan file as loaded: its JSON document and typed access to what apply checks."""

    path: Path
    document: Mapping[str, Any]

    @property
    def plan_id(self) -> str:
        return str(self.document["plan_id"])

    @property
    def config_path(self) -> str:
        return str(self.document["config_path"])

    @property
    def config_digest(self) -> str:
        return str(self.document["config_digest"])

    @property
    def target(self) -> Mapping[str, Any]:
        return dict(self.document["target"])

    @property
    def binding(self) -> Mapping[str, str | None]:
        return dict(self.document["binding"])

    @property
    def objects(self) -> Mapping[str, str | None]:
        return dict(self.document["objects"])

    @property
    def changes(self) -> Sequence[Mapping[str, Any]]:
        return list(self.document["changes"])

    @property
    def summary(self) -> Mapping[str, Any]:
        return dict(self.document["summary"])

    @property
    def as_of(self) -> date | None:
        """The date of the plan's money summary (plan format 1.1), so apply re-plans the same
        figures; None for an older plan."""
        money = self.document.get("money")
        if not money:
            return None
        try:
            return date.fromisoformat(money["as_of"])
        except ValueError:
            raise PlanError(f"{self.path} has an impossible money.as_of date "
                            f"{money['as_of']!r}; make a new plan with `flexctl plan -o`") from None


def planfile_data(
    plan: Plan,
    *,
    config_path: Path,
    binding: Mapping[str, str | None],
    desired: Mapping[str, Sequence[Obj]],
    kinds: Sequence[str] | None = None,
    plan_id: str | None = None,
    created_at: datetime | None = None,
    check: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan file's document (see the module docstring)."""
    doc = plan_data(plan)
    for change, entry in zip(plan.changes, doc["changes"], strict=True):
        entry.update(change.extra)
    touched = {c.address for c in plan.changes}
    doc.update(
        kind=FILE_KIND,
        plan_id=plan_id or uuid.uuid4().hex,
        created_at=(created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        config_path=str(config_path.resolve()),
        binding=dict(binding),
        kinds=list(kinds) if kinds is not None else None,
        objects=dict(sorted(plan.object_digests.items())),
        secret_fingerprints=_fingerprints(desired, touched),
        warnings=list(plan.warnings),
    )
    if check is not None:
        doc["check"] = dict(check)  # see flexctl.reconcile.saved_check
    return doc


def _fingerprints(
    desired: Mapping[str, Sequence[Obj]], touched: set[str]
) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for objs in desired.values():
        for obj in objs:
            if obj.address not in touched:
                continue
            sensitive = get_kind(obj.kind).sensitive
            secrets = {k: str(v) for k, v in obj.fields.items() if k in sensitive}
            if secrets:
                found[obj.address] = secrets
    return found


def write_planfile(path: Path, document: Mapping[str, Any]) -> None:
    """Write atomically: a reader never sees half a plan, a crash leaves the old file."""
    path = Path(path)
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        write_atomic(path, redact(text))  # a secret the platform echoed never lands in it
    except OSError as exc:
        raise PlanError(f"cannot write the plan file {path}: {exc.strerror or exc}") from exc


def is_planfile(path: str | Path) -> bool:
    """Whether `path` is a file saved by `flexctl plan -o` (a `.json` file of that kind)."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        load_planfile(path)
    except PlanError:
        return False
    return True


def load_planfile(path: str | Path) -> SavedPlan:
    """Read a plan file; a clear `PlanError` for a missing, corrupt or foreign file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read the plan file {path}: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path} is not a flexctl plan file (invalid JSON: {exc.msg})") from exc
    if not isinstance(document, dict) or document.get("kind") != FILE_KIND:
        raise PlanError(f"{path} is not a flexctl plan file; make one with `flexctl plan -o`")
    version = str(document.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise PlanError(
            f"{path} has plan format {version or 'unknown'}, this flexctl reads "
            f"{FORMAT_VERSION}; make a new plan with `flexctl plan -o`"
        )
    from jsonschema import Draft202012Validator  # only apply PLANFILE reads a plan file

    problem = next(iter(Draft202012Validator(_SHAPE).iter_errors(document)), None)
    if problem is not None:
        where = ".".join(str(p) for p in problem.absolute_path) or "the document"
        raise PlanError(f"{path} is an incomplete or edited plan file ({where}: {problem.message});"
                        " make a new plan with `flexctl plan -o`")
    return SavedPlan(path=path, document=document)


def binding_mismatch(saved: Mapping[str, str | None], now: Mapping[str, str | None]) -> list[str]:
    """How the target this command resolved differs from the one a plan was made for."""
    words = {"api": "the API", "token_host": "the token host", "org": "the organization"}
    return [
        f"{words[key]} {now.get(key) or '(none)'} differs from the plan's target "
        f"{saved.get(key) or '(none)'}"
        for key in words
        if saved.get(key) != now.get(key)
    ]


def stale_reasons(saved: SavedPlan, fresh: Plan) -> list[str]:
    """Why a saved plan no longer holds, comparing it with a plan made now; empty if it holds."""
    reasons: list[str] = []
    if saved.config_digest != fresh.config_digest:
        reasons.append("the configuration changed since the plan was made")
    if dict(saved.target) != dict(fresh.target):
        reasons.append("the target differs from the plan's target")
    fresh_objects = dict(fresh.object_digests)
    for address, digest in sorted(saved.objects.items()):
        if fresh_objects.get(address, "(untouched)") != digest:
            reasons.append(f"{address} changed on the target since the plan was made")
    fresh_changes = [change.data for change in fresh.changes]
    saved_changes = [{k: c.get(k) for k in _CHANGE_KEYS} for c in saved.changes]
    if fresh_changes != saved_changes and not reasons:
        reasons.append("the changes differ from the saved plan")
    return reasons


# --- applied plan files ----------------------------------------------------------------------


def applied_plans_file(target: Target) -> Path:
    """Where applied plan ids are recorded: next to the sandbox database for local targets,
    else `~/.flexctl/applied-plans` (shared by every remote target; plan ids are random)."""
    if target.sandbox_db is not None:
        return target.sandbox_db.parent / APPLIED_PLANS
    return Path.home() / ".flexctl" / APPLIED_PLANS


def applied_at(registry: Path, plan_id: str) -> str | None:
    """When the plan was applied, if it was."""
    try:
        lines: Sequence[str] = registry.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PlanError(f"cannot read {registry}: {exc.strerror or exc}") from exc
    for line in lines:
        parts = line.split()
        if parts and parts[0] == plan_id:
            return parts[1] if len(parts) > 1 else "at an unknown time"
    return None


def record_applied(registry: Path, plan_id: str, org: str) -> str | None:
    """Record an applied plan; a warning to show when it cannot be recorded."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        registry.parent.mkdir(parents=True, exist_ok=True)
        with registry.open("a", encoding="utf-8") as handle:
            handle.write(f"{plan_id} {when} {org}\n")
    except OSError as exc:
        return f"cannot record the applied plan in {registry}: {exc.strerror or exc}"
    return None
