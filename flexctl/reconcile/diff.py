"""The keyed diff of desired objects against the live snapshot.

Objects are paired by address (the snapshot gives a live object matched by `id:` pin or natural
key the same address as its desired object). Only fields the desired object carries are
compared. The action of each difference follows generic rules — replace for fields the API
cannot update in place, manual where the target cannot write a kind, blocked for a pinned
object that would need a replace, unverified where the target cannot read a kind at all (unless
a person confirmed that very configuration with `flexctl confirm`: then it is done), blocked
for a change that refers to an object of a kind left out of the run that is not live either —
and each kind's own rules (`Kind.refuse_change`, `pair_replacements`, `removal`, ...): what a
change to an invoiced object becomes, which live objects pair as a replace, preconditions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol

from flexctl.gcpause import gc_paused
from flexctl.kinds import registry
from flexctl.kinds.base import ACTIVATE_ON_PLATFORM, OWNER, Kind, Obj, Profile, RuleContext
from flexctl.kinds.refs import RefMap
from flexctl.reconcile import manual
from flexctl.reconcile.plan import (
    UNVERIFIED_PREFIX,
    Change,
    create_references,
    references,
)
from flexctl.state.confirmations import Confirmation, Confirmations

_WRITES = frozenset({"create", "update", "replace"})  # the changes that send references


class LiveState(Protocol):
    """What the diff reads from a snapshot (`flexctl.state.snapshot.Snapshot`)."""

    currency: str
    objects: dict[str, list[Obj]]
    unreadable: dict[str, str]
    refs: RefMap  # the ids of the live objects, by kind and key (what apply sends)
    account_status: str | None


@dataclass
class DiffResult:
    changes: list[Change] = field(default_factory=list)
    unmanaged: dict[str, int] = field(default_factory=dict)
    # Objects the target cannot read that a person confirmed as configured: done, not planned.
    confirmed: dict[str, Confirmation] = field(default_factory=dict)


@dataclass(frozen=True)
class _Context:
    rules: RuleContext
    prune: frozenset[str]
    describer: manual.Describer
    managed_owners: frozenset[str]  # owners (customers) the config declares

    @property
    def profile(self) -> Profile:
        return self.rules.profile


@gc_paused()  # tens of thousands of acyclic changes and indexes: no collector scans
def diff(
    desired: Mapping[str, Sequence[Obj]],
    snapshot: LiveState,
    kinds: Sequence[Kind],
    *,
    profile: Profile,
    prune: Collection[str] = (),
    today: date,
    as_of: date | None = None,
    activation: str = ACTIVATE_ON_PLATFORM,
    confirmations: Confirmations | None = None,
    lock: tuple[date, str] | None = None,
) -> DiffResult:
    """Changes turning `snapshot` into `desired` for `kinds` (already filtered), unordered.

    `activation` tells the kinds' rules how the account becomes Active on this target;
    `confirmations` are manual steps a person confirmed (`flexctl confirm`): an object the
    target cannot read whose confirmation holds is done."""
    owner_kinds = {k.name for k in registry() if k.owns}
    ctx = _Context(
        rules=RuleContext(
            profile=profile,
            today=today,
            as_of=as_of,
            account_status=snapshot.account_status,
            activation=activation,
            owners_with_history=frozenset(
                o.owner
                for k in registry() if k.owned
                for o in snapshot.objects.get(k.name, ())
                if o.owner and o.meta.get("invoiced")
            ),
        ),
        prune=frozenset(prune),
        describer=manual.Describer(snapshot.currency, desired, snapshot.objects),
        managed_owners=frozenset(o.address for k in owner_kinds for o in desired.get(k, ())),
    )
    result = DiffResult()
    for kind in kinds:
        if kind.name not in desired:
            continue  # the config neither declares nor prunes it: not managed at all
        wanted = list(desired[kind.name])
        if kind.name in snapshot.unreadable:
            why = snapshot.unreadable[kind.name]
            for obj in wanted:
                held = confirmations.holding(kind, obj) if confirmations else None
                if held is not None:
                    result.confirmed[obj.address] = held
                    continue
                lapsed = confirmations.lapsed(kind, obj) if confirmations else None
                result.changes.append(_unverified(kind, obj, why, ctx, lapsed))
            continue
        _diff_kind(kind, wanted, list(snapshot.objects.get(kind.name, ())), ctx, result)
    result.changes = _overlapping(result.changes, desired, snapshot.objects)
    result.changes = _unresolved(result.changes, desired, {k.name for k in kinds},
                                 snapshot.refs)
    if lock is not None:
        result.changes = _closed(result.changes, desired, snapshot.objects, *lock)
    return result


def _overlapping(
    changes: list[Change], desired: Mapping[str, Sequence[Obj]], live: Mapping[str, Sequence[Obj]]
) -> list[Change]:
    """The changes with those blocked that would make an owned object clash with a live one of
    the same owner the configuration does not declare and the plan leaves in place, as each
    kind's `overlap_reason` tells (a customer billed twice for the same days)."""
    kinds = {k.name: k for k in registry()}
    wanted = {o.address: o for objs in desired.values() for o in objs}
    looked_up = {c.replaces or c.address for c in changes}
    found = {o.address: o for objs in live.values() for o in objs if o.address in looked_up}
    gone = {c.replaces or c.address for c in changes if c.action in ("delete", "replace")}
    updated = {c.address: c for c in changes if c.action == "update"}
    # What each change that may clash leaves: only its kind's objects of its owner can clash.
    afters: dict[int, Obj] = {}
    owners: dict[str, set[str]] = {}  # kind -> owners of those changes
    for number, change in enumerate(changes):
        if change.action not in ("create", "update", "replace") or change.kind not in kinds \
                or change.address not in wanted:
            continue
        after = _outcome(change, wanted, found)[1]
        if after is not None and after.owner is not None:
            afters[number] = after
            owners.setdefault(change.kind, set()).add(after.owner)
    staying: dict[tuple[str, str | None], list[Obj]] = {}
    for kind_name, objs in live.items():
        of_kind = owners.get(kind_name)
        if not of_kind:
            continue
        for obj in objs:
            if obj.owner not in of_kind or obj.address in wanted or obj.address in gone:
                continue
            update = updated.get(obj.address)
            left = _outcome(update, wanted, found)[1] if update is not None else obj
            staying.setdefault((kind_name, obj.owner), []).append(left or obj)
    if not staying:
        return changes
    out = []
    for number, change in enumerate(changes):
        after = afters.get(number)
        if after is None:
            out.append(change)
            continue
        others = staying.get((change.kind, after.owner), [])
        reason = kinds[change.kind].overlap_reason(change.action, after, change.changed_paths,
                                                   others) if others else None
        out.append(_blocked(change, reason) if reason else change)
    return out


def _unresolved(
    changes: list[Change], desired: Mapping[str, Sequence[Obj]], planned: Collection[str],
    refs: RefMap,
) -> list[Change]:
    """The changes with those blocked that would send a reference apply cannot turn into an
    id: to an object that is not on the target (`refs` has no id for it) and that the plan
    does not create, its kind being left out of the run (not in `planned`: --target-kinds or
    --exclude-kinds). Apply would fail on them after writing the rest. (An object of a kind
    planned is live or created by the plan: validation holds references to declared objects.)
    A create or replace sends every reference (`create_references`); an update those of the
    fields it changes."""
    looked_up = {c.address for c in changes if c.action in _WRITES}
    wanted = {o.address: o for objs in desired.values() for o in objs if o.address in looked_up}
    out = []
    for change in changes:
        obj = wanted.get(change.address) if change.action in _WRITES else None
        if obj is None:  # not written, or an update of what the config does not declare
            out.append(change)
            continue
        if change.action == "update":
            changed = {name: obj.fields[name] for name in change.changed_paths
                       if name in obj.fields}
            sent = references(Obj(obj.kind, obj.address, changed))
        else:
            sent = create_references(obj)
        missing = sorted(ref for ref in sent if _left_out(ref, planned, refs))
        out.append(_blocked(change, _unresolved_reason(missing)) if missing else change)
    return out


def _left_out(ref: str, planned: Collection[str], refs: RefMap) -> bool:
    """Whether the address `ref` names an object of a kind not planned that is not live."""
    kind, _, key = ref.partition(".")
    return kind not in planned and refs.id_of(kind, key) is None


def _unresolved_reason(missing: Sequence[str]) -> str:
    one = len(missing) == 1
    listed = missing[0] if one else f"{', '.join(missing[:-1])} and {missing[-1]}"
    left_out = ", ".join(sorted({ref.partition(".")[0] for ref in missing}))
    return (f"{listed} {'is' if one else 'are'} not on the target and this plan does not "
            f"create {'it' if one else 'them'} ({left_out} left out by --target-kinds/"
            f"--exclude-kinds): add {left_out} to the kinds planned, or apply without "
            "--target-kinds/--exclude-kinds first")


def _outcome(
    change: Change, wanted: Mapping[str, Obj], found: Mapping[str, Obj],
    action: str | None = None,
) -> tuple[Obj | None, Obj | None]:
    """(before, after) of a change: the live object it changes (None for a create) and the
    object it leaves (the desired one for a create or replace, the live one with the change's
    fields for an update; None for a delete). `action`: the change's, unless given."""
    action = action or change.action
    before = found.get(change.replaces or change.address) if action != "create" else None
    after = wanted.get(change.address) if action in ("create", "replace") else None
    if action == "update" and before is not None:
        after = replace(before, fields={**before.fields, **change.after})
    return before, after


def _intended(change: Change, wanted: Mapping[str, Obj], found: Mapping[str, Obj]) -> str:
    """What a change would do were it not blocked (or made by hand): create, update, delete or
    replace, from where its objects are."""
    if change.replaces is not None:
        return "replace"
    if change.address not in found:
        return "create"
    return "update" if change.address in wanted else "delete"


def _closed(
    changes: list[Change],
    desired: Mapping[str, Sequence[Obj]],
    live: Mapping[str, Sequence[Obj]],
    lock: date,
    source: str,
) -> list[Change]:
    """The changes with those that touch a closed billing period (up to and including `lock`,
    from `source`) blocked, as each kind's `closed_reason` tells. A change already blocked for
    another reason gets this one too: whoever lifts the first must know of the second."""
    kinds = {k.name: k for k in registry()}
    wanted = {o.address: o for objs in desired.values() for o in objs}
    found = {o.address: o for objs in live.values() for o in objs}
    out = []
    for change in changes:
        kind = kinds.get(change.kind)
        action = (_intended(change, wanted, found) if change.action == "blocked"
                  else change.action)
        if kind is None or action not in ("create", "update", "delete", "replace"):
            out.append(change)
            continue
        before, after = _outcome(change, wanted, found, action)
        reason = kind.closed_reason(action, before, after, change.changed_paths, lock)
        if reason:
            closed = (f"inside the closed billing period (up to and including {lock}, "
                      f"{source}): {reason}")
            change = _blocked(change, f"{change.reason}; and {closed}"
                              if change.action == "blocked" else closed)
        out.append(change)
    return out


def _diff_kind(
    kind: Kind, wanted: list[Obj], live: list[Obj], ctx: _Context, result: DiffResult
) -> None:
    by_address = {obj.address: obj for obj in live}
    missing: list[Obj] = []
    for obj in wanted:
        current = by_address.get(obj.address)
        if current is None:
            missing.append(obj)
            continue
        # A create of flexctl's that was interrupted may have left a field for the plan to set.
        obj = kind.unfinished(obj, current)
        if obj.owner == current.owner and obj.fields.items() <= current.fields.items():
            # Every field the desired object carries is live with an equal value: the common
            # case, decided in C (a field set on neither side, None and missing, goes on).
            continue
        change = _compare(kind, obj, current, ctx)
        if change is not None:
            result.changes.append(change)
    declared = {obj.address for obj in wanted}
    extra = [obj for obj in live if obj.address not in declared]
    twins = [obj for obj in extra if obj.meta.get("duplicate_of")]
    result.changes.extend(_duplicate(kind, obj, by_address, ctx) for obj in twins)
    extra = [obj for obj in extra if not obj.meta.get("duplicate_of")]
    pairing = kind.pair_replacements(missing, extra)
    result.changes.extend(_replace(kind, new, old, ctx) for new, old in pairing.pairs)
    result.changes.extend(_create(kind, obj, ctx) for obj in pairing.missing)
    for obj in pairing.extra:
        if not _managed(kind, obj, ctx):
            result.unmanaged[kind.name] = result.unmanaged.get(kind.name, 0) + 1
            continue
        change = _remove(kind, obj, ctx)
        if change is not None:
            result.changes.append(change)


def changed_fields(obj: Obj, live: Obj) -> list[str]:
    """Fields of the desired object whose live value differs (omitted fields are unmanaged)."""
    return [name for name in sorted(obj.fields) if live.fields.get(name) != obj.fields[name]]


def _compare(kind: Kind, obj: Obj, live: Obj, ctx: _Context) -> Change | None:
    fields = changed_fields(obj, live)
    before: dict[str, Any] = {f: live.fields.get(f) for f in fields}
    after: dict[str, Any] = {f: obj.fields[f] for f in fields}
    changed = list(fields)
    if obj.owner != live.owner:
        # Only an `id:` pin pairs a membership or fee with another customer's (the natural key
        # holds the customer); the API cannot move one, so it counts as a fixed field.
        changed.insert(0, OWNER)
        before, after = {OWNER: live.owner, **before}, {OWNER: obj.owner, **after}
    if not changed:
        return None
    base = Change(
        address=obj.address, kind=kind.name, action="update", changed_paths=tuple(changed),
        before=before, after=after, id=live.id, reason=kind.change_note(obj),
        unchanged_fields=len(obj.fields) - len(fields),
    )
    fixed = [f for f in changed if f not in kind.updatable]
    refused = kind.refuse_change(obj, live, changed, fixed, ctx.rules)
    if refused:
        return _blocked(base, refused)
    cap = kind.capability(ctx.profile)
    if fixed:
        reason = f"{', '.join(fixed)} cannot be changed in place"
        if obj.id is not None:
            # The pin names the old object: after a replace it would match the old one again.
            return _blocked(base, f"{reason} and the object is pinned by `id:`; remove the pin "
                                  "to replace it (the old one is deleted, a new one created)")
        if not (cap.create and cap.delete):
            return _manual_update(kind, obj, live, changed, base, reason, ctx)
        return _with(base, action="replace", replaces=live.address,
                     reason=f"{reason}: the old one is deleted, a new one created")
    if not cap.update:
        return _manual_update(kind, obj, live, changed, base, "", ctx)
    return base


def _manual_update(
    kind: Kind, obj: Obj, live: Obj, changed: list[str], base: Change, why: str, ctx: _Context
) -> Change:
    cannot = f"the {ctx.profile.value} target cannot update {kind.name} through its API"
    steps = manual.update_steps(kind, obj, changed, live, ctx.describer)
    reason = f"{why}; {cannot}" if why else cannot
    return _with(base, action="manual", reason=reason, instructions=steps)


def _create(kind: Kind, obj: Obj, ctx: _Context) -> Change:
    change = Change(
        address=obj.address, kind=kind.name, action="create",
        changed_paths=tuple(sorted(obj.fields)), after=_sorted(obj.fields), id=obj.id,
        reason=kind.change_note(obj),
    )
    refused = kind.refuse_change(obj, None, sorted(obj.fields), (), ctx.rules)
    if refused:
        return _blocked(change, refused)
    if not kind.capability(ctx.profile).create:
        return _with(
            change, action="manual",
            reason=f"the {ctx.profile.value} target cannot create {kind.name} through its API",
            instructions=manual.create_steps(kind, obj, ctx.describer),
        )
    if obj.id is not None:
        # A create would get another id, so the pin would never match: every plan would create
        # the object again. The user must fix or remove the pin.
        return _blocked(change, f"the pinned id {obj.id} does not exist on the target; "
                                "fix the `id:` or remove it to create the object")
    return change


def _managed(kind: Kind, live: Obj, ctx: _Context) -> bool:
    """Whether flexctl may remove this undeclared live object (else it is unmanaged)."""
    if kind.name not in ctx.prune or not kind.may_prune(live):
        return False
    # Memberships and fees of a customer the config does not declare are that customer's.
    return not kind.owned or live.owner in ctx.managed_owners


def _remove(kind: Kind, live: Obj, ctx: _Context) -> Change | None:
    """The change removing an undeclared, pruned live object; None when nothing is to do."""
    change = Change(
        address=live.address, kind=kind.name, action="delete", id=live.id,
        changed_paths=tuple(sorted(live.fields)), before=_sorted(live.fields),
        reason=f"not in the configuration; {kind.name} are pruned",
    )
    removal = kind.removal(live, ctx.rules)
    if removal.action == "none":
        return None
    if removal.action == "blocked":
        return _blocked(change, removal.reason)
    if removal.action == "update":
        return _with(change, action="update", reason=removal.reason,
                     changed_paths=tuple(removal.after), before=dict(removal.before),
                     after=dict(removal.after))
    if not kind.capability(ctx.profile).delete:
        return _with(
            change, action="manual",
            reason=f"the {ctx.profile.value} target cannot delete {kind.name} through its API",
            instructions=manual.delete_steps(kind, live),
        )
    return change


def _replace(kind: Kind, new: Obj, old: Obj, ctx: _Context) -> Change:
    changed = changed_fields(new, old)
    fixed = [f for f in changed if f not in kind.updatable]
    change = Change(
        address=new.address, kind=kind.name, action="replace",
        reason=kind.replace_reason(new, old, fixed),
        changed_paths=tuple(changed), before={f: old.fields.get(f) for f in changed},
        after={f: new.fields[f] for f in changed}, id=old.id,
        unchanged_fields=len(new.fields) - len(changed), replaces=old.address,
    )
    refused = kind.refuse_replace(new, old, fixed, ctx.rules)
    if refused:
        return _blocked(change, refused)
    cap = kind.capability(ctx.profile)
    if not (cap.create and cap.delete):
        return _manual_update(kind, new, old, changed, change, "", ctx)
    return change


def _duplicate(kind: Kind, live: Obj, by_address: Mapping[str, Obj], ctx: _Context) -> Change:
    """A second live object with a declared object's natural key: billing it twice would look
    in sync, so the plan blocks until one goes or the right one is pinned."""
    of = str(live.meta["duplicate_of"])
    twin = by_address.get(of)
    where = f" (in the admin portal, {kind.portal})" if kind.portal else ""
    reason = (
        f"a duplicate of {of}: the live {kind.plural} {twin.id if twin else '?'} and {live.id} "
        f"both match it by its {kind.identity_words}; remove the extra one{where}, or pin the "
        "one to keep with `id:`"
    )
    return Change(
        address=live.address, kind=kind.name, action="blocked", reason=reason, id=live.id,
        changed_paths=tuple(sorted(live.fields)), before=_sorted(live.fields),
    )


def _unverified(
    kind: Kind, obj: Obj, why: str, ctx: _Context, lapsed: Confirmation | None = None
) -> Change:
    steps = manual.verify_steps(kind, obj, why, ctx.describer)
    note = kind.verify_note(obj)
    again = (f" ({lapsed.describe()}, for an earlier configuration: it changed since)"
             if lapsed else "")
    return Change(
        address=obj.address, kind=kind.name, action="manual",
        reason=f"{UNVERIFIED_PREFIX}{why}; flexctl cannot tell whether it matches{again}",
        changed_paths=(), after=_sorted(obj.fields), id=obj.id,
        instructions=f"{steps} {note}" if note else steps,
    )


def _sorted(fields: Mapping[str, Any]) -> dict[str, Any]:
    # Field order from the kinds may vary between runs; a plan must not (plan files compare).
    return {name: fields[name] for name in sorted(fields)}


def _blocked(change: Change, reason: str) -> Change:
    return _with(change, action="blocked", reason=reason)


def _with(change: Change, **updates: Any) -> Change:
    return replace(change, **updates)
