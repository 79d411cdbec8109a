"""Invoiced-object detection reads only the invoices of the customers a plan depends on, and the
plan comes out exactly as from a read of every invoice: on both profiles, whether or not the
platform takes `company[$in]` on payments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import create_app
from flexctl.kinds.base import Obj, Profile
from flexctl.kinds.configuration import LoadedConfig, load_config
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import open_client, resolve_target
from flexctl.reconcile.render import render_json
from flexctl.session import PlanRun, make_plan
from flexctl.state.desired import desired_state
from flexctl.state.snapshot import read_snapshot
from tests.commands.plan_helpers import ORG, Sandbox, make_sandbox
from tests.state.every_invoice import every_invoice

IN_FACTS = {"filter:payments.company[$in]", "filter:payments.member[$in]"}


class Counting:
    """The client, counting the pages of `payments` and noting their filters."""

    def __init__(self, client: FlexClient) -> None:
        self.client = client
        self.filters: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def list(self, path: str, select: Any = (), filters: Any = None) -> Iterator[dict[str, Any]]:
        if path == "payments":
            self.filters.append(dict(filters or {}))
        return self.client.list(path, select=select, filters=filters)


def _ids(sandbox: Sandbox, loaded: LoadedConfig) -> dict[str, Obj]:
    with sandbox.client() as client:
        snap = read_snapshot(client, desired_state(loaded, SecretResolver.for_config(loaded)),
                             "EUR")
    return {o.address: o for objs in snap.objects.values() for o in objs}


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The example organization with billing history, changed on the platform so that the plan
    updates, ends, deletes and blocks invoiced and uninvoiced memberships of companies and
    members, and prunes a customer with history."""
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    sandbox.seed()
    sandbox.edit("organization.yaml", "prune: [fees]",
                 "prune: [fees, memberships, companies, members]")
    loaded = load_config(sandbox.root)
    live = _ids(sandbox, loaded)
    acme = live["companies.acme.memberships[private-office-4@2026-12-01]"]
    desk = live["companies.lighthouse-labs.memberships[dedicated-desk@2026-12-01]"]
    quay = live["companies.quay-studio.memberships[virtual-office@2026-12-01]"]
    liam = live["members.liam-walsh.memberships[hot-desk@2026-12-01]"]
    sofia = live["members.sofia-rossi.memberships[hot-desk@2026-12-01]"]
    with sandbox.client() as client:
        acme_doc = _doc(client, "memberships", acme)
        location, plan = str(acme_doc["location"]), str(acme_doc["plan"])
        gone = client.create("companies", {"name": "Gone Ltd", "location": location})
        gone_desk = client.create("memberships", {
            "name": "Desk", "startDate": "2026-10-01", "location": location, "plan": plan,
            "company": gone["_id"]})
        extra = client.create("memberships", {
            "name": "Desk", "startDate": "2026-09-01", "location": location, "plan": plan,
            "member": _doc(client, "memberships", liam)["member"], "isPersonal": True})
        spare = client.create("memberships", {
            "name": "Desk", "startDate": "2026-08-01", "location": location, "plan": plan,
            "member": _doc(client, "memberships", sofia)["member"], "isPersonal": True})
        # Jane moved to Tidewater on the platform (a drift the plan updates, no history needed).
        tidewater = client.get("companies", str(live["companies.tidewater"].id))
        client.update("members", str(live["members.jane-doe"].id), {"company": tidewater["_id"]})
        jane = client.get("members", str(live["members.jane-doe"].id))
        janes = client.create("memberships", {
            "name": "Desk", "startDate": "2026-09-01", "location": location, "plan": plan,
            "member": jane["_id"], "isPersonal": True})
        client.update("memberships", str(desk.id), {"startDate": "2026-11-01"})
        client.update("memberships", str(quay.id), {"endDate": "2027-06-30"})
    # Billing history: one invoice per customer, as a bill run makes them.
    sandbox.invoice(memberships=[str(acme.id)])
    sandbox.invoice(memberships=[str(desk.id)])
    sandbox.invoice(memberships=[str(liam.id), extra["_id"]])
    sandbox.invoice(memberships=[gone_desk["_id"]])
    sandbox.invoice(memberships=[str(sofia.id)])  # untouched by the plan: never read
    # A member's membership billed to the member's company, which nothing else asks for.
    sandbox.invoice(memberships=[janes["_id"]], company=str(jane["company"]))
    with sandbox.client() as client:
        client.update("memberships", str(acme.id), {"price": 1900})  # retroactive if uninvoiced
        client.update("memberships", str(liam.id), {"price": 199})
    assert spare["_id"]
    return sandbox


def _doc(client: FlexClient, path: str, obj: Obj) -> dict[str, Any]:
    return client.get(path, str(obj.id))


def _plan(sandbox: Sandbox, profile: str, dialect: str
          ) -> tuple[PlanRun, Counting, dict[str, str]]:
    """The plan, the client that counted its invoice reads, and what the run learned."""
    loaded = load_config(sandbox.root)
    app = create_app(str(sandbox.db), profile=profile, orgs=(ORG,), dialect=dialect)
    target = resolve_target(sandbox.api_url, None, None, ORG, sandbox.root)
    try:
        with open_client(target, app=app, scopes=profile_scopes(Profile(profile))) as raw:
            client = Counting(raw)
            run = make_plan(loaded, client, {"api_url": "emulator", "org": ORG},
                            secrets=SecretResolver.for_config(loaded))
            return run, client, raw.learned.as_dict()
    finally:
        app.store.close()


@pytest.mark.parametrize("profile", ["full", "officernd"])
@pytest.mark.parametrize("variant", ["accept", "reject"])
def test_the_bounded_read_plans_exactly_as_every_invoice(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, profile: str, variant: str
) -> None:
    dialect = f"customer_in={variant}"
    with every_invoice(monkeypatch):
        reference, _, _ = _plan(sandbox, profile, dialect)
    bounded, client, facts = _plan(sandbox, profile, dialect)
    assert render_json(bounded.plan) == render_json(reference.plan)

    changes = {c.address: c for c in bounded.plan.changes}
    # what the invoices decided: each outcome differs from an uninvoiced one's
    assert changes["companies.acme.memberships[private-office-4@2026-12-01]"].money
    lighthouse = [c for a, c in changes.items() if a.startswith("companies.lighthouse-labs.")]
    assert any("ended, not deleted" in c.reason for c in lighthouse), lighthouse
    gone = next(c for a, c in changes.items() if a.startswith("companies.gone-ltd"))
    assert gone.action == "blocked" and "billing history" in gone.reason
    liam = [c for a, c in changes.items() if a.startswith("members.liam-walsh.memberships")]
    assert any("ended, not deleted" in c.reason for c in liam), liam
    sofia = [c for a, c in changes.items() if a.startswith("members.sofia-rossi.memberships")]
    assert [c.action for c in sofia] == ["delete"]  # uninvoiced: deleted
    jane = [c for a, c in changes.items() if a.startswith("members.jane-doe.memberships")]
    assert jane and all("ended, not deleted" in c.reason for c in jane), jane
    # (Sofia's other membership is invoiced: her invoices were read for the one deleted.)

    # only the customers of those changes were asked for, company and member apart
    asked = [f for f in client.filters if f]
    assert len(client.filters) == len(asked)  # never the whole collection
    refs = bounded.snapshot.refs
    customers = {
        "company": {refs.id_of("companies", k) for k in
                    ("acme", "lighthouse-labs", "quay-studio", "gone-ltd", "tidewater")},
        "member": {refs.id_of("members", k) for k in ("liam-walsh", "sofia-rossi", "jane-doe")},
    }
    for field, wanted in customers.items():
        named = {v for f in asked for key, values in f.items() if key.split("[")[0] == field
                 for v in ([values] if isinstance(values, str) else values)}
        assert named == wanted, field  # chen-wei... never; tidewater only as Jane's company
    if variant == "accept":
        assert all(key.endswith("[$in]") for f in asked for key in f)
        assert len(asked) == 2
    else:
        # one refused `[$in]` each (learned once per run), then one query per customer
        assert sum(key.endswith("[$in]") for f in asked for key in f) <= 2
        assert {k for k, v in facts.items() if v == "refused"} <= IN_FACTS
        assert any(v == "refused" for v in facts.values())
