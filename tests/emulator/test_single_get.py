"""A GET by id: it ignores every query parameter, and a membership's empty fields are shown
as the dialect says (the platform leaves them out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.emulator.emu_harness import ORG, Emu

LIST_SHAPE: dict[str, object] = {"endDate": None, "member": None, "properties": {}}


@pytest.mark.parametrize("profile", ["full", "officernd"])
def test_single_get_ignores_select_and_unknown_parameters(
    make_emu: Callable[..., Emu], profile: str
) -> None:
    emu = make_emu(profile=profile)
    cat = emu.catalogue()
    ms = emu.membership(cat)
    for path in (f"members/{cat['member']['_id']}", f"plans/{cat['plan']['_id']}",
                 f"memberships/{ms['_id']}", ORG):
        plain = emu.get(path)
        asked = emu.get(path, params={"$select": "name", "colour": "red", "$limit": "99"})
        assert asked.status_code == 200, asked.text
        assert asked.json() == plain.json() and len(plain.json()) > 3


def _shown(emu: Emu, membership: dict[str, Any]) -> dict[str, Any]:
    return dict(emu.get(f"memberships/{membership['_id']}").json())


def test_the_platform_leaves_empty_fields_out(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    cat = emu.catalogue()
    ms = emu.membership(cat)
    shown = _shown(emu, ms)
    assert not set(LIST_SHAPE) & set(shown)
    assert shown["company"] == cat["company"]["_id"]
    # lists, and a write's answer, carry them
    (listed,) = emu.get("memberships").json()["results"]
    assert {k: listed[k] for k in LIST_SHAPE} == LIST_SHAPE
    assert {k: ms[k] for k in LIST_SHAPE} == LIST_SHAPE
    emu.put(f"memberships/{ms['_id']}", {"endDate": None})
    assert _shown(emu, ms)["endDate"] is None  # set to null: shown as null
    body = {k: v for k, v in emu.membership_body(cat).items() if k != "company"}
    personal = emu.create("memberships", {
        **body, "isPersonal": True, "member": cat["member"]["_id"],
        "properties": {"flexctl": "x"}, "endDate": "2027-01-31"})
    shown = _shown(emu, personal)
    assert "company" not in shown and shown["properties"] == {"flexctl": "x"}
    assert shown["endDate"] == "2027-01-31T00:00:00.000Z"
    deleted = emu.delete(f"memberships/{ms['_id']}").json()
    assert deleted["properties"] == {}


def test_empty_fields_may_be_null(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="single_get=null")
    shown = _shown(emu, emu.membership(emu.catalogue()))
    assert {k: shown[k] for k in LIST_SHAPE} == {"endDate": None, "member": None,
                                                 "properties": None}


def test_the_full_profile_shows_them_like_lists(emu: Emu) -> None:
    shown = _shown(emu, emu.membership(emu.catalogue()))
    assert {k: shown[k] for k in LIST_SHAPE} == LIST_SHAPE
    assert shown["calculatedStatus"] in ("not_started", "active")


def test_setting_an_open_end_to_null_is_no_change(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    ms = emu.membership(emu.catalogue())
    emu.app.clock.advance(5)
    cleared = emu.put(f"memberships/{ms['_id']}", {"endDate": None}).json()
    assert cleared["modifiedAt"] == ms["modifiedAt"]
    ended = emu.put(f"memberships/{ms['_id']}", {"endDate": "2027-06-30"}).json()
    assert ended["modifiedAt"] > ms["modifiedAt"]
    emu.app.clock.advance(5)
    reopened = emu.put(f"memberships/{ms['_id']}", {"endDate": None}).json()
    assert reopened["modifiedAt"] > ended["modifiedAt"] and reopened["endDate"] is None
