"""Billing history, read only for the customers whose plan depends on it.

Which objects are invoiced (for memberships: billed on some invoice line, their kind's
`history_source`) is not read with the snapshot: the invoices grow with every month of billing.
The plan is made first as if nothing were invoiced; the changes whose outcome depends on it
(each kind says which, `Kind.history_needed`: every change of a live membership, the removal of
a customer) name the objects and so the customers to look up, and only their invoices are read:
`payments?company[$in]=a,b,...` (and `member[$in]`) for up to 50 customers a request. The
reference documents only `company=` and `member=` for payments, so a 400 to `[$in]` is learned
once per run (said once in the `--debug` log) and the read falls back to one `payments?company=X`
per customer. A query stops paging once every object it was made for is found invoiced; an
object not invoiced needs every page of its customer's invoices, nothing else does. The objects
found are marked `meta["invoiced"]` in the snapshot and the plan is made again, until no change
needs an invoice not read yet (`InvoiceHistory.settle`): the plan is exactly the one a read of
every invoice gives, at a cost that follows the customers the plan touches, not the years of
billing. Commands that plan nothing (`check`, `export`, `cohorts`) read no invoices at all.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from flexctl.errors import ApiError
from flexctl.kinds import get as get_kind
from flexctl.kinds import registry
from flexctl.kinds._owned import OWNER_FIELD, also_billed_to, split_owner
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.refs import RefMap
from flexctl.platform.learned import Learned

BATCH = 50  # values a `[$in]` filter accepts (observed on `_id[$in]`)
INVOICED = "invoiced"


class HistoryClient(Protocol):
    """The part of `FlexClient` the history read uses."""

    @property
    def learned(self) -> Learned: ...

    def list(
        self, path: str, select: Iterable[str] = (), filters: Mapping[str, Any] | None = None
    ) -> Iterable[dict[str, Any]]: ...

    def map_concurrently(
        self, fn: Callable[[Any], Any], items: Iterable[Any]
    ) -> builtins.list[Any]: ...


class ChangeLike(Protocol):
    """The part of `flexctl.reconcile.plan.Change` the history read looks at."""

    @property
    def address(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def replaces(self) -> str | None: ...


def history_needs(
    changes: Iterable[ChangeLike], objects: Mapping[str, Sequence[Obj]]
) -> dict[str, dict[str, set[str]]]:
    """History kind -> customer address -> ids of its live objects whose invoiced state decides
    one of `changes` (`Kind.history_needed`)."""
    kinds = {k.name: k for k in registry()}
    sources = [k.name for k in kinds.values() if k.history_source]
    if not sources:
        return {}
    owned: dict[str, list[Obj]] = {}
    for name in sources:
        for obj in objects.get(name, ()):
            if obj.owner:
                owned.setdefault(obj.owner, []).append(obj)
    live: dict[str, dict[str, Obj]] = {}
    needs: dict[str, dict[str, set[str]]] = {}
    for change in changes:
        kind = kinds.get(change.kind)
        if kind is None:
            continue
        if change.kind not in live:
            live[change.kind] = {o.address: o for o in objects.get(change.kind, ())}
        before = live[change.kind].get(change.replaces or change.address)
        if before is None:
            continue  # a create: no history
        for needed in kind.history_needed(before, change.action, owned):
            if needed.owner and needed.id and kinds[needed.kind].history_source:
                needs.setdefault(needed.kind, {}).setdefault(needed.owner, set()).add(needed.id)
    return needs


class InvoiceHistory:
    """What one plan has read of its customers' invoices, and the objects found invoiced."""

    def __init__(self, client: HistoryClient) -> None:
        self.client = client
        self.found: set[str] = set()  # ids of objects seen on an invoice
        self.complete: set[tuple[str, str]] = set()  # (kind, customer): every invoice read

    def settle(self, changes: Iterable[ChangeLike], objects: dict[str, list[Obj]],
               refs: RefMap) -> bool:
        """Read the invoices `changes` depend on that were not read yet and mark the objects
        they bill in `objects`; True when an object was newly marked (plan again)."""
        marked = False
        for kind_name, customers in history_needs(changes, objects).items():
            kind = get_kind(kind_name)
            todo = {owner: ids for owner, ids in customers.items()
                    if (kind_name, owner) not in self.complete and not ids <= self.found}
            if todo:
                self._read(kind, todo, refs, also_billed_to(objects))
                marked |= _mark(objects, kind_name, self.found)
        return marked

    def _read(self, kind: Kind, todo: Mapping[str, set[str]], refs: RefMap,
              billed_to: Mapping[str, str]) -> None:
        by_field: dict[str, list[tuple[str, str, set[str]]]] = {}
        for owner, ids in sorted(todo.items()):
            owner_kind, key = split_owner(owner)
            platform_id = refs.id_of(owner_kind, key)
            if platform_id is None or owner_kind not in OWNER_FIELD:
                continue  # a customer not on the platform has no invoices
            by_field.setdefault(OWNER_FIELD[owner_kind], []).append((owner, platform_id, ids))
            if owner in billed_to:  # its invoices may be addressed to another customer too
                other_kind, other_key = split_owner(billed_to[owner])
                other_id = refs.id_of(other_kind, other_key)
                if other_id is not None:
                    by_field.setdefault(OWNER_FIELD[other_kind], []).append((owner, other_id, ids))
        batches = [(field, entries[i:i + BATCH]) for field, entries in by_field.items()
                   for i in range(0, len(entries), BATCH)]
        if not batches:
            return
        # The first query alone: where the platform refuses `[$in]`, the rest learn it from it.
        results = [self._search(kind, *batches[0])]
        results += self.client.map_concurrently(lambda b: self._search(kind, *b), batches[1:])
        cut_short: set[str] = set()  # customers with a query that stopped before the end
        for found, complete, asked in results:
            self.found |= found
            cut_short |= asked - complete
        self.complete |= {(kind.name, owner) for owner in todo if owner not in cut_short}

    def _search(self, kind: Kind, field: str, entries: Sequence[tuple[str, str, set[str]]]
                ) -> tuple[set[str], set[str], set[str]]:
        """(ids found invoiced, customers read to the end, customers asked) for one batch."""
        wanted = set().union(*(ids for _, _, ids in entries)) - self.found
        asked = {owner for owner, _, _ in entries}
        found: set[str] = set()
        path = kind.history_source or ""
        for doc in _invoices(self.client, path, kind.history_select, field,
                             [platform_id for _, platform_id, _ in entries]):
            found |= kind.history_ids((doc,))
            if wanted <= found:
                return found, set(), asked  # the rest cannot change what this plan does
        return found, asked, asked


def _invoices(client: HistoryClient, path: str, select: tuple[str, ...], field: str,
              customers: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The documents of `path` whose `field` is one of `customers`: one `[$in]` query where the
    platform accepts it, else one query per customer (learned once per run)."""
    fact = f"filter:{path}.{field}[$in]"
    if len(customers) > 1 and client.learned.get(fact) != "refused":
        pages = iter(client.list(path, select=select, filters={f"{field}[$in]": customers}))
        try:
            first = next(pages, None)
        except ApiError as error:
            if error.status != 400:
                raise
            client.learned.learn(fact, "refused", f"answered {error.status} {error}; one "
                                 f"query per {field} instead")
        else:
            if first is not None:
                yield first
            yield from pages
            return
    for customer in customers:
        yield from client.list(path, select=select, filters={field: customer})


def _mark(objects: dict[str, list[Obj]], kind_name: str, invoiced: set[str]) -> bool:
    """Mark the objects of `kind_name` whose ids are in `invoiced`; True when one was new."""
    marked = False
    live = objects.get(kind_name, [])
    for i, obj in enumerate(live):
        if obj.id in invoiced and not obj.meta.get(INVOICED):
            live[i] = Obj(obj.kind, obj.address, obj.fields, obj.id, obj.owner,
                          {**obj.meta, INVOICED: True})
            marked = True
    return marked
