"""The saved plan: contents, atomic write, clear errors for bad files, staleness."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from flexctl.errors import PlanError
from flexctl.kinds.base import Obj, Profile
from flexctl.reconcile.diff import diff
from flexctl.reconcile.plan import Plan, SafetyPolicy, build_plan
from flexctl.reconcile.saved_check import _invoiced_meanwhile
from flexctl.reconcile.saved_plan import load_planfile, planfile_data, stale_reasons, write_planfile
from tests.reconcile.reconcile_fakes import KINDS, RANKS, TODAY, rich_plan_inputs

TARGET = {"api_url": "local:x.db", "org": "harbor-works", "profile": "officernd"}
BINDING = {"api": "local:/x.db", "token_host": None, "org": "harbor-works"}


def rich() -> tuple[Plan, dict[str, list[Obj]]]:
    desired, snapshot = rich_plan_inputs()
    result = diff(desired, snapshot, KINDS, profile=Profile.OFFICERND, prune=("fees",),
                  today=TODAY)
    plan = build_plan(result.changes, unmanaged=result.unmanaged, desired=desired,
                      live=snapshot.objects, ranks=RANKS, safety=SafetyPolicy(), target=TARGET,
                      config_digest="sha256:cfg")
    return plan, desired


def saved(tmp_path: Path) -> tuple[Plan, Path]:
    plan, desired = rich()
    path = tmp_path / "plan.json"
    write_planfile(path, planfile_data(plan, config_path=tmp_path, binding=BINDING,
                                       desired=desired))
    return plan, path


def test_round_trip_keeps_what_apply_checks(tmp_path: Path) -> None:
    plan, path = saved(tmp_path)
    loaded = load_planfile(path)
    assert len(loaded.plan_id) == 32
    assert loaded.config_digest == "sha256:cfg"
    assert loaded.target == TARGET
    assert loaded.config_path == str(tmp_path.resolve())
    assert loaded.objects == plan.object_digests
    assert loaded.summary["blocked"] == 2
    replace_change = next(c for c in loaded.changes if c["action"] == "replace")
    assert replace_change["replaces"] == "companies.acme.memberships[hot-desk@2027-01-01]"
    assert replace_change["id"]
    assert "end_old" not in replace_change  # a replace always deletes the old one
    invoiced = next(c for c in loaded.changes
                    if c["address"] == "companies.acme.memberships[dedicated-desk@2026-12-01]")
    assert invoiced["action"] == "blocked" and "has invoices" in invoiced["reason"]
    assert loaded.document["secret_fingerprints"] == {
        "gateways.stripe-main": {"secret_key": "…4242"}}
    assert stale_reasons(loaded, plan) == []
    assert not list(tmp_path.glob(".plan.json.*")), "temporary file left behind"


def test_two_plans_have_different_ids(tmp_path: Path) -> None:
    _, first = saved(tmp_path)
    first_id = load_planfile(first).plan_id
    _, second = saved(tmp_path)
    assert load_planfile(second).plan_id != first_id


def test_stale_when_config_target_objects_or_changes_differ(tmp_path: Path) -> None:
    plan, path = saved(tmp_path)
    loaded = load_planfile(path)
    assert stale_reasons(loaded, replace(plan, config_digest="sha256:other")) == [
        "the configuration changed since the plan was made"]
    assert stale_reasons(loaded, replace(plan, target={**TARGET, "org": "x"})) == [
        "the target differs from the plan's target"]
    digests = {**plan.object_digests, "companies.acme": "sha256:new"}
    assert stale_reasons(loaded, replace(plan, object_digests=digests)) == [
        "companies.acme changed on the target since the plan was made"]
    assert stale_reasons(loaded, replace(plan, changes=plan.changes[1:])) == [
        "the changes differ from the saved plan"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "invalid JSON"),
        ("[1, 2]", "is not a flexctl plan file"),
        ('{"format_version": "1.0"}', "is not a flexctl plan file"),
        ('{"kind": "flexctl-plan", "format_version": "2.0"}', "plan format 2.0"),
        ('{"kind": "flexctl-plan", "format_version": "1.0"}', "'plan_id' is a required"),
    ],
)
def test_bad_plan_files_give_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PlanError, match=message):
        load_planfile(path)


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the plan file"):
        load_planfile(tmp_path / "nope.json")


def test_write_into_missing_directory_is_a_plan_error(tmp_path: Path) -> None:
    plan, desired = rich()
    with pytest.raises(PlanError, match="cannot write the plan file"):
        write_planfile(tmp_path / "no" / "plan.json",
                       planfile_data(plan, config_path=tmp_path, binding=BINDING, desired=desired))


def test_plan_file_is_the_json_plan_plus_extras(tmp_path: Path) -> None:
    _, path = saved(tmp_path)
    data = json.loads(path.read_text())
    assert data["format_version"] == "1.2"
    assert {"summary", "changes", "live_digest", "config_digest", "target"} <= set(data)


def test_failed_replace_leaves_no_temporary_file(tmp_path: Path) -> None:
    plan, desired = rich()
    target = tmp_path / "plan.json"
    target.mkdir()  # os.replace onto a directory fails
    with pytest.raises(PlanError, match="cannot write the plan file"):
        write_planfile(target, planfile_data(plan, config_path=tmp_path, binding=BINDING,
                                             desired=desired))
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        ({"changes": "x"}, "changes:"),
        ({"target": None}, "target:"),
        ({"objects": [1]}, "objects:"),
        ({"warnings": None}, "warnings:"),
        ({"kinds": "plans"}, "kinds:"),
        ({"changes": [{"address": 1}]}, "changes.0"),
    ],
)
def test_an_edited_plan_file_is_refused_by_shape(
    tmp_path: Path, edit: dict[str, object], where: str
) -> None:
    _, path = saved(tmp_path)
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, **edit}))
    with pytest.raises(PlanError, match=f"edited plan file \\({where}"):
        load_planfile(path)


@pytest.mark.parametrize("read_at", [1e300, -1e300, float("inf"), float("nan"), True, 0,
                                     "2026-01-01", None])
def test_a_saved_read_time_that_is_no_time_leaves_it_to_the_full_read(read_at: object) -> None:
    # An edited plan file's read_at of 1e300 crashed the check (a date beyond the calendar).
    class NoReads:
        def list(self, *args: object, **kwargs: object) -> list[object]:
            raise AssertionError("nothing is asked: the full read decides")

    client: Any = NoReads()
    assert _invoiced_meanwhile(client, {"read_at": read_at, "refs": {}}, {"memberships": {"m1"}})
