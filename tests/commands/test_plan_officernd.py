"""`flexctl plan` against the `officernd` profile: what the real public API allows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import load_config
from flexctl.platform.scopes import profile_scopes
from flexctl.state.desired import desired_state
from tests.commands.plan_helpers import Sandbox, make_sandbox

CATALOGUE = ("locations", "tax_rates", "revenue_accounts", "plans", "rates")
UNREADABLE = ("gateways", "invoicing", "storefront")


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    # The real platform grants no extension scopes; ask only for what it has.
    monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(profile_scopes(Profile.OFFICERND)))
    return make_sandbox(tmp_path, capsys, monkeypatch, profile="officernd")


def plan(sandbox: Sandbox) -> tuple[int, list[dict[str, object]]]:
    result = sandbox.run("plan", "--format", "json", "--detailed-exitcode")
    assert result.code != 1, result.err
    return result.code, json.loads(result.out)["changes"]


def test_fresh_org_is_created_where_the_api_allows_and_manual_elsewhere(
    sandbox: Sandbox,
) -> None:
    code, changes = plan(sandbox)
    assert code == 2
    desired = desired_state(load_config(sandbox.root), SecretResolver(sandbox.root))
    expected = {obj.address: obj.kind for objs in desired.values() for obj in objs}
    expected.pop("revenue_accounts.deposits")  # built in, declared as it is
    assert {c["address"] for c in changes} == set(expected)
    for change in changes:
        kind = change["kind"]
        if kind in CATALOGUE or kind in UNREADABLE:
            assert change["action"] == "manual", change
            assert isinstance(change["instructions"], str)
            assert change["instructions"].startswith("In the admin portal, ")
        else:
            assert change["action"] == "create", change
        if kind in UNREADABLE:
            assert str(change["reason"]).startswith("unverified:")
    hot_desk = next(c for c in changes if c["address"] == "plans.hot-desk")
    assert hot_desk["instructions"] == (
        "In the admin portal, Billing > Plans: create plan 'Hot Desk' (billing: recurring, "
        "locations: (all), price: 250.00 EUR, prorate: on, revenue account: Membership fees, "
        "type: Hotdesk, visibility members: on, visibility non members: on, "
        "visibility team members: on).")


def test_seeded_org_leaves_only_what_cannot_be_verified(sandbox: Sandbox) -> None:
    sandbox.seed()  # through the full profile: the catalogue exists as configured
    code, changes = plan(sandbox)
    assert code == 2  # manual steps count as changes
    assert sorted((c["address"], c["action"]) for c in changes) == [
        ("gateways.bank-transfer", "manual"), ("gateways.stripe-main", "manual"),
        ("invoicing", "manual"), ("storefront", "manual")]
    text = sandbox.run("plan").out
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 to replace, 4 manual, 0 blocked." in text
    assert "1. In the admin portal, Settings > Integrations > Payment Gateways" in text


def test_price_change_is_a_manual_step_and_membership_change_a_replace(sandbox: Sandbox) -> None:
    sandbox.seed()
    sandbox.edit("services.yaml", "price: 390.00", "price: 410.00")
    sandbox.edit("customers/members.yaml", "- {plan: hot-desk, start: 2026-12-01}",
                 "- {plan: dedicated-desk, start: 2026-12-01}")
    code, changes = plan(sandbox)
    assert code == 2
    got = {c["address"]: c for c in changes if c["kind"] not in UNREADABLE}
    assert {a: c["action"] for a, c in got.items()} == {
        "plans.dedicated-desk": "manual",
        "members.liam-walsh.memberships[dedicated-desk@2026-12-01]": "replace",
    }
    assert got["plans.dedicated-desk"]["instructions"] == (
        "In the admin portal, Billing > Plans: change plan 'Dedicated Desk': price from "
        "390.00 EUR to 410.00 EUR.")
