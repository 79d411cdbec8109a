"""Making a plan end to end: config -> desired objects, live snapshot -> diff -> ordered plan.

`plan`, `drift` and `apply` share `make_plan`; each command owns only its options and output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from flexctl.config.secrets import SecretResolver
from flexctl.errors import UsageError
from flexctl.kinds import registry
from flexctl.kinds.base import Obj
from flexctl.reconcile.diff import diff
from flexctl.reconcile.plan import Plan, SafetyPolicy, build_plan
from flexctl.state.desired import LoadedConfigLike, desired_state
from flexctl.state.snapshot import Snapshot, SnapshotClient, read_snapshot


class LoadedConfig(LoadedConfigLike, Protocol):
    """The part of `flexctl.config.LoadedConfig` a plan needs."""

    @property
    def digest(self) -> str: ...


@dataclass(frozen=True)
class PlanRun:
    """A plan and what it was made from (apply reuses the snapshot's refs and the secrets)."""

    plan: Plan
    desired: dict[str, list[Obj]]
    snapshot: Snapshot
    secrets: SecretResolver
    kinds: list[str] | None = None  # the --target-kinds/--exclude-kinds selection


def parse_kinds(target_kinds: str | None, exclude_kinds: str | None) -> list[str] | None:
    """`--target-kinds` / `--exclude-kinds` as the kinds to plan; None means every kind.

    Unknown names are a usage error (exit 64) naming the valid ones.
    """
    known = [k.name for k in registry()]
    # An empty value is a mistake (an unset shell variable), not "every kind".
    chosen = _names(target_kinds, known, "--target-kinds") if target_kinds is not None else None
    excluded = _names(exclude_kinds, known, "--exclude-kinds") if exclude_kinds is not None else []
    if chosen is None and not excluded:
        return None
    selected = [k for k in (chosen or known) if k not in excluded]
    if not selected:
        raise UsageError("--target-kinds/--exclude-kinds leave no kind to plan")
    return selected


def _names(text: str, known: Sequence[str], option: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise UsageError(
            f"{option}: unknown kind {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"kinds are: {', '.join(known)}"
        )
    return names


def make_plan(
    loaded: LoadedConfig,
    client: SnapshotClient,
    target: dict[str, Any],
    *,
    secrets: SecretResolver,
    kinds: Sequence[str] | None = None,
    force: bool = False,
    safety: bool = True,
    today: date | None = None,
) -> PlanRun:
    """Read the target and plan the config against it (nothing is written).

    `force` lifts the safety ratio (with a warning); `safety=False` skips it (drift reports).
    """
    config = loaded.config
    desired = desired_state(loaded, secrets, kinds)
    snapshot = read_snapshot(client, desired, config.currency, kinds, target=target)
    selected = [k for k in registry() if kinds is None or k.name in kinds]
    result = diff(
        desired,
        snapshot,
        selected,
        profile=client.profile,
        prune=config.policy.prune,
        today=today or datetime.now(UTC).date(),
    )
    plan = build_plan(
        result.changes,
        unmanaged=result.unmanaged,
        desired=desired,
        live=snapshot.objects,
        ranks={k.name: k.rank for k in registry()},
        safety=SafetyPolicy(
            max_change_ratio=config.policy.max_change_ratio, force=force, enabled=safety
        ),
        target=snapshot.target,
        config_digest=loaded.digest,
        warnings=secrets.warnings,
    )
    chosen = list(kinds) if kinds is not None else None
    return PlanRun(plan=plan, desired=desired, snapshot=snapshot, secrets=secrets, kinds=chosen)
