"""A saved plan checked, not re-read: `apply PLANFILE` reads only what the plan touches.

`plan -o` records, beside the digests of the objects its changes touch (`objects`), what a
check needs to rebuild those objects without reading the organization (`check`): the ids of
every object they refer to or a create sends (`refs`: kind -> key -> id; a membership's
customer's location too, see `create_references`), which of those the rules consult and
are read again (`context`: the plans, locations... a change refers to; never the owners, whose
ids suffice), the touched objects the invoices showed as invoiced, and when the plan's read
began by the platform's clock (`read_at`).

`touched_snapshot` then reads the touched and context objects by `_id[$in]` (50 a request),
looks each planned create up by its natural key (nothing may have made it meanwhile), and
reads the invoices changed since the plan's read: one that bills a touched object or a touched
customer means the invoiced state may have moved. The partial snapshot it returns is planned
again by the caller and must give exactly the saved changes and digests; anything else (a
missing object, a twin, a new invoice, another plan) returns None or differs, and the caller
reads the whole organization as before. So the check can only be slower, never more lenient.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from flexctl.config.currency import minor_units
from flexctl.errors import FlexctlError
from flexctl.kinds import get as _kind
from flexctl.kinds import registry
from flexctl.kinds.base import Kind, Obj, Profile
from flexctl.kinds.money import Effect, MoneyEffect
from flexctl.kinds.refs import RefMap
from flexctl.reconcile.money import CustomerMoney, MoneySummary
from flexctl.reconcile.plan import Plan, create_references, is_safety_notice
from flexctl.state.cache import plausible_time
from flexctl.state.incremental import ID_BATCH, MARGIN, iso
from flexctl.state.snapshot import ACCOUNT_PATH, Snapshot, normalize_kind

CUSTOMER_FIELDS = ("company", "member")  # who an invoice bills
ZERO = Decimal(0)


class CheckClient(Protocol):
    """The part of `FlexClient` the check uses."""

    @property
    def profile(self) -> Profile: ...

    def list(
        self, path: str, select: Iterable[str] = (), filters: Mapping[str, Any] | None = None
    ) -> Iterable[dict[str, Any]]: ...

    def find(
        self, path: str, filters: Mapping[str, Any], select: Iterable[str] = ()
    ) -> builtins.list[dict[str, Any]]: ...

    def get_singleton(self, path: str) -> dict[str, Any]: ...


def check_data(plan: Plan, snapshot: Snapshot, desired: Mapping[str, Sequence[Obj]]
               ) -> dict[str, Any]:
    """What a plan file keeps so that apply can check the plan without a full read."""
    live = {obj.address: obj for objs in snapshot.objects.values() for obj in objs}
    wanted = {obj.address: obj for objs in desired.values() for obj in objs}
    refs: dict[str, dict[str, str]] = {}
    context: set[str] = set()
    invoiced: list[str] = []

    def refer(obj: Obj | None, deeper: bool) -> None:
        """Keep the ids `obj` refers to (and, `deeper`, those its context objects refer to:
        their references must read back as keys too)."""
        if obj is None:
            return
        for ref in create_references(obj):
            ref_kind, _, key = ref.partition(".")
            found = snapshot.refs.id_of(ref_kind, key)
            if found is None:
                continue
            refs.setdefault(ref_kind, {})[key] = found
            if deeper and ref != obj.owner and ref not in context:
                context.add(ref)
                refer(live.get(ref), False)
                refer(wanted.get(ref), False)

    for change in plan.changes:
        if is_safety_notice(change):
            continue
        address = change.replaces or change.address
        old = live.get(address)
        if old is not None and old.meta.get("invoiced"):
            invoiced.append(address)
        refer(old, True)
        refer(wanted.get(change.address), True)
    return {"read_at": snapshot.read_at, "refs": refs, "context": sorted(context),
            "invoiced": sorted(set(invoiced))}


def touched_snapshot(
    client: CheckClient,
    document: Mapping[str, Any],
    desired: Mapping[str, Sequence[Obj]],
    currency: str,
    target: Mapping[str, Any],
) -> tuple[Snapshot, dict[str, list[Obj]]] | None:
    """The touched and context objects of a saved plan (`document`), read by id, and the
    desired objects at their addresses; None when the plan cannot be checked this way."""
    check = document.get("check")
    if not isinstance(check, Mapping) or not isinstance(check.get("refs"), Mapping):
        return None
    refs = RefMap()
    for kind_name, keys in check["refs"].items():
        for key, found in keys.items():
            refs.add(kind_name, key, found)
    ids: dict[str, set[str]] = {}
    for change in document["changes"]:
        if change.get("id"):
            ids.setdefault(change["kind"], set()).add(str(change["id"]))
    for address in check.get("context", ()):
        kind_name, _, key = address.partition(".")
        found = refs.id_of(kind_name, key)
        if found is not None:
            ids.setdefault(kind_name, set()).add(found)
    addresses = set(document["objects"]) | set(check.get("context", ()))
    sub = {kind: [o for o in objs if o.address in addresses] for kind, objs in desired.items()}
    if _created_meanwhile(client, document, sub, refs) or _invoiced_meanwhile(client, check, ids):
        return None
    profile = client.profile
    invoiced = set(check.get("invoiced", ()))
    addressed = {str(c["id"]): str(c.get("replaces") or c["address"])
                 for c in document["changes"] if c.get("id")}
    objects: dict[str, list[Obj]] = {}
    unreadable: dict[str, str] = {}
    for kind in registry():
        if not kind.capability(profile).read:
            unreadable[kind.name] = kind.unreadable_reason
            continue
        docs = _read(client, kind, ids.get(kind.name, set()), bool(sub.get(kind.name)))
        if docs is None:
            return None
        flagged = {str(d.get("_id")) for d in docs if addressed.get(str(d.get("_id"))) in invoiced}
        objects[kind.name] = normalize_kind(kind, docs, sub.get(kind.name, ()), refs, currency,
                                            flagged)
    account = client.get_singleton(ACCOUNT_PATH) if profile is Profile.FULL else None
    snapshot = Snapshot(
        target={**target, "profile": profile.value}, currency=currency, objects=objects,
        unreadable=unreadable, refs=refs,
        account_status=str(account["status"]) if account and account.get("status") else None,
    )
    return snapshot, sub


def _read(client: CheckClient, kind: Kind, ids: set[str], declared: bool
          ) -> list[dict[str, Any]] | None:
    """The objects of `kind` with these ids (None: one of them is gone)."""
    path = kind.api_path or kind.name
    if kind.singleton:
        return [client.get_singleton(path)] if declared else []
    wanted = sorted(ids)
    docs: list[dict[str, Any]] = []
    for start in range(0, len(wanted), ID_BATCH):
        batch = wanted[start:start + ID_BATCH]
        docs += client.list(path, select=kind.select, filters={"_id[$in]": batch})
    return docs if len(docs) == len(wanted) else None


def _created_meanwhile(client: CheckClient, document: Mapping[str, Any],
                       sub: Mapping[str, Sequence[Obj]], refs: RefMap) -> bool:
    """Whether an object the plan creates exists already (made since, by someone else)."""
    by_address = {obj.address: obj for objs in sub.values() for obj in objs}
    for change in document["changes"]:
        if change["action"] not in ("create", "replace"):
            continue
        obj = by_address.get(change["address"])
        kind = _kind(change["kind"])
        if obj is None or kind.singleton or change.get("depends_on"):
            continue  # what refers to an object still to be created cannot exist yet
        path = kind.api_path or kind.name
        try:
            found = client.find(path, kind.lookup_filters(obj, refs))
        except FlexctlError:
            return True  # not to be decided here: the full read will tell
        if any(kind.matches(obj, doc, refs) for doc in found
               if str(doc["_id"]) != change.get("id")):
            return True
    return False


def _invoiced_meanwhile(client: CheckClient, check: Mapping[str, Any],
                        ids: Mapping[str, set[str]]) -> bool:
    """Whether an invoice made or changed since the plan's read bills a touched object or a
    touched customer (its invoiced state, and the rules that depend on it, may have moved)."""
    read_at = check.get("read_at")
    sources = {k.history_source: k for k in registry() if k.history_source and k.name in ids}
    if not sources:
        return False
    if not plausible_time(read_at):  # no time a read began at: the full read decides
        return True
    touched = set().union(*ids.values())
    for keys in check["refs"].values():
        touched.update(keys.values())  # the owners: an invoice of a touched customer
    for path, kind in sources.items():
        select = (*kind.history_select, *CUSTOMER_FIELDS)
        for doc in client.list(path, select=select,
                               filters={"modifiedAt[$gt]": iso(read_at - MARGIN)}):
            billed = kind.history_ids([doc]) | {str(doc.get(f)) for f in CUSTOMER_FIELDS}
            if billed & touched:
                return True
    return False




def with_saved_money(plan: Plan, document: Mapping[str, Any]) -> Plan:
    """The checked plan with the money figures of the saved plan it equals: they need the
    whole organization, which the check does not read, and were reviewed with the plan."""
    money = document.get("money")
    if not isinstance(money, Mapping):
        return plan
    digits = minor_units(str(money["currency"]))
    saved = {str(c["address"]): c.get("money") for c in document["changes"]}
    changes = tuple(replace(c, money=_effect(saved.get(c.address))) for c in plan.changes)
    effects = [c.money for c in changes if c.money is not None]
    recurring = money.get("recurring_monthly", {})
    one_off = money.get("one_off", {})
    summary = MoneySummary(
        currency=str(money["currency"]), as_of=date.fromisoformat(money["as_of"]),
        digits=digits,
        recurring_before=_amount(recurring.get("before")) or ZERO,
        recurring_after=_amount(recurring.get("after")) or ZERO,
        one_off_added=_amount(one_off.get("added")) or ZERO,
        one_off_removed=_amount(one_off.get("removed")) or ZERO,
        retroactive=sum((e.retroactive or ZERO for e in effects), ZERO),
        customers=tuple(
            CustomerMoney(str(c["address"]), _amount(c.get("monthly_before")) or ZERO,
                          _amount(c.get("monthly_after")) or ZERO,
                          _amount(c.get("one_off")) or ZERO, ())
            for c in money.get("customers", ())),
        by_plan=(),
        moves_money_now=tuple(c.address for c in changes if c.money and c.money.moves_money),
    )
    return replace(plan, changes=changes, money=summary)


def _effect(data: Any) -> MoneyEffect | None:
    if not isinstance(data, Mapping):
        return None
    return MoneyEffect(effect=Effect(data.get("effect", "none")),
                       monthly_before=_amount(data.get("monthly_before")),
                       monthly_after=_amount(data.get("monthly_after")),
                       one_off=_amount(data.get("one_off")),
                       retroactive=_amount(data.get("retroactive")),
                       note=str(data.get("note") or ""))


def _amount(text: Any) -> Decimal | None:
    return None if text is None else Decimal(str(text))
