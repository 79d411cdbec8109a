"""`Obj`, the normalized object: its hand-written `__init__` keeps the frozen dataclass's
contract (fields, defaults, equality, immutability, replace, pickling); and `RuleContext`'s
notice date."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date

import pytest

from flexctl.kinds.base import Obj, Profile, RuleContext


def test_fields_and_defaults() -> None:
    obj = Obj("fees", "companies.acme.fees[day-pass@2026-12-01]", {"plan": "day-pass"})
    assert (obj.kind, obj.address, obj.fields) == (
        "fees", "companies.acme.fees[day-pass@2026-12-01]", {"plan": "day-pass"})
    assert obj.id is None and obj.owner is None and obj.meta == {}
    other = Obj("fees", "x", {})
    assert obj.meta is not other.meta  # a fresh mapping each, as default_factory gave
    keyword = Obj(kind="plans", address="plans.a", fields={}, id="1", owner=None, meta={"m": 1})
    assert keyword.id == "1" and keyword.meta == {"m": 1} and keyword.key == "a"


def test_equality_and_repr() -> None:
    a = Obj("plans", "plans.a", {"price": 1}, "1", None, {"invoiced": False})
    assert a == Obj("plans", "plans.a", {"price": 1}, "1", None, {"invoiced": False})
    assert a != Obj("plans", "plans.a", {"price": 2}, "1", None, {"invoiced": False})
    assert repr(a) == ("Obj(kind='plans', address='plans.a', fields={'price': 1}, id='1', "
                       "owner=None, meta={'invoiced': False})")


def test_frozen_replace_and_pickle() -> None:
    a = Obj("plans", "plans.a", {}, "1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.address = "plans.b"  # type: ignore[misc]
    moved = dataclasses.replace(a, address="plans.b")
    assert (moved.address, moved.id, a.address) == ("plans.b", "1", "plans.a")
    assert pickle.loads(pickle.dumps(a)) == a
    assert not hasattr(a, "__dict__")  # slots: a plan holds 100,000s


def test_notice_counts_from_today_or_a_later_as_of() -> None:
    today = date(2026, 12, 2)
    assert RuleContext(Profile.FULL, today).notice_from == today
    later = date(2027, 1, 10)
    assert RuleContext(Profile.FULL, today, as_of=later).notice_from == later
    # An earlier --as-of moves the run-rate's date, never the notice: it cannot be given back then.
    assert RuleContext(Profile.FULL, today, as_of=date(2026, 11, 1)).notice_from == today
