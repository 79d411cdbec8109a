"""The apply lock: one writer per target; the loser is told who holds it and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from flexctl.errors import LockError
from flexctl.platform.lock import target_lock
from flexctl.platform.target import Target


def _target(tmp_path: Path) -> Target:
    db = tmp_path / "sandbox.db"
    return Target(api_url=f"local:{db}", org="acme", sandbox_db=db)


def test_a_held_lock_names_its_holder_and_says_how_to_wait(tmp_path: Path) -> None:
    target = _target(tmp_path)
    with target_lock(target):
        with pytest.raises(LockError) as info, target_lock(target):
            pass
        message = str(info.value)
        assert "another flexctl is writing to acme" in message and "pid " in message
        assert "or pass --lock-timeout SECONDS to wait for it" in message
        assert "after waiting" not in message


def test_after_waiting_in_vain_a_longer_timeout_is_advised(tmp_path: Path) -> None:
    target = _target(tmp_path)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    waiting = target_lock(target, 2, clock=lambda: now[0], sleep=sleep)
    with target_lock(target), pytest.raises(LockError) as info, waiting:
        pass
    message = str(info.value)
    assert "after waiting 2 s; wait for it to finish, or pass a longer --lock-timeout" in message
    assert now[0] >= 2
    with target_lock(target):  # released: the next one takes it at once
        pass
