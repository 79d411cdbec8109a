"""`flexctl plan` end to end: examples/harbor-works against the in-process emulator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flexctl import session
from flexctl.cli import main
from flexctl.config.secrets import SecretResolver
from flexctl.kinds.configuration import load_config
from flexctl.state.desired import desired_state
from tests.commands.plan_helpers import Sandbox, make_sandbox, plan_json


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


def actions(data: dict[str, Any]) -> dict[str, str]:
    changes = data["changes"]
    assert isinstance(changes, list)
    return {c["address"]: c["action"] for c in changes}


def declared_addresses(root: Path) -> set[str]:
    desired = desired_state(load_config(root), SecretResolver(root))
    return {obj.address for objs in desired.values() for obj in objs}


def test_fresh_org_plans_every_object_as_create(sandbox: Sandbox) -> None:
    code, data = plan_json(sandbox)
    assert code == 2
    got = actions(data)
    # Singletons always exist (with defaults), and the four built-in revenue accounts are
    # bound by name: those are updates; everything else is created.
    updates = {"invoicing", "storefront", "revenue_accounts.memberships",
               "revenue_accounts.one-off", "revenue_accounts.bookings"}
    expected = {a: "update" if a in updates else "create" for a in declared_addresses(sandbox.root)}
    expected.pop("revenue_accounts.deposits")  # built in, and declared exactly as it is
    assert got == expected
    assert data["summary"]["blocked"] == 0


def test_seeded_org_plans_no_change_and_exits_0(sandbox: Sandbox) -> None:
    sandbox.seed()
    result = sandbox.run("plan", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert "No changes. The live organization matches the configuration." in result.out
    assert sandbox.run("plan").code == 0


def test_price_change_is_one_update(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("services.yaml", "price: 390.00", "price: 410.00")
    code, data = plan_json(sandbox)
    assert code == 2
    assert actions(data) == {"plans.dedicated-desk": "update"}
    change = data["changes"][0]
    assert change["before"] == {"price": "390.00"} and change["after"] == {"price": "410.00"}


def test_rename_with_id_pin_is_an_update_not_delete_and_create(sandbox: Sandbox) -> None:
    sandbox.seed()
    quay = next(c for c in sandbox.live("companies") if c["name"] == "Quay Studio")
    sandbox.edit("customers/companies.yaml", "    name: Quay Studio\n",
                 f"    id: {quay['_id']}\n    name: Quay Studio Ltd\n")
    code, data = plan_json(sandbox)
    assert code == 2
    assert actions(data) == {"companies.quay-studio": "update"}
    assert data["changes"][0]["changed_paths"] == ["name"]


def test_membership_plan_change_is_one_replace(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("customers/members.yaml", "- {plan: hot-desk, start: 2026-12-01}",
                 "- {plan: dedicated-desk, start: 2026-12-01}")
    code, data = plan_json(sandbox)
    assert code == 2
    assert actions(data) == {"members.liam-walsh.memberships[dedicated-desk@2026-12-01]":
                             "replace"}
    change = data["changes"][0]
    assert change["before"] == {"plan": "hot-desk"}
    assert change["after"] == {"plan": "dedicated-desk"}
    assert "deleted" in change["reason"]


def test_pinned_membership_of_another_customer_is_blocked(sandbox: Sandbox) -> None:
    sandbox.seed()
    lighthouse = next(c for c in sandbox.live("companies") if c["name"] == "Lighthouse Labs")
    desk = next(m for m in sandbox.live("memberships")
                if m["company"] == lighthouse["_id"] and m["startDate"].startswith("2026-12-01"))
    sandbox.edit("customers/companies.yaml",
                 "      - plan: virtual-office\n        start: 2026-12-01\n"
                 "        end: 2027-11-30\n",
                 f"      - {{id: {desk['_id']}, plan: dedicated-desk, start: 2026-12-01}}\n")
    code, data = plan_json(sandbox)
    assert code == 3
    address = "companies.quay-studio.memberships[dedicated-desk@2026-12-01]"
    change = next(c for c in data["changes"] if c["address"] == address)
    assert change["action"] == "blocked"
    assert change["before"]["customer"] == "companies.lighthouse-labs"
    assert change["after"]["customer"] == "companies.quay-studio"
    assert "customer cannot be changed in place" in change["reason"]


def test_renamed_plan_keeps_its_unnamed_fees_matched_after_apply(sandbox: Sandbox) -> None:
    # A fee keeps the name it was created with (its plan's name then); renaming the plan must
    # not make every unnamed fee of that plan look new (a duplicate charge) once applied.
    sandbox.seed()
    printing = next(p for p in sandbox.live("plans") if p["name"] == "Printing (per page)")
    sandbox.edit("services.yaml", "    name: Printing (per page)\n",
                 f"    id: {printing['_id']}\n    name: Printing per page\n")
    code, data = plan_json(sandbox)
    assert (code, actions(data)) == (2, {"plans.printing": "update"})
    sandbox.capsys.readouterr()
    assert main(["apply", "--auto-approve", str(sandbox.root), "--api-url",
                 sandbox.api_url]) == 0, sandbox.capsys.readouterr().err
    code, data = plan_json(sandbox)
    assert (code, actions(data)) == (0, {}), data["changes"]


def test_removed_fee_is_deleted_when_pruned(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("customers/members.yaml",
                 "    fees:\n      - {plan: day-pass, date: 2026-12-05, quantity: 3}\n", "")
    code, data = plan_json(sandbox)
    assert code == 2
    assert actions(data) == {"members.chen-wei.fees[day-pass@2026-12-05]": "delete"}


def test_booking_fees_are_never_pruned(sandbox: Sandbox) -> None:
    # A fee on a resource rate is a booking's charge: the config cannot declare one (a fee's
    # plan is a one-off plan), so `prune: [fees]` must leave it alone, never delete it.
    sandbox.seed()
    with sandbox.client() as client:
        rate = next(r for r in client.list("resource-rates") if r["name"] == "Meeting Room")
        acme = next(c for c in client.list("companies") if c["name"] == "Acme Ltd")
        client.create("fees", {"name": "Meeting Room booking", "issueDate": "2026-12-04",
                               "location": acme["location"], "plan": rate["_id"],
                               "price": Decimal("30.00"), "company": acme["_id"]})
    code, data = plan_json(sandbox)
    assert (code, actions(data)) == (0, {})
    assert data["summary"]["unmanaged"] == {"fees": 1}


def test_removed_fee_is_unmanaged_without_prune(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("customers/members.yaml",
                 "    fees:\n      - {plan: day-pass, date: 2026-12-05, quantity: 3}\n", "")
    sandbox.edit("organization.yaml", "prune: [fees]", "prune: []")
    code, data = plan_json(sandbox)
    assert (code, actions(data)) == (0, {})
    assert data["summary"]["unmanaged"] == {"fees": 1}


def test_removed_invoiced_fee_is_blocked(sandbox: Sandbox) -> None:
    sandbox.seed()
    fee = next(f for f in sandbox.live("fees") if f["quantity"] == 3)
    sandbox.invoice(fees=[fee["_id"]])
    sandbox.edit("customers/members.yaml",
                 "    fees:\n      - {plan: day-pass, date: 2026-12-05, quantity: 3}\n", "")
    code, data = plan_json(sandbox)
    assert code == 3
    assert actions(data) == {"members.chen-wei.fees[day-pass@2026-12-05]": "blocked"}


def test_removed_invoiced_membership_is_ended(sandbox: Sandbox,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Ended today: pinned to a day before the membership's own end (2027-11-30), on or after
    # which it already ends by then and the plan is empty.
    monkeypatch.setattr(session, "utc_today", lambda: date(2026, 12, 2))
    sandbox.seed()
    virtual = next(m for m in sandbox.live("memberships") if m.get("endDate"))
    sandbox.invoice(memberships=[virtual["_id"]])
    sandbox.edit("customers/companies.yaml",
                 "    memberships:\n      - plan: virtual-office\n        start: 2026-12-01\n"
                 "        end: 2027-11-30\n", "")
    sandbox.edit("organization.yaml", "prune: [fees]", "prune: [fees, memberships]")
    code, data = plan_json(sandbox)
    assert code == 2
    address = "companies.quay-studio.memberships[virtual-office@2026-12-01]"
    assert actions(data) == {address: "update"}
    change = data["changes"][0]
    assert change["reason"] == "invoiced: ended, not deleted"
    assert change["changed_paths"] == ["end"]


def test_bill_run_while_onboarding_is_blocked(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.set_status("onboarding")
    sandbox.edit("invoicing.yaml", "automatic_bill_run: false", "automatic_bill_run: true")
    code, data = plan_json(sandbox)
    assert code == 3
    assert actions(data) == {"invoicing": "blocked"}
    assert "onboarding" in data["changes"][0]["reason"]
    sandbox.set_status("active")
    code, data = plan_json(sandbox)
    assert (code, actions(data)) == (2, {"invoicing": "update"})


def test_changes_above_the_safety_ratio_are_blocked_unless_forced(sandbox: Sandbox) -> None:
    extra = "".join(
        f"  extra-{i}:\n    name: Extra {i}\n    email: extra{i}@example.org\n"
        "    location: downtown\n" for i in range(6))
    sandbox.edit("customers/members.yaml", "members:\n", "members:\n" + extra)
    sandbox.seed()  # 12 members
    text = (sandbox.root / "customers/members.yaml").read_text()
    sandbox.edit("customers/members.yaml", text, text.replace("    location: downtown\n",
                                                              "    location: riverside\n"))
    code, data = plan_json(sandbox)
    assert code == 3
    got = actions(data)
    assert got["members"] == "blocked"
    assert sum(1 for a in got.values() if a == "update") == 9
    code, data = plan_json(sandbox, "--force")
    assert code == 2
    assert "members" not in actions(data)


def test_drift_made_in_the_emulator(sandbox: Sandbox) -> None:
    sandbox.seed()
    assert sandbox.run("drift").code == 0
    with sandbox.client() as client:
        member = next(m for m in client.list("members") if m["email"] == "omar@acme.example")
        client.update("members", member["_id"], {"name": "Omar H."})
    result = sandbox.run("drift")
    assert result.code == 2
    assert "~   members.omar-haddad" in result.out
    assert 'name: "Omar H." -> "Omar Haddad"' in result.out
    assert "Drift detected: 0 to create, 1 to update" in result.out
    code, data = plan_json(sandbox)
    assert (code, actions(data)) == (2, {"members.omar-haddad": "update"})
