"""The keyed diff of desired objects against the live snapshot, with flexctl's domain rules.

Objects are paired by address (the snapshot gives a live object matched by `id:` pin or natural
key the same address as its desired object). Only fields the desired object carries are
compared. The rules of SPEC sections 2-3 then decide the action of each difference: replace for
fields the API cannot update in place, manual where the target cannot write a kind, blocked for
failed preconditions (a replace of an invoiced membership among them), "end" instead of delete
for invoiced memberships, unverified where the target cannot read a kind at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Protocol

from flexctl.kinds.base import Kind, Obj, Profile
from flexctl.reconcile import manual
from flexctl.reconcile.plan import Change

CUSTOMER_KINDS = ("companies", "members")
OWNED_KINDS = frozenset({"memberships", "fees"})
CUSTOMER = "customer"  # the changed path of a membership or fee that belongs to another owner
BILL_RUN_BLOCKED = (
    "the account status is onboarding; the automatic bill run needs Active "
    "— ask OfficeRnD to activate the account"
)


class LiveState(Protocol):
    """What the diff reads from a snapshot (`flexctl.state.snapshot.Snapshot`)."""

    currency: str
    objects: dict[str, list[Obj]]
    unreadable: dict[str, str]
    account_status: str | None


@dataclass
class DiffResult:
    changes: list[Change] = field(default_factory=list)
    unmanaged: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Context:
    profile: Profile
    prune: frozenset[str]
    today: date
    live: LiveState
    describer: manual.Describer
    managed_owners: frozenset[str]
    invoiced_owners: frozenset[str]  # customers with an invoiced membership or fee


def diff(
    desired: Mapping[str, Sequence[Obj]],
    snapshot: LiveState,
    kinds: Sequence[Kind],
    *,
    profile: Profile,
    prune: Collection[str] = (),
    today: date,
) -> DiffResult:
    """Changes turning `snapshot` into `desired` for `kinds` (already filtered), unordered."""
    ctx = _Context(
        profile=profile,
        prune=frozenset(prune),
        today=today,
        live=snapshot,
        describer=manual.Describer(snapshot.currency, desired, snapshot.objects),
        managed_owners=frozenset(
            o.address for k in CUSTOMER_KINDS for o in desired.get(k, ())
        ),
        invoiced_owners=frozenset(
            o.owner
            for k in OWNED_KINDS
            for o in snapshot.objects.get(k, ())
            if o.owner and o.meta.get("invoiced")
        ),
    )
    result = DiffResult()
    for kind in kinds:
        if kind.name not in desired:
            continue  # the config neither declares nor prunes it: not managed at all
        wanted = list(desired[kind.name])
        if kind.name in snapshot.unreadable:
            why = snapshot.unreadable[kind.name]
            result.changes.extend(_unverified(kind, obj, why, ctx) for obj in wanted)
            continue
        _diff_kind(kind, wanted, list(snapshot.objects.get(kind.name, ())), ctx, result)
    return result


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
        change = _compare(kind, obj, current, ctx)
        if change is not None:
            result.changes.append(change)
    declared = {obj.address for obj in wanted}
    extra = [obj for obj in live if obj.address not in declared]
    if kind.name == "memberships":
        pairs, missing, extra = _pair_replaced_memberships(missing, extra)
        result.changes.extend(_replace(kind, new, old, ctx) for new, old in pairs)
    result.changes.extend(_create(kind, obj, ctx) for obj in missing)
    for obj in extra:
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
        changed.insert(0, CUSTOMER)
        before, after = {CUSTOMER: live.owner, **before}, {CUSTOMER: obj.owner, **after}
    if not changed:
        return None
    base = Change(
        address=obj.address, kind=kind.name, action="update", changed_paths=tuple(changed),
        before=before, after=after, id=live.id,
        unchanged_fields=len(obj.fields) - len(fields),
    )
    invoiced = bool(live.meta.get("invoiced"))
    fixed = [f for f in changed if f not in kind.updatable]
    cap = kind.capability(ctx.profile)
    if kind.name == "fees" and invoiced:
        return _blocked(base, "the fee is invoiced; an invoiced fee cannot be changed")
    if kind.name == "memberships" and invoiced and "start" in changed:
        return _blocked(base, "the membership is invoiced; its start date cannot change")
    if _bill_run_blocked(kind, obj, live, ctx):
        return _blocked(base, BILL_RUN_BLOCKED)
    if fixed:
        if kind.name == "memberships" and invoiced and CUSTOMER not in fixed:
            return _invoiced_replace_blocked(base, live, fixed, ctx.today)
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
    steps = manual.update_steps(obj, changed, live, kind.portal, ctx.describer)
    reason = f"{why}; {cannot}" if why else cannot
    return _with(base, action="manual", reason=reason, instructions=steps)


def _create(kind: Kind, obj: Obj, ctx: _Context) -> Change:
    change = Change(
        address=obj.address, kind=kind.name, action="create",
        changed_paths=tuple(sorted(obj.fields)), after=_sorted(obj.fields), id=obj.id,
    )
    if _bill_run_blocked(kind, obj, None, ctx):
        return _blocked(change, BILL_RUN_BLOCKED)
    if not kind.capability(ctx.profile).create:
        return _with(
            change, action="manual",
            reason=f"the {ctx.profile.value} target cannot create {kind.name} through its API",
            instructions=manual.create_steps(obj, kind.portal, ctx.describer),
        )
    if obj.id is not None:
        # A create would get another id, so the pin would never match: every plan would create
        # the object again. The user must fix or remove the pin.
        return _blocked(change, f"the pinned id {obj.id} does not exist on the target; "
                                "fix the `id:` or remove it to create the object")
    return change


def _managed(kind: Kind, live: Obj, ctx: _Context) -> bool:
    """Whether flexctl may remove this undeclared live object (else it is unmanaged)."""
    if kind.name not in ctx.prune or live.meta.get("booking"):
        return False  # not pruned, or a booking's charge, which no config can declare
    # Memberships and fees of a customer the config does not declare are that customer's.
    return kind.name not in OWNED_KINDS or live.owner in ctx.managed_owners


def _remove(kind: Kind, live: Obj, ctx: _Context) -> Change | None:
    """The change removing an undeclared, pruned live object; None when nothing is to do."""
    change = Change(
        address=live.address, kind=kind.name, action="delete", id=live.id,
        changed_paths=tuple(sorted(live.fields)), before=_sorted(live.fields),
        reason=f"not in the configuration; {kind.name} are pruned",
    )
    invoiced = bool(live.meta.get("invoiced"))
    if kind.name == "fees" and invoiced:
        return _blocked(change, "the fee is invoiced; billing history is never deleted")
    if kind.name == "memberships" and invoiced:
        return _end_membership(live, change, ctx.today)
    if kind.name in CUSTOMER_KINDS and live.address in ctx.invoiced_owners:
        return _blocked(change, "the customer has invoiced memberships or fees; "
                        "billing history is never deleted")
    if not kind.capability(ctx.profile).delete:
        return _with(
            change, action="manual",
            reason=f"the {ctx.profile.value} target cannot delete {kind.name} through its API",
            instructions=manual.delete_steps(live, kind.portal),
        )
    return change


def _end_membership(live: Obj, change: Change, today: date) -> Change | None:
    """Removing an invoiced membership ends it (see `end_date`) instead of deleting it."""
    end = end_date(live, today)
    current = live.fields.get("end")
    if isinstance(current, date) and current <= end:
        return None  # it already ends by then
    return _with(
        change, action="update", reason="invoiced: ended, not deleted",
        changed_paths=("end",), before={"end": current}, after={"end": end},
    )


def _pair_replaced_memberships(
    missing: list[Obj], extra: list[Obj]
) -> tuple[list[tuple[Obj, Obj]], list[Obj], list[Obj]]:
    """Pair a declared membership without a live match with an undeclared live one of the same
    customer and start date: the user changed its plan or location (SPEC section 2)."""
    free: dict[tuple[str | None, object], list[Obj]] = {}
    for old in sorted(extra, key=lambda o: o.address):
        free.setdefault((old.owner, old.fields.get("start")), []).append(old)
    pairs: list[tuple[Obj, Obj]] = []
    unpaired: list[Obj] = []
    for new in sorted(missing, key=lambda o: o.address):
        candidates = free.get((new.owner, new.fields.get("start")))
        if candidates:
            pairs.append((new, candidates.pop(0)))
        else:
            unpaired.append(new)
    used = {id(old) for _, old in pairs}
    return pairs, unpaired, [o for o in extra if id(o) not in used]


def _replace(kind: Kind, new: Obj, old: Obj, ctx: _Context) -> Change:
    changed = changed_fields(new, old)
    fixed = [f for f in changed if f not in kind.updatable]
    change = Change(
        address=new.address, kind=kind.name, action="replace",
        reason=f"{', '.join(fixed) or 'the membership'} changed on the line starting "
        f"{new.fields.get('start')}: the old one is deleted, a new one created",
        changed_paths=tuple(changed), before={f: old.fields.get(f) for f in changed},
        after={f: new.fields[f] for f in changed}, id=old.id,
        unchanged_fields=len(new.fields) - len(changed), replaces=old.address,
    )
    if old.meta.get("invoiced"):
        return _invoiced_replace_blocked(change, old, fixed, ctx.today)
    cap = kind.capability(ctx.profile)
    if not (cap.create and cap.delete):
        return _manual_update(kind, new, old, changed, change, "", ctx)
    return change


def _invoiced_replace_blocked(change: Change, old: Obj, fixed: list[str], today: date) -> Change:
    """A replace would create the new membership on the invoiced one's start date, so both
    would bill the same period: the user splits the line instead (a deviation from SPEC
    section 2, which ends the old one; see the README)."""
    end = end_date(old, today)
    was = ", ".join(f"{f} {_plain(old.fields.get(f))}" for f in fixed)
    return _blocked(change, (
        f"the membership starting {old.fields.get('start')} has invoices: replacing it on the "
        "same start date would bill the customer twice for the invoiced period. Keep the old "
        f"line{f' ({was})' if was else ''} with `end: {end}` and declare the new "
        f"{' and '.join(fixed) or 'membership'} as a separate line starting the next day "
        f"(`start: {end + timedelta(days=1)}`)"
    ))


def _plain(value: object) -> str:
    return "(unset)" if value is None else str(value)


def end_date(live: Obj, today: date) -> date:
    """When an invoiced membership that must go ends: today, or its start date if it has not
    started (the platform refuses an end before the start), or earlier if it already ends
    earlier. Its invoices stay as history."""
    start, current = live.fields.get("start"), live.fields.get("end")
    end = max(start, today) if isinstance(start, date) else today
    return min(end, current) if isinstance(current, date) else end  # never extend it


def _bill_run_blocked(kind: Kind, obj: Obj, live: Obj | None, ctx: _Context) -> bool:
    if kind.name != "invoicing" or obj.fields.get("automatic_bill_run") is not True:
        return False
    if live is not None and live.fields.get("automatic_bill_run") is True:
        return False
    return ctx.live.account_status == "onboarding"


def _unverified(kind: Kind, obj: Obj, why: str, ctx: _Context) -> Change:
    steps = manual.verify_steps(obj, kind.portal, why, ctx.describer)
    if kind.name == "invoicing" and obj.fields.get("automatic_bill_run") is True:
        steps += " The automatic bill run can only be enabled once the account status is Active."
    return Change(
        address=obj.address, kind=kind.name, action="manual",
        reason=f"unverified: {why}; flexctl cannot tell whether it matches",
        changed_paths=(), after=_sorted(obj.fields), id=obj.id,
        instructions=steps,
    )


def _sorted(fields: Mapping[str, Any]) -> dict[str, Any]:
    # Field order from the kinds may vary between runs; a plan must not (plan files compare).
    return {name: fields[name] for name in sorted(fields)}


def _blocked(change: Change, reason: str) -> Change:
    return _with(change, action="blocked", reason=reason)


def _with(change: Change, **updates: Any) -> Change:
    return replace(change, **updates)
