"""The collector pause around large acyclic builds (flexctl.gcpause)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from flexctl.gcpause import gc_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_the_collector_is_off_inside_and_on_after() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner block leaves it off
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_the_block_built_is_frozen_so_no_later_collection_scans_it() -> None:
    gc.unfreeze()
    with gc_paused():
        built = [{"n": n} for n in range(5000)]
    assert gc.get_freeze_count() >= len(built)
    assert gc.get_count()[0] < 1000  # nothing left young for the next collection to scan


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.unfreeze()
    gc.disable()
    with gc_paused():
        built = [{"n": n} for n in range(100)]
    assert not gc.isenabled()
    assert gc.get_freeze_count() < len(built)  # freezing is the outermost enabled block's


def test_an_error_in_the_block_still_turns_the_collector_back_on() -> None:
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_plan_is_made_with_the_collector_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # make_plan builds the desired state, the snapshot and the diff: the pause must be on it
    # (a decorator once slid onto the function above it).
    from flexctl import session

    seen: list[bool] = []

    def desired_state(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        raise RuntimeError("enough")

    monkeypatch.setattr(session, "desired_state", desired_state)
    with pytest.raises(RuntimeError, match="enough"):
        session.make_plan(type("L", (), {"config": None})(), None,  # type: ignore[arg-type]
                          {}, secrets=None)  # type: ignore[arg-type]
    assert seen == [False]
    assert gc.isenabled()
