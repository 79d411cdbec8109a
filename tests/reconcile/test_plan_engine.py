"""Ordering, dependencies, the safety ratio, digests and exit codes of a plan."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from flexctl.kinds.base import Obj, Profile
from flexctl.reconcile.diff import diff
from flexctl.reconcile.plan import (
    Change,
    Plan,
    SafetyPolicy,
    build_plan,
    canonical_json,
    create_references,
    live_digest,
    object_digest,
)
from tests.reconcile.reconcile_fakes import (
    KINDS,
    RANKS,
    TODAY,
    FakeSnapshot,
    d,
    group,
    live,
    obj,
    rich_plan_inputs,
)

TARGET = {"api_url": "local:/tmp/sandbox.db", "org": "harbor-works", "profile": "officernd"}


def make(desired: dict[str, list[Obj]], snapshot: FakeSnapshot, *,
         profile: Profile = Profile.FULL, prune: tuple[str, ...] = (),
         safety: SafetyPolicy | None = None) -> Plan:
    desired = {**{kind: [] for kind in prune}, **desired}  # as desired_state does
    result = diff(desired, snapshot, KINDS, profile=profile, prune=prune, today=TODAY)
    return build_plan(result.changes, unmanaged=result.unmanaged, desired=desired,
                      live=snapshot.objects, ranks=RANKS, safety=safety or SafetyPolicy(),
                      target=TARGET, config_digest="sha256:config")


def rich() -> Plan:
    desired, snapshot = rich_plan_inputs()
    return make(desired, snapshot, profile=Profile.OFFICERND, prune=("fees",))


def test_rich_plan_has_every_action_in_dependency_order() -> None:
    plan = rich()
    assert [(c.action, c.address) for c in plan.changes] == [
        ("manual", "gateways.stripe-main"),
        ("manual", "plans.hot-desk"),
        ("update", "companies.acme"),
        ("create", "members.jane"),
        ("blocked", "companies.acme.memberships[dedicated-desk@2026-12-01]"),  # invoiced
        ("replace", "companies.acme.memberships[dedicated-desk@2027-01-01]"),
        ("create", "members.jane.memberships[hot-desk@2027-01-01]"),
        ("blocked", "companies.acme.fees[printing@2026-11-03]"),
        ("manual", "invoicing"),
        ("delete", "companies.acme.fees[printing@2026-11-10]"),
    ]
    assert plan.summary == {"create": 2, "update": 1, "delete": 1, "replace": 1, "manual": 3,
                            "blocked": 2}
    assert plan.unmanaged == {"members": 2}
    assert plan.exit_code() == 3


def test_depends_on_names_objects_created_in_the_same_plan() -> None:
    by_address = {c.address: c for c in rich().changes}
    # The plan exists (its price change is manual), the member is created in this plan.
    assert by_address["members.jane.memberships[hot-desk@2027-01-01]"].depends_on == (
        "members.jane",)
    assert by_address["members.jane"].depends_on == ()


def test_a_create_sends_the_references_of_its_defaults_where_the_config_says_nothing() -> None:
    defaults = {"create_defaults": {"name": "Hot Desk", "price": d("250.00"),
                                    "location": "riverside"}}
    line = obj("members.jane.memberships[hot-desk@2027-01-01]", owner="members.jane",
               meta=defaults, plan="hot-desk", start=date(2027, 1, 1))
    assert create_references(line) == {"members.jane", "plans.hot-desk", "locations.riverside"}
    placed = obj(line.address, owner="members.jane", meta=defaults, plan="hot-desk",
                 start=date(2027, 1, 1), location="downtown")
    assert create_references(placed) == {"members.jane", "plans.hot-desk", "locations.downtown"}


def test_deletes_come_last_in_reverse_rank_order() -> None:
    desired: dict[str, list[Obj]] = {}
    snapshot = FakeSnapshot(group(
        live("plans.old", name="Old"), live("companies.gone", name="Gone"),
        live("companies.gone.fees[x@2026-01-01]", owner="companies.gone", plan="x")))
    plan = make(desired | group(obj("companies.new", name="New")), snapshot,
                prune=("plans", "companies"))
    assert [(c.action, c.address) for c in plan.changes] == [
        ("create", "companies.new"), ("delete", "companies.gone"), ("delete", "plans.old")]
    assert plan.unmanaged == {}  # the config does not use fees


def test_order_is_deterministic_whatever_the_input_order() -> None:
    desired, snapshot = rich_plan_inputs()
    reversed_desired = {k: list(reversed(v)) for k, v in reversed(list(desired.items()))}
    first = make(desired, snapshot, profile=Profile.OFFICERND, prune=("fees",))
    second = make(reversed_desired, snapshot, profile=Profile.OFFICERND, prune=("fees",))
    assert first.changes == second.changes


def _members(n: int, changed: int) -> tuple[dict[str, list[Obj]], FakeSnapshot]:
    live_members = [live(f"members.m{i}", name=f"M {i}", email=f"m{i}@x.example")
                    for i in range(n)]
    wanted = [obj(f"members.m{i}", name=f"M {i}" + (" Jr" if i < changed else ""),
                  email=f"m{i}@x.example") for i in range(n)]
    return group(*wanted), FakeSnapshot(group(*live_members))


def test_changes_above_the_ratio_are_blocked_unless_forced() -> None:
    desired, snapshot = _members(10, 4)
    plan = make(desired, snapshot)
    notices = [c for c in plan.changes if c.action == "blocked"]
    assert [c.address for c in notices] == ["members"]
    assert "4 of 10 existing members (40%)" in notices[0].reason
    assert "--force" in notices[0].reason
    assert plan.exit_code() == 3
    forced = make(desired, snapshot, safety=SafetyPolicy(force=True))
    assert not forced.blocked
    assert any("allowed by --force" in w for w in forced.warnings)


def test_ratio_is_not_applied_to_small_kinds_or_at_the_limit() -> None:
    desired, snapshot = _members(9, 9)
    assert not make(desired, snapshot).blocked
    desired, snapshot = _members(10, 3)
    assert not make(desired, snapshot).blocked
    desired, snapshot = _members(10, 3)
    assert make(desired, snapshot, safety=SafetyPolicy(max_change_ratio=Decimal("0.2"))).blocked


def test_object_digests_cover_touched_live_objects_and_creates() -> None:
    desired, snapshot = rich_plan_inputs()
    plan = make(desired, snapshot, profile=Profile.OFFICERND, prune=("fees",))
    by_address = {o.address: o for objs in snapshot.objects.values() for o in objs}
    assert plan.object_digests["companies.acme"] == object_digest(by_address["companies.acme"])
    assert plan.object_digests["members.jane"] is None
    # A replace is checked against the old object it deletes.
    old = "companies.acme.memberships[hot-desk@2027-01-01]"
    assert plan.object_digests[old] == object_digest(by_address[old])


def test_object_digest_changes_with_fields_and_modified_at() -> None:
    base = live("plans.a", name="A", price=d("1.00"))
    same = Obj(base.kind, base.address, {"name": "A", "price": Decimal("1.00")}, base.id,
               meta=dict(base.meta))
    assert object_digest(base) == object_digest(same)
    touched = Obj(base.kind, base.address, base.fields, base.id,
                  meta={**base.meta, "modifiedAt": "2026-11-02T00:00:00.000Z"})
    assert object_digest(base) != object_digest(touched)


def test_live_digest_is_the_digest_of_its_sorted_records() -> None:
    _, snapshot = rich_plan_inputs()
    records = sorted(
        "\0".join((o.address, o.id or "", o.meta.get("modifiedAt") or canonical_json(o.fields)))
        for objs in snapshot.objects.values() for o in objs
    )
    text = "\n".join(records).encode()
    assert live_digest(snapshot.objects) == "sha256:" + hashlib.sha256(text).hexdigest()
    changed = {k: list(v) for k, v in snapshot.objects.items()}
    first = next(k for k, v in changed.items() if v)
    changed[first] = changed[first][1:]  # one object fewer: another digest
    assert live_digest(changed) != live_digest(snapshot.objects)


def test_exit_codes() -> None:
    empty = make({}, FakeSnapshot())
    assert empty.exit_code() == 0 and empty.empty
    manual_only = make(group(obj("plans.p", name="P")), FakeSnapshot(),
                       profile=Profile.OFFICERND)
    assert [c.action for c in manual_only.changes] == ["manual"]
    assert manual_only.exit_code() == 2


def test_change_data_masks_secrets_and_stringifies_values() -> None:
    change = Change(address="gateways.s", kind="gateways", action="update",
                    changed_paths=("secret_key", "default"),
                    before={"secret_key": "…1111", "default": False},
                    after={"secret_key": "…4242", "default": True})
    assert change.data["before"] == {"secret_key": "(sensitive)", "default": False}
    end = Change(address="m", kind="memberships", action="update", after={"end": date(2026, 1, 2),
                 "price": d("1.50")})
    assert end.data["after"] == {"end": "2026-01-02", "price": "1.50"}
