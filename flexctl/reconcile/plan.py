"""The plan: ordered `Change`s with their summary, safety rule and digests.

`diff.py` decides *what* differs; this module turns that into a reviewable, deterministic plan:
dependency order (SPEC section 3), the `policy.max_change_ratio` safety rule, the summary line,
and the digests `apply` uses to notice a stale plan. Renderers and the plan file read a `Plan`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from flexctl.config.types import MoneyPolicy
from flexctl.gcpause import gc_paused
from flexctl.kinds import get as get_kind
from flexctl.kinds import registry
from flexctl.kinds.base import Kind, MoneyContext, Obj
from flexctl.kinds.money import NO_EFFECT, MoneyEffect
from flexctl.reconcile.money import (
    MoneyOptions,
    MoneySummary,
    effect_of,
    guard_findings,
    summarize,
)
from flexctl.state.confirmations import Confirmation

Action = Literal["create", "update", "delete", "replace", "manual", "blocked"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "replace", "manual", "blocked")
# Actions `apply` performs through the API (the safety ratio counts all but creates).
API_ACTIONS = frozenset({"create", "update", "delete", "replace"})
SENSITIVE = "(sensitive)"
SAFETY_PREFIX = "safety: "
UNVERIFIED_PREFIX = "unverified: "  # a manual check of what the target cannot read


def sensitive_fields() -> frozenset[str]:
    """Normalized field names that hold a secret's fingerprint: never shown, not even the
    fingerprint (every kind's `sensitive` fields)."""
    return _sensitive(registry())


@cache
def _sensitive(kinds: tuple[Kind, ...]) -> frozenset[str]:
    return frozenset(name for kind in kinds for name in kind.sensitive)


@dataclass(frozen=True)
class Change:
    """One step of a plan, on one address.

    `before`/`after` hold only the fields that change (all desired fields for a create, the
    live fields for a delete). For a `replace`, `id` is the old object's id: apply deletes it,
    then creates the new one.
    """

    address: str
    kind: str
    action: Action
    reason: str = ""
    changed_paths: tuple[str, ...] = ()
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)
    instructions: str | None = None
    id: str | None = None
    depends_on: tuple[str, ...] = ()
    unchanged_fields: int = 0  # compared fields that are equal (folded into a count in text)
    replaces: str | None = None  # replace: address of the old live object (may differ)
    money: MoneyEffect | None = None  # what it does to money (None: not computed)

    @property
    def data(self) -> dict[str, Any]:
        """The change as JSON-ready data (SPEC section 3), secrets masked."""
        return {
            "address": self.address,
            "kind": self.kind,
            "action": self.action,
            "reason": self.reason,
            "changed_paths": list(self.changed_paths),
            "before": masked(self.before),
            "after": masked(self.after),
            "instructions": self.instructions,
        }

    @property
    def extra(self) -> dict[str, Any]:
        """Fields beyond SPEC section 3 that `apply` needs (kept in the plan file)."""
        return {
            "id": self.id,
            "depends_on": list(self.depends_on),
            "replaces": self.replaces,
        }


@dataclass(frozen=True)
class Plan:
    """An ordered changeset for one target, with what is needed to render and check it."""

    target: Mapping[str, Any]  # {"api_url", "org", "profile"}
    config_digest: str
    live_digest: str
    changes: tuple[Change, ...]
    unmanaged: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    object_digests: Mapping[str, str | None] = field(default_factory=dict)
    money: MoneySummary | None = None
    # Objects the target cannot read that `flexctl confirm` recorded as done: not changes.
    confirmed: Mapping[str, Confirmation] = field(default_factory=dict)
    # What the kinds say of their objects as a whole (`Kind.plan_notes`): repricing campaigns.
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def blocked(self) -> bool:
        return any(c.action == "blocked" for c in self.changes)

    def exit_code(self) -> int:
        """Detailed exit code: 0 no changes, 2 changes (manual ones too), 3 anything blocked."""
        if self.blocked:
            return 3
        return 2 if self.changes else 0


# --- JSON-ready values and digests -----------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Engine values -> JSON values: amounts as strings, dates ISO, tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def masked(fields: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready fields with every secret replaced by `(sensitive)`."""
    sensitive = sensitive_fields()
    return {k: SENSITIVE if k in sensitive else jsonable(v) for k, v in fields.items()}


def _json_default(value: Any) -> Any:
    # Called by the C encoder only for values JSON lacks: much faster than walking every value.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, amounts as strings, dates ISO: equal values, equal text."""
    return _CANONICAL.encode(value)


def sha256(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(value).encode()).hexdigest()


def object_digest(obj: Obj) -> str:
    """Digest of a live object as the plan saw it: its fields plus `modifiedAt`."""
    return sha256({"id": obj.id, "fields": obj.fields, "modifiedAt": obj.meta.get("modifiedAt")})


def live_digest(objects: Mapping[str, Sequence[Obj]]) -> str:
    """Digest of the whole live snapshot the plan was made from (independent of read order).

    An object is represented by its address, id and `modifiedAt` (the platform bumps it on
    every real change), or by its fields when it has no `modifiedAt`: encoding every field of
    a 50,000-object organization would cost more than the whole diff.
    """
    records = [
        f"{obj.address}\0{obj.id or ''}\0{obj.meta.get('modifiedAt') or canonical_json(obj.fields)}"
        for objs in objects.values()
        for obj in objs
    ]
    records.sort()
    # One line per record, NUL between its parts (JSON-encoding 200,000 records cost more
    # than the rest of the digest).
    return "sha256:" + hashlib.sha256("\n".join(records).encode()).hexdigest()


# --- building the plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyPolicy:
    max_change_ratio: Decimal = Decimal("0.3")
    min_objects: int = 10  # kinds with fewer live objects are never blocked by the ratio
    force: bool = False
    enabled: bool = True  # off for drift reports, which write nothing


def safety_blocks(
    changes: Iterable[Change], live_counts: Mapping[str, int], policy: SafetyPolicy
) -> tuple[list[Change], list[str]]:
    """Blocked notices for kinds whose API changes exceed the ratio; warnings when forced."""
    if not policy.enabled:
        return [], []
    touched: dict[str, int] = {}
    for change in changes:
        if change.action in ("update", "delete", "replace"):
            touched[change.kind] = touched.get(change.kind, 0) + 1
    blocks: list[Change] = []
    warnings: list[str] = []
    for kind in sorted(touched):
        existing = live_counts.get(kind, 0)
        if existing < policy.min_objects:
            continue
        ratio = Decimal(touched[kind]) / Decimal(existing)
        if ratio <= policy.max_change_ratio:
            continue
        text = (
            f"{touched[kind]} of {existing} existing {kind} ({ratio:.0%}) would be updated, "
            f"replaced or deleted, above policy.max_change_ratio {policy.max_change_ratio}"
        )
        if policy.force:
            warnings.append(f"{text}; allowed by --force")
        else:
            blocks.append(
                Change(address=kind, kind=kind, action="blocked",
                       reason=f"{SAFETY_PREFIX}{text}; review it, then re-run with --force")
            )
    return blocks, warnings


def is_safety_notice(change: Change) -> bool:
    return change.action == "blocked" and change.reason.startswith(SAFETY_PREFIX)


def is_unverified(change: Change) -> bool:
    return change.action == "manual" and change.reason.startswith(UNVERIFIED_PREFIX)


def with_money(
    changes: Sequence[Change],
    desired: Mapping[str, Sequence[Obj]],
    live: Mapping[str, Sequence[Obj]],
    live_by_address: Mapping[str, Obj],
    options: MoneyOptions,
) -> tuple[list[Change], MoneySummary]:
    """Each change with its money effect (asked of its kind), and the plan's money summary.

    The context the kinds consult is made once here; an unverified check changes nothing."""
    kinds = registry()
    removed = {c.replaces or c.address for c in changes if c.action in ("delete", "replace")}
    ctx = MoneyContext(options.currency, options.as_of, kinds=kinds, desired=desired, live=live,
                       removed=removed, live_by_address=live_by_address)
    by_name = {k.name: k for k in kinds}
    objects = ctx.by_address
    priced = [
        replace(c, money=NO_EFFECT if is_unverified(c) else
                effect_of(c, ctx, by_name, live_by_address, objects))
        for c in changes
    ]
    owners = {c.address: obj.owner for c in priced if (obj := objects.get(c.address))}
    managed = {o.address for k in kinds if k.owns for o in desired.get(k.name, ())}
    return priced, summarize(priced, ctx, owners, managed, options.exceptions)


def money_blocks(
    summary: MoneySummary, guards: MoneyPolicy, policy: SafetyPolicy
) -> tuple[list[Change], list[str]]:
    """Blocked notices for the money guards a plan exceeds (`policy.money`); warnings when
    forced. Like the safety ratio, they guard writes: a drift report skips them."""
    if not policy.enabled:
        return [], []
    blocks: list[Change] = []
    warnings: list[str] = []
    for guard, text in guard_findings(summary, guards):
        if policy.force:
            warnings.append(f"{text}; allowed by --force")
        else:
            blocks.append(Change(address=f"policy.money.{guard}", kind="policy",
                                 action="blocked", money=NO_EFFECT,
                                 reason=f"{SAFETY_PREFIX}{text}; review it, then re-run "
                                        "with --force"))
    return blocks, warnings


def order(changes: Iterable[Change], ranks: Mapping[str, int]) -> tuple[Change, ...]:
    """Dependency order: by kind rank then address; deletes last, in reverse rank order."""

    def key(change: Change) -> tuple[int, int, str]:
        rank = ranks.get(change.kind, len(ranks))
        if change.action == "delete":
            return (1, -rank, change.address)
        return (0, rank, change.address)

    return tuple(sorted(changes, key=key))


def with_dependencies(
    changes: Sequence[Change], desired: Mapping[str, Sequence[Obj]]
) -> list[Change]:
    """Fill `depends_on`: the addresses an object references that this plan also creates."""
    # Objects that do not exist on the target yet (a manual or blocked create has no live id).
    pending = {
        c.address
        for c in changes
        if c.action in ("create", "replace") or (c.action in ("manual", "blocked") and not c.id)
    }
    written = {c.address for c in changes if c.action in ("create", "update", "replace")}
    addresses = {c.address for c in changes}
    objs = {obj.address: obj for objs in desired.values() for obj in objs
            if obj.address in addresses}
    result = []
    for change in changes:
        obj = objs.get(change.address)
        if obj is None or change.action == "delete":
            result.append(change)
            continue
        needs = {a for a in references(obj) if a in pending and a != change.address}
        needs |= {a for a in get_kind(obj.kind).comes_after(obj)
                  if a in written and a != change.address}
        result.append(replace(change, depends_on=tuple(sorted(needs))) if needs else change)
    return result


def references(obj: Obj) -> set[str]:
    """Addresses an object refers to: its owner and every reference field's target."""
    return get_kind(obj.kind).referenced(obj)


def create_references(obj: Obj) -> set[str]:
    """Addresses a create of `obj` sends as ids: its references, and those of the values it is
    created with where the configuration says nothing (`meta["create_defaults"]`: a
    membership's location is its customer's)."""
    defaults = obj.meta.get("create_defaults") or {}
    implied = {name: value for name, value in defaults.items()
               if value is not None and obj.fields.get(name) is None}
    found = references(obj)
    if implied:
        found |= references(Obj(obj.kind, obj.address, implied))
    return found


@gc_paused()  # the digests' records and the priced changes are many and acyclic
def build_plan(
    changes: Sequence[Change],
    *,
    unmanaged: Mapping[str, int],
    desired: Mapping[str, Sequence[Obj]],
    live: Mapping[str, Sequence[Obj]],
    ranks: Mapping[str, int],
    safety: SafetyPolicy,
    target: Mapping[str, Any],
    config_digest: str,
    warnings: Sequence[str] = (),
    money: MoneyOptions | None = None,
    confirmed: Mapping[str, Confirmation] | None = None,
    notes: Sequence[str] = (),
) -> Plan:
    """Order the diff's changes, apply the safety rule and digest what the plan touches;
    with `money`, attach each change's money effect, sum it up and apply the money guards."""
    live_counts = {kind: len(objs) for kind, objs in live.items()}
    summary = None
    by_address: Mapping[str, Obj] | None = None
    if money is not None:  # the money needs every live object by address; the digests few
        by_address = {obj.address: obj for objs in live.values() for obj in objs}
        changes, summary = with_money(changes, desired, live, by_address, money)
    blocks, forced = safety_blocks(changes, live_counts, safety)
    if summary is not None and money is not None:
        guarded, forced_money = money_blocks(summary, money.guards, safety)
        blocks, forced = [*blocks, *guarded], [*forced, *forced_money]
    ordered = order(with_dependencies([*changes, *blocks], desired), ranks)
    if by_address is None:
        touched = {change.replaces or change.address for change in ordered}
        by_address = {obj.address: obj for objs in live.values() for obj in objs
                      if obj.address in touched}
    digests: dict[str, str | None] = {}
    for change in ordered:
        if is_safety_notice(change):
            continue  # about a whole kind, not an object
        old = by_address.get(change.replaces or change.address)
        digests[change.replaces or change.address] = object_digest(old) if old else None
    return Plan(
        target=dict(target),
        config_digest=config_digest,
        live_digest=live_digest(live),
        changes=ordered,
        unmanaged=dict(sorted(unmanaged.items())),
        warnings=(*warnings, *forced),
        object_digests=digests,
        money=summary,
        confirmed=dict(sorted((confirmed or {}).items())),
        notes=tuple(notes),
    )
