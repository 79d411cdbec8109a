"""Hand-made kinds and objects for pure tests of the diff, plan and renderers.

The objects are made by hand, without the kinds' API mapping, so these tests pin the engines'
and the kinds' plan rules on their own.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flexctl.kinds import registry
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.refs import RefMap

# The real kinds: their rules (what an invoiced object allows, replaces, preconditions) are
# what these tests pin, on hand-made objects.
KINDS: list[Kind] = list(registry())
BY_NAME = {k.name: k for k in KINDS}
RANKS = {k.name: k.rank for k in KINDS}

_counter = iter(range(1, 1_000_000))


def oid() -> str:
    return f"{next(_counter):024x}"


def obj(address: str, id: str | None = None, owner: str | None = None,
        meta: dict[str, Any] | None = None, **fields: Any) -> Obj:
    kind = address.split(".")[0] if "[" not in address else address.split(".")[2].split("[")[0]
    return Obj(kind=kind, address=address, fields=fields, id=id, owner=owner, meta=meta or {})


def live(address: str, owner: str | None = None, invoiced: bool = False, **fields: Any) -> Obj:
    meta = {"modifiedAt": "2026-11-01T00:00:00.000Z", "invoiced": invoiced}
    return obj(address, id=oid(), owner=owner, meta=meta, **fields)


def d(text: str) -> Decimal:
    return Decimal(text)


TODAY = date(2026, 11, 20)


class FakeSnapshot:
    def __init__(self, objects: dict[str, list[Obj]] | None = None,
                 unreadable: dict[str, str] | None = None,
                 account_status: str | None = "active", currency: str = "EUR") -> None:
        self.objects = objects or {}
        self.unreadable = unreadable or {}
        self.account_status = account_status
        self.currency = currency
        # As the snapshot does: every live object's key resolves to its id.
        self.refs = RefMap()
        for kind, objs in self.objects.items():
            for o in objs:
                if o.id is not None and not o.owner:
                    self.refs.add(kind, o.key, o.id)


def group(*objs: Obj) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = {}
    for o in objs:
        out.setdefault(o.kind, []).append(o)
    return out


def rich_plan_inputs() -> tuple[dict[str, list[Obj]], FakeSnapshot]:
    """One plan with every action, on the officernd profile (catalogue read-only, gateways and
    invoicing unreadable)."""
    acme, jane = "companies.acme", "members.jane"
    # A new membership is created with its plan's price from the config (see memberships.py).
    dedicated = {"create_defaults": {"price": d("400.00")}}
    desired = group(
        obj("locations.downtown", name="Harbor Works Downtown"),
        obj("gateways.stripe-main", provider="stripe", account="acct_1Harbor",
            secret_key="…4242", default=True),
        obj("plans.hot-desk", name="Hot Desk", billing="recurring", price=d("230.00"),
            locations=("downtown",)),
        obj("plans.dedicated-desk", name="Dedicated Desk", billing="recurring",
            price=d("400.00"), locations=("downtown",)),
        obj("plans.printing", name="Printing", billing="one_off", price=d("0.10")),
        obj(acme, name="Acme Ltd", email="billing@acme.example", location="downtown"),
        obj(jane, name="Jane Doe", email="jane@acme.example", company="acme",
            location="downtown", billing_person=True),
        obj(f"{acme}.memberships[dedicated-desk@2026-12-01]", owner=acme, meta=dedicated,
            plan="dedicated-desk", start=date(2026, 12, 1), end=None, price=d("380.00")),
        obj(f"{acme}.memberships[dedicated-desk@2027-01-01]", owner=acme, meta=dedicated,
            plan="dedicated-desk", start=date(2027, 1, 1), end=None),
        obj(f"{jane}.memberships[hot-desk@2027-01-01]", owner=jane, plan="hot-desk",
            meta={"create_defaults": {"price": d("230.00")}}, start=date(2027, 1, 1), end=None),
        obj("invoicing", automatic_bill_run=True, automatic_sending=True),
    )
    desired["fees"] = []  # pruned: managed though none is declared
    current = group(
        live("locations.downtown", name="Harbor Works Downtown"),
        live("plans.hot-desk", name="Hot Desk", billing="recurring", price=d("250.00"),
             locations=("downtown",)),
        live("plans.dedicated-desk", name="Dedicated Desk", billing="recurring",
             price=d("400.00"), locations=("downtown",)),
        live("plans.printing", name="Printing", billing="one_off", price=d("0.10")),
        live(acme, name="Acme Ltd", email="accounts@acme.example", location="downtown"),
        live(f"{acme}.memberships[hot-desk@2026-12-01]", owner=acme, invoiced=True,
             plan="hot-desk", start=date(2026, 12, 1), end=None, price=d("380.00")),
        live(f"{acme}.memberships[hot-desk@2027-01-01]", owner=acme, plan="hot-desk",
             start=date(2027, 1, 1), end=None, price=d("250.00")),
        live(f"{acme}.fees[printing@2026-11-03]", owner=acme, invoiced=True, plan="printing",
             date=date(2026, 11, 3), quantity=120),
        live(f"{acme}.fees[printing@2026-11-10]", owner=acme, plan="printing",
             date=date(2026, 11, 10), quantity=40),
        live("members.bob", name="Bob Stone", email="bob@stone.example", location="downtown"),
        live("members.carol", name="Carol King", email="carol@king.example",
             location="downtown"),
    )
    why = {"gateways": "the OfficeRnD public API does not expose payment gateways",
           "invoicing": "the OfficeRnD public API does not expose the invoicing automation "
                        "settings"}
    return desired, FakeSnapshot(current, why, account_status=None)
