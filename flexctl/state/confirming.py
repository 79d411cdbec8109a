"""`flexctl confirm`: manual steps recorded as done by hand, from the configuration alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flexctl.config.secrets import SecretResolver
from flexctl.errors import FlexctlError, UsageError
from flexctl.kinds import get as get_kind
from flexctl.kinds.configuration import load_config
from flexctl.state.confirmations import Confirmation, confirmer, load_confirmations
from flexctl.state.confirmations import now as confirmation_time
from flexctl.state.desired import desired_state


@dataclass(frozen=True)
class Confirmed:
    """What `confirm_manual_steps` recorded: each confirmation, and whether it is new, renews
    one that lapsed (the configuration changed) or was already current (left as it was)."""

    path: Path
    recorded: list[tuple[Confirmation, str]]  # (confirmation, "new" | "renewed" | "current")


def confirm_manual_steps(
    path: str, addresses: Sequence[str], *, every: bool, note: str | None
) -> Confirmed:
    """Record manual steps as done by hand (`flexctl confirm`); reads no target.

    Only objects of kinds some target cannot read can be confirmed (a target that reads them
    verifies them itself); anything else, or an address the configuration lacks, is a
    `UsageError` and nothing is written."""
    loaded = load_config(path)
    desired = desired_state(loaded, SecretResolver.for_config(loaded, environ={}))
    objects = {o.address: o for objs in desired.values() for o in objs}
    confirmable = [o for o in objects.values() if get_kind(o.kind).confirmable()]
    chosen = confirmable if every else [objects[a] for a in addresses if a in objects]
    problems = [f"{a} is not in the configuration" for a in addresses if a not in objects]
    problems += [
        f"{o.address}: the platform's API reads {get_kind(o.kind).plural}; flexctl verifies "
        "them by reading, there is nothing to confirm"
        for o in chosen if not get_kind(o.kind).confirmable()
    ]
    if problems:
        can = ", ".join(o.address for o in confirmable) or "none in this configuration"
        raise UsageError(f"{'; '.join(problems)}; nothing was confirmed (confirmable: {can})")
    confirmations = load_confirmations(loaded.root, loaded.config.organization)
    who, when = confirmer(loaded.root), confirmation_time()
    recorded: list[tuple[Confirmation, str]] = []
    for obj in chosen:
        kind = get_kind(obj.kind)
        current = confirmations.holding(kind, obj)
        if current is not None and (note is None or note == current.note):
            recorded.append((current, "current"))
            continue
        state = "renewed" if confirmations.lapsed(kind, obj) or current else "new"
        recorded.append((confirmations.record(kind, obj, who, when, note), state))
    if any(state != "current" for _, state in recorded):
        try:
            confirmations.save()
        except OSError as exc:
            raise FlexctlError(f"cannot write {confirmations.path}: {exc.strerror or exc}; "
                               "nothing was confirmed") from None
    return Confirmed(confirmations.path, recorded)
