"""The diff and its domain rules, on hand-made objects (no API, no config files)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from flexctl.kinds.base import Obj, Profile
from flexctl.reconcile.diff import DiffResult, diff
from flexctl.reconcile.plan import Change
from tests.reconcile.reconcile_fakes import KINDS, TODAY, FakeSnapshot, d, group, live, obj

ACME = "companies.acme"
MS = f"{ACME}.memberships[hot-desk@2026-12-01]"


def run(desired: list[Obj], current: list[Obj], *, profile: Profile = Profile.FULL,
        prune: Collection[str] = (), unreadable: dict[str, str] | None = None,
        status: str | None = "active") -> DiffResult:
    snapshot = FakeSnapshot(group(*current), unreadable, status)
    wanted = group(*desired)
    for kind in prune:  # as desired_state does: a pruned kind is managed even when empty
        wanted.setdefault(kind, [])
    return diff(wanted, snapshot, KINDS, profile=profile, prune=prune, today=TODAY)


def only(result: DiffResult) -> Change:
    assert len(result.changes) == 1, result.changes
    return result.changes[0]


def test_equal_objects_give_no_change() -> None:
    want = obj("plans.hot-desk", name="Hot Desk", price=d("250.00"))
    have = live("plans.hot-desk", name="Hot Desk", price=d("250.00"), type="Hotdesk")
    assert run([want], [have]).changes == []


def test_only_declared_fields_are_compared() -> None:
    want = obj("plans.hot-desk", name="Hot Desk")
    have = live("plans.hot-desk", name="Hot Desk", price=d("999.00"))
    assert run([want], [have]).changes == []


def test_price_change_is_an_update_with_paths_and_values() -> None:
    want = obj("plans.hot-desk", name="Hot Desk", price=d("230.00"), billing="recurring")
    have = live("plans.hot-desk", name="Hot Desk", price=d("250.00"), billing="recurring")
    change = only(run([want], [have]))
    assert change.action == "update"
    assert change.changed_paths == ("price",)
    assert change.before == {"price": d("250.00")}
    assert change.after == {"price": d("230.00")}
    assert change.unchanged_fields == 2
    assert change.id == have.id


def test_missing_live_object_is_a_create() -> None:
    want = obj("companies.acme", name="Acme Ltd", location="downtown")
    change = only(run([want], []))
    assert (change.action, change.address, change.after) == (
        "create", "companies.acme", {"name": "Acme Ltd", "location": "downtown"})


def test_undeclared_live_object_is_unmanaged_unless_pruned() -> None:
    jane = obj("members.jane", name="Jane", email="jane@x.example")
    extra = live("members.bob", name="Bob", email="bob@x.example")
    current = [live("members.jane", name="Jane", email="jane@x.example"), extra]
    result = run([jane], current)
    assert result.changes == []
    assert result.unmanaged == {"members": 1}
    change = only(run([jane], current, prune=["members"]))
    assert (change.action, change.id) == ("delete", extra.id)


def test_kinds_the_config_does_not_use_are_not_reported() -> None:
    result = run([], [live("members.bob", name="Bob", email="bob@x.example")])
    assert result.changes == [] and result.unmanaged == {}


def test_field_not_updatable_is_a_replace_with_reason() -> None:
    want = obj("plans.hot-desk", name="Hot Desk", billing="one_off")
    have = live("plans.hot-desk", name="Hot Desk", billing="recurring")
    change = only(run([want], [have]))
    assert change.action == "replace"
    assert "billing cannot be changed in place" in change.reason


def test_membership_plan_change_pairs_into_one_replace() -> None:
    customer = obj(ACME, name="Acme Ltd")
    new = obj(f"{ACME}.memberships[dedicated@2026-12-01]", owner=ACME, plan="dedicated",
              start=date(2026, 12, 1))
    old = live(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1))
    result = run([customer, new], [live(ACME, name="Acme Ltd"), old])
    change = only(result)
    assert change.action == "replace"
    assert change.address == new.address
    assert change.replaces == MS
    assert change.id == old.id
    assert change.changed_paths == ("plan",)
    assert change.reason == ("plan changed on the line starting 2026-12-01: the old one is "
                             "deleted, a new one created")  # never invoiced


def test_invoiced_membership_plan_change_is_blocked_with_how_to_split_the_line() -> None:
    # A replace would start the new one on the invoiced one's start date: billed twice.
    customer = obj(ACME, name="Acme Ltd")
    new = obj(f"{ACME}.memberships[dedicated@2026-12-01]", owner=ACME, plan="dedicated",
              start=date(2026, 12, 1))
    old = live(MS, owner=ACME, invoiced=True, plan="hot-desk", start=date(2026, 12, 1))
    for prune in ([], ["memberships"]):
        change = only(run([customer, new], [live(ACME, name="Acme Ltd"), old], prune=prune))
        assert (change.action, change.address, change.id) == ("blocked", new.address, old.id)
        assert change.reason == (
            "the membership starting 2026-12-01 has invoices: replacing it on the same start "
            "date would bill the customer twice for the invoiced period. Keep the old line "
            "(plan hot-desk) with `end: 2026-12-01` and declare the new plan as a separate "
            "line starting the next day (`start: 2026-12-02`)")  # not started: end = its start


def test_invoiced_membership_started_is_split_today() -> None:
    customer = obj(ACME, name="Acme Ltd")
    new = obj(f"{ACME}.memberships[dedicated@2026-10-01]", owner=ACME, plan="dedicated",
              start=date(2026, 10, 1))
    old = live(f"{ACME}.memberships[hot-desk@2026-10-01]", owner=ACME, invoiced=True,
               plan="hot-desk", start=date(2026, 10, 1))
    change = only(run([customer, new], [live(ACME, name="Acme Ltd"), old]))
    assert change.action == "blocked"
    assert f"with `end: {TODAY}`" in change.reason
    assert "(`start: 2026-11-21`)" in change.reason


def test_membership_location_change_is_a_replace_unless_invoiced() -> None:
    customer = obj(ACME, name="Acme Ltd")
    new = obj(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1), location="quay")
    old = live(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1), location="downtown")
    change = only(run([customer, new], [live(ACME, name="Acme Ltd"), old]))
    assert (change.action, change.replaces) == ("replace", MS)
    assert change.reason == ("location cannot be changed in place: the old one is deleted, "
                             "a new one created")
    invoiced = live(MS, owner=ACME, invoiced=True, plan="hot-desk", start=date(2026, 12, 1),
                    location="downtown")
    change = only(run([customer, new], [live(ACME, name="Acme Ltd"), invoiced]))
    assert change.action == "blocked"
    assert change.reason.endswith(
        "Keep the old line (location downtown) with `end: 2026-12-01` and declare the new "
        "location as a separate line starting the next day (`start: 2026-12-02`)")


def test_membership_with_other_start_is_not_paired() -> None:
    customer = obj(ACME, name="Acme Ltd")
    new = obj(f"{ACME}.memberships[dedicated@2027-01-01]", owner=ACME, plan="dedicated",
              start=date(2027, 1, 1))
    old = live(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1))
    result = run([customer, new], [live(ACME, name="Acme Ltd"), old])
    assert [c.action for c in result.changes] == ["create"]
    assert result.unmanaged == {"memberships": 1}


def test_removed_invoiced_membership_is_ended_not_deleted() -> None:
    customer = obj(ACME, name="Acme Ltd")
    old = live(MS, owner=ACME, invoiced=True, plan="hot-desk", start=date(2026, 10, 1))
    change = only(run([customer], [live(ACME, name="Acme Ltd"), old], prune=["memberships"]))
    assert change.action == "update"
    assert change.reason == "invoiced: ended, not deleted"
    assert change.after == {"end": TODAY}
    assert change.before == {"end": None}


def test_removed_invoiced_membership_not_started_ends_on_its_start() -> None:
    customer = obj(ACME, name="Acme Ltd")
    old = live(MS, owner=ACME, invoiced=True, plan="hot-desk", start=date(2026, 12, 1))
    change = only(run([customer], [live(ACME, name="Acme Ltd"), old], prune=["memberships"]))
    assert change.after == {"end": date(2026, 12, 1)}


def test_removed_invoiced_membership_already_ended_needs_nothing() -> None:
    customer = obj(ACME, name="Acme Ltd")
    old = live(MS, owner=ACME, invoiced=True, plan="hot-desk", start=date(2026, 1, 1),
               end=date(2026, 6, 30))
    assert run([customer], [live(ACME, name="Acme Ltd"), old], prune=["memberships"]).changes == []


def test_removed_membership_never_invoiced_is_deleted_when_pruned() -> None:
    customer = obj(ACME, name="Acme Ltd")
    old = live(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1))
    assert only(run([customer], [live(ACME, name="Acme Ltd"), old],
                    prune=["memberships"])).action == "delete"


def test_removed_fee_deleted_only_when_pruned_and_blocked_when_invoiced() -> None:
    customer = obj(ACME, name="Acme Ltd")
    fee = live(f"{ACME}.fees[printing@2026-12-03]", owner=ACME, plan="printing",
               date=date(2026, 12, 3), quantity=120)
    current = [live(ACME, name="Acme Ltd"), fee]
    declared = obj(f"{ACME}.fees[printing@2026-12-09]", owner=ACME, plan="printing")
    assert [c.action for c in run([customer, declared], current).changes] == ["create"]
    assert run([customer, declared], current).unmanaged == {"fees": 1}
    assert only(run([customer], current, prune=["fees"])).action == "delete"
    invoiced = live(fee.address, owner=ACME, invoiced=True, plan="printing")
    change = only(run([customer], [live(ACME, name="Acme Ltd"), invoiced], prune=["fees"]))
    assert change.action == "blocked"
    assert "invoiced" in change.reason


def test_children_of_unmanaged_customers_are_unmanaged_even_when_pruned() -> None:
    fee = live("companies.other.fees[printing@2026-12-03]", owner="companies.other",
               plan="printing")
    result = run([], [live("companies.other", name="Other"), fee], prune=["fees"])
    assert result.changes == []
    assert result.unmanaged == {"fees": 1}  # companies: not in the config at all


def test_pruned_customer_with_invoiced_history_is_blocked() -> None:
    fee = live("companies.other.fees[printing@2026-12-03]", owner="companies.other",
               invoiced=True, plan="printing")
    result = run([], [live("companies.other", name="Other"), fee], prune=["companies"])
    assert only(result).action == "blocked"


def test_catalogue_on_officernd_is_manual_with_portal_instructions() -> None:
    location = obj("locations.downtown", name="Harbor Works Downtown")
    plan = obj("plans.hot-desk", name="Hot Desk", billing="recurring", price=d("250.00"),
               locations=("downtown",))
    result = run([location, plan], [live("locations.downtown", name="Harbor Works Downtown")],
                 profile=Profile.OFFICERND)
    change = only(result)
    assert change.action == "manual"
    assert change.instructions == (
        "In the admin portal, Billing > Plans: create plan 'Hot Desk' (billing: recurring, "
        "locations: Harbor Works Downtown, price: 250.00 EUR).")


def test_update_on_read_only_kind_is_manual() -> None:
    want = obj("plans.hot-desk", name="Hot Desk", price=d("230.00"))
    have = live("plans.hot-desk", name="Hot Desk", price=d("250.00"))
    change = only(run([want], [have], profile=Profile.OFFICERND))
    assert change.action == "manual"
    assert change.instructions == (
        "In the admin portal, Billing > Plans: change plan 'Hot Desk': price from "
        "250.00 EUR to 230.00 EUR.")


def test_bill_run_while_onboarding_is_blocked() -> None:
    want = obj("invoicing", automatic_bill_run=True, automatic_sending=True)
    have = live("invoicing", automatic_bill_run=False, automatic_sending=False)
    change = only(run([want], [have], status="onboarding"))
    assert change.action == "blocked"
    assert "onboarding" in change.reason and "Active" in change.reason
    assert change.action == "blocked"
    assert only(run([want], [have], status="active")).action == "update"


def test_bill_run_already_on_is_not_blocked() -> None:
    want = obj("invoicing", automatic_bill_run=True, automatic_sending=True)
    have = live("invoicing", automatic_bill_run=True, automatic_sending=False)
    assert only(run([want], [have], status="onboarding")).action == "update"


def test_unreadable_kind_is_never_claimed_changed_or_unchanged() -> None:
    gateway = obj("gateways.stripe-main", provider="stripe", account="acct_1",
                  secret_key="…4242")
    why = "the OfficeRnD public API does not expose payment gateways"
    change = only(run([gateway], [], profile=Profile.OFFICERND, unreadable={"gateways": why}))
    assert change.action == "manual"
    assert change.reason.startswith("unverified:")
    assert change.instructions is not None
    assert "Settings > Integrations > Payment Gateways" in change.instructions
    assert "4242" not in change.instructions
    assert "(sensitive)" in change.instructions


def test_invoiced_fee_change_is_blocked() -> None:
    customer = obj(ACME, name="Acme Ltd")
    address = f"{ACME}.fees[printing@2026-12-03]"
    want = obj(address, owner=ACME, plan="printing", quantity=130)
    have = live(address, owner=ACME, invoiced=True, plan="printing", quantity=120)
    assert only(run([customer, want], [live(ACME, name="Acme Ltd"), have])).action == "blocked"


def test_kinds_filter_limits_changes() -> None:
    plan = obj("plans.hot-desk", name="Hot Desk")
    company = obj("companies.acme", name="Acme Ltd")
    snapshot = FakeSnapshot({})
    selected = [k for k in KINDS if k.name == "companies"]
    result = diff(group(plan, company), snapshot, selected, profile=Profile.FULL, today=TODAY)
    assert [c.address for c in result.changes] == ["companies.acme"]


def only_kinds(names: str, desired: list[Obj], current: list[Obj]) -> DiffResult:
    """The diff of a run limited to some kinds (--target-kinds / --exclude-kinds)."""
    selected = [k for k in KINDS if k.name in names.split(",")]
    return diff(group(*desired), FakeSnapshot(group(*current)), selected, profile=Profile.FULL,
                today=TODAY)


def test_a_create_referring_to_an_object_of_a_kind_left_out_and_not_live_is_blocked() -> None:
    plan = obj("plans.hot-desk", name="Hot Desk")
    new = obj(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1))
    change = only(only_kinds("memberships", [plan, obj(ACME, name="Acme Ltd"), new], []))
    assert (change.action, change.address) == ("blocked", MS)
    assert change.after == {"plan": "hot-desk", "start": date(2026, 12, 1)}
    assert change.reason == (
        "companies.acme and plans.hot-desk are not on the target and this plan does not create "
        "them (companies, plans left out by --target-kinds/--exclude-kinds): add companies, "
        "plans to the kinds planned, or apply without --target-kinds/--exclude-kinds first")
    # Only what is missing is named: the customer is live.
    change = only(only_kinds("memberships", [plan, obj(ACME, name="Acme Ltd"), new],
                             [live(ACME, name="Acme Ltd")]))
    assert change.reason.startswith("plans.hot-desk is not on the target and this plan does not "
                                    "create it (plans left out by")


def test_references_live_or_created_by_the_plan_leave_a_create_alone() -> None:
    plan = obj("plans.hot-desk", name="Hot Desk")
    new = obj(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1))
    customer = obj(ACME, name="Acme Ltd")
    live_ones = [live("plans.hot-desk", name="Hot Desk"), live(ACME, name="Acme Ltd")]
    change = only(only_kinds("memberships", [plan, customer, new], live_ones))
    assert change.action == "create"
    # Created in the same run: the plan orders them, apply resolves them as it goes.
    result = only_kinds("plans,companies,memberships", [plan, customer, new], [])
    assert {c.address: c.action for c in result.changes} == {
        "plans.hot-desk": "create", ACME: "create", MS: "create"}


def test_an_update_is_blocked_only_for_a_reference_it_changes() -> None:
    company = obj("companies.beta", name="Beta")
    jane = obj("members.jane", name="Jane", company="beta", location="downtown")
    have = live("members.jane", name="Jane Doe", company="acme", location="downtown")
    change = only(only_kinds("members", [company, jane], [have, live(ACME, name="Acme Ltd")]))
    assert (change.action, change.changed_paths) == ("blocked", ("company", "name"))
    assert change.reason.startswith("companies.beta is not on the target")
    # The location is not live either, but the update does not send it.
    renamed = obj("members.jane", name="Jane", company="acme", location="downtown")
    assert only(only_kinds("members", [renamed], [have])).action == "update"


def test_a_create_is_blocked_for_the_location_it_would_send_by_default() -> None:
    # A membership without a location is created at its customer's, here one not live yet.
    at_quay = {"create_defaults": {"location": "quay"}}
    new = obj(MS, owner=ACME, meta=at_quay, plan="hot-desk", start=date(2026, 12, 1))
    current = [live(ACME, name="Acme Ltd"), live("plans.hot-desk", name="Hot Desk")]
    change = only(only_kinds("memberships", [new], current))
    assert change.reason.startswith("locations.quay is not on the target")
    placed = obj(MS, owner=ACME, meta=at_quay, plan="hot-desk", start=date(2026, 12, 1),
                 location="downtown")
    downtown = live("locations.downtown", name="Downtown")
    assert only(only_kinds("memberships", [placed], [*current, downtown])).action == "create"


def test_pinned_id_missing_on_the_target_is_blocked_not_created_again_and_again() -> None:
    want = obj("companies.acme", id="0" * 24, name="Acme Ltd")
    change = only(run([want], []))
    assert change.action == "blocked"
    assert "pinned id" in change.reason


def test_pinned_object_with_a_fixed_field_change_is_blocked() -> None:
    have = live(MS, owner=ACME, plan="hot-desk", start=date(2026, 12, 1))
    want = obj(f"{ACME}.memberships[dedicated@2026-12-01]", id=have.id, owner=ACME,
               plan="dedicated", start=date(2026, 12, 1))
    # The snapshot gives the pinned live object the desired address.
    moved = Obj(have.kind, want.address, have.fields, have.id, have.owner, have.meta)
    change = only(run([obj(ACME, name="Acme Ltd"), want], [live(ACME, name="Acme Ltd"), moved]))
    assert change.action == "blocked"
    assert "remove the pin" in change.reason


def test_pinned_membership_of_another_customer_is_blocked() -> None:
    # The pin names a live membership that belongs to another company: the API cannot move a
    # membership between customers, and a replace would leave the pin matching the old one.
    have = live(MS, owner="companies.beta", plan="hot-desk", start=date(2026, 12, 1))
    want = obj(MS, id=have.id, owner=ACME, plan="hot-desk", start=date(2026, 12, 1))
    change = only(run([obj(ACME, name="Acme Ltd"), want], [live(ACME, name="Acme Ltd"), have]))
    assert change.action == "blocked"
    assert change.changed_paths == ("customer",)
    assert change.before == {"customer": "companies.beta"}
    assert change.after == {"customer": ACME}
    assert "customer cannot be changed in place" in change.reason
    assert "remove the pin" in change.reason
    assert change.unchanged_fields == 2


def test_pinned_fee_of_another_customer_is_blocked_with_its_field_changes() -> None:
    fee = f"{ACME}.fees[printing@2026-12-03]"
    have = live(fee, owner="members.jane", plan="printing", date=date(2026, 12, 3), quantity=1)
    want = obj(fee, id=have.id, owner=ACME, plan="printing", date=date(2026, 12, 3), quantity=5)
    change = only(run([obj(ACME, name="Acme Ltd"), want], [live(ACME, name="Acme Ltd"), have]))
    assert change.action == "blocked"
    assert change.changed_paths == ("customer", "quantity")
    assert change.before == {"customer": "members.jane", "quantity": 1}


def test_a_booking_fee_is_unmanaged_even_when_fees_are_pruned() -> None:
    booking = obj(f"{ACME}.fees[id:{'7' * 24}@2026-12-04]", id="7" * 24, owner=ACME,
                  meta={"booking": True, "invoiced": False}, date=date(2026, 12, 4))
    result = run([obj(ACME, name="Acme Ltd")], [live(ACME, name="Acme Ltd"), booking],
                 prune=["fees"])
    assert result.changes == [] and result.unmanaged == {"fees": 1}


def test_an_undeclared_live_membership_left_in_place_blocks_what_would_overlap_it() -> None:
    globex = "companies.globex"
    old = live(f"{ACME}.memberships[office@2026-01-01]", owner=ACME, plan="office",
               start=date(2026, 1, 1), end=None, price=d("100.00"))
    other = live(f"{globex}.memberships[office@2026-01-01]", owner=globex, plan="office",
                 start=date(2026, 1, 1), end=date(2026, 12, 31), price=d("100.00"))
    moved = live(f"{globex}.memberships[office@2026-03-01]", owner=globex, plan="office",
                 start=date(2026, 3, 1), end=date(2026, 6, 30), price=d("300.00"))
    new = obj(f"{ACME}.memberships[office@2027-02-01]", owner=ACME, plan="office",
              start=date(2027, 2, 1), end=None)
    priced = obj(moved.address, owner=globex, plan="office", start=date(2026, 3, 1),
                 end=date(2026, 6, 30), price=d("320.00"))
    later = obj(moved.address, owner=globex, plan="office", start=date(2026, 3, 1), end=None,
                price=d("300.00"))
    # The create of acme's overlaps its live undeclared one; globex's price-only update cannot.
    result = run([new, priced], [old, other, moved])
    by_address = {c.address: c for c in result.changes}
    assert by_address[new.address].action == "blocked"
    assert "overlap" in by_address[new.address].reason
    assert old.address in by_address[new.address].reason
    assert by_address[moved.address].action == "update"
    # An update of its dates does clash with globex's undeclared one, which stays in place.
    result = run([new, later], [old, other, moved])
    by_address = {c.address: c for c in result.changes}
    assert by_address[moved.address].action == "blocked"
    assert other.address in by_address[moved.address].reason
    # Pruned and deleted (their customers are declared), they no longer clash with anything.
    customers = [obj(ACME, name="Acme"), obj(globex, name="Globex")]
    current = [live(ACME, name="Acme"), live(globex, name="Globex")]
    result = run([*customers, new, later], [*current, old, other, moved], prune=("memberships",))
    assert {c.action for c in result.changes if c.address in (old.address, other.address)} \
        == {"delete"}
    assert {c.action for c in result.changes if c.address in (new.address, moved.address)} \
        == {"create", "update"}
