"""One command's session: a configuration, its target, the secrets and the client, opened once.

    config -> target -> secrets -> client -> snapshot -> plan (-> apply)

`Session.open(path, options)` loads the configuration at PATH (or none, for `export`), resolves
the target from flags, environment and configuration, and opens the client; its methods read
the snapshot, make the plan, apply it, export or check readiness. Commands only parse options,
call a session, render and map the result to an exit code.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.errors import (
    ApplyError,
    StalePlanError,
    UsageError,
)
from flexctl.export.build import Export, build_export
from flexctl.export.currency import configured_currency, live_currency
from flexctl.gcpause import gc_paused, keep_until_exit
from flexctl.kinds import registry, with_references
from flexctl.kinds.base import ACTIVATE_ON_PLATFORM, Obj, Profile
from flexctl.kinds.configuration import LoadedConfig, load_config
from flexctl.platform.client import FlexClient, profile_for_url
from flexctl.platform.environ import ORG_ENV
from flexctl.platform.lock import target_lock
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, TargetOptions, activation_step
from flexctl.readiness.checklist import Readiness, readiness
from flexctl.readiness.doctor import Diagnosis, Doctor
from flexctl.readiness.smoke import (
    SMOKE_SCOPES,
    Outcome,
    SmokeResult,
    SmokeStep,
    prepare,
    run_smoke_test,
)
from flexctl.readiness.variants import clock, rate_limits, variants
from flexctl.reconcile.apply import Executor, Progress, execute
from flexctl.reconcile.cohorts import CohortReport, campaign_exceptions, read_cohorts
from flexctl.reconcile.diff import diff
from flexctl.reconcile.money import MoneyOptions
from flexctl.reconcile.plan import Plan, SafetyPolicy, build_plan
from flexctl.reconcile.saved_check import touched_snapshot, with_saved_money
from flexctl.reconcile.saved_plan import SavedPlan, binding_mismatch, stale_reasons
from flexctl.state.cache import SnapshotCache
from flexctl.state.confirmations import (
    Confirmations,
    load_confirmations,
)
from flexctl.state.desired import LoadedConfigLike, desired_state
from flexctl.state.history import HistoryClient, InvoiceHistory
from flexctl.state.incremental import CachedReader
from flexctl.state.snapshot import Snapshot, SnapshotClient, read_snapshot


class PlanClient(SnapshotClient, HistoryClient, Protocol):
    """The part of `FlexClient` a plan uses: the snapshot's reads and the invoices'."""


class Loaded(LoadedConfigLike, Protocol):
    """The part of `LoadedConfig` a plan needs."""

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
    binding: Mapping[str, str | None] = field(default_factory=dict)  # see Target.binding


def utc_today() -> date:
    """Today in UTC: the day a plan's rules count from (notice, lock dates, periods)."""
    return datetime.now(UTC).date()


@gc_paused()  # desired state, snapshot, diff: large and acyclic, no collector scans
def make_plan(
    loaded: Loaded,
    client: PlanClient,
    target: dict[str, Any],
    *,
    secrets: SecretResolver,
    kinds: Sequence[str] | None = None,
    force: bool = False,
    safety: bool = True,
    today: date | None = None,
    as_of: date | None = None,
    activation: str = ACTIVATE_ON_PLATFORM,
    confirmations: Confirmations | None = None,
    reader: CachedReader | None = None,
    partial: tuple[Snapshot, dict[str, list[Obj]]] | None = None,
) -> PlanRun:
    """Read the target and plan the config against it (nothing is written).

    `force` lifts the safety ratio and the money guards (with a warning); `safety=False` skips
    them (drift reports). `as_of` is the date of the money summary's run-rate (default today).
    `activation` is how the account becomes Active on this target (for blocked bill runs).
    `confirmations` are the manual steps confirmed by hand (`flexctl confirm`); `reader`
    reads through the snapshot cache. `partial` (a saved plan's touched objects and their
    desired twins, `saved_check.touched_snapshot`) is planned without reading and without
    the safety ratio, the money guards and the money summary, which need everything.
    """
    config = loaded.config
    today = today or utc_today()
    if partial is None:
        desired = desired_state(loaded, secrets, kinds)
        snapshot = read_snapshot(client, desired, config.currency, kinds, target=target,
                                 complete=config.policy.prune, reader=reader)
    else:
        snapshot, desired = partial
        safety = False
    selected = [k for k in registry() if kinds is None or k.name in kinds]
    # A saved plan's touched objects carry the invoiced state the plan was made with.
    history = InvoiceHistory(client) if partial is None else None
    while True:
        result = diff(
            desired,
            snapshot,
            selected,
            profile=client.profile,
            prune=config.policy.prune,
            today=today,
            as_of=as_of,
            activation=activation,
            confirmations=confirmations,
            lock=(config.policy.lock_date, "policy.lock_date") if config.policy.lock_date
            else None,
        )
        # The invoices of the customers whose changes depend on them; planned again when
        # they show an object invoiced (`flexctl.state.history`).
        if history is None or not history.settle(result.changes, snapshot.objects,
                                                 snapshot.refs):
            break
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
        money=MoneyOptions(config.currency, as_of or today, config.policy.money,
                           campaign_exceptions(config)) if partial is None else None,
        confirmed=result.confirmed,
        notes=[note for kind in selected if kind.name in desired
               for note in kind.plan_notes(config, desired[kind.name],
                                           snapshot.objects.get(kind.name, ()))],
    )
    chosen = list(kinds) if kinds is not None else None
    run = PlanRun(plan=plan, desired=desired, snapshot=snapshot, secrets=secrets, kinds=chosen)
    keep_until_exit(run)  # the program ends without freeing it object by object
    return run


class Session:
    """A configuration (or none) on one target, with its secrets and an open client."""

    def __init__(
        self,
        loaded: LoadedConfig | None,
        options: TargetOptions,
        target: Target,
        secrets: SecretResolver,
        client: FlexClient,
        cache: SnapshotCache | None = None,
    ) -> None:
        self.loaded = loaded
        self.options = options
        self.target = target
        self.secrets = secrets
        self.client = client
        self.journal_path: Path | None = None  # the last apply's journal file
        # Reads through the snapshot cache (not on the local sandbox, whose reads cost
        # nothing); `--refresh` reads every kind in full (and stores it).
        self.reader = CachedReader(client, cache, refresh=options.refresh) if cache else None

    @classmethod
    @contextmanager
    def open(
        cls,
        path: str | None,
        options: TargetOptions,
        *,
        read_only: bool = False,
        bound_to: Mapping[str, str | None] | None = None,
        org: str | None = None,
        root: Path | None = None,
        progress: Callable[[str, int, int | None], None] | None = None,
    ) -> Iterator[Session]:
        """Load the configuration at `path` (None: no configuration; `--refresh` loads it anew
        instead of from the loaded-configuration cache), resolve the target from
        flags, environment and configuration, and open the client; `read_only` asks only for
        read scopes. With `bound_to` (a saved plan's binding), a target that differs from it
        is refused before the client is opened: no credential goes anywhere else. Without a
        configuration, `org` and `root` stand for its organization and directory. `progress`
        is told of every page read (`FlexClient.on_page`)."""
        loaded = load_config(path, refresh=options.refresh) if path is not None else None
        org = loaded.config.organization if loaded else org
        if bound_to is not None:
            requested = options.org or os.environ.get(ORG_ENV) or org
            if requested != bound_to.get("org"):
                raise StalePlanError(f"the organization {requested} differs from the plan's "
                                     f"target {bound_to.get('org')}; nothing was applied")
        target = options.resolve(org, loaded.root if loaded else root)
        if bound_to is not None:
            mismatch = binding_mismatch(bound_to, target.binding())
            if mismatch:
                raise StalePlanError("; ".join(mismatch) + "; nothing was applied and no "
                                     "credential was sent")
        secrets = SecretResolver.for_config(loaded) if loaded else SecretResolver()
        with (SnapshotCache.open(target.api_url, target.org) as cache,
              options.open_client(target, read_only=read_only) as client):
            client.on_page = progress
            yield cls(loaded, options, target, secrets, client,
                      None if target.is_local else cache)

    def loaded_config(self) -> LoadedConfig:
        if self.loaded is None:
            raise UsageError("this command needs a configuration")
        return self.loaded

    @property
    def config(self) -> ConfigBase:
        return self.loaded_config().config

    def activation(self) -> str:
        """How the account becomes Active on this target (the sandbox names its command)."""
        root = self.loaded.root if self.loaded is not None else None
        return activation_step(self.target.with_profile(self.client.profile), root)

    def described_target(self) -> dict[str, str | None]:
        """The target as plans record it, with the profile the client detected."""
        return self.target.with_profile(self.client.profile).describe()

    def confirmations(self) -> Confirmations:
        """The manual steps confirmed by hand, from `confirmations.yaml` beside the config."""
        loaded = self.loaded_config()
        return load_confirmations(loaded.root, loaded.config.organization)

    def lock(self, timeout: float = 0.0) -> AbstractContextManager[Path]:
        """The target's writer lock (`flexctl.platform.lock`): one apply at a time."""
        return target_lock(self.target, timeout)

    # --- plan and apply -----------------------------------------------------------------------

    def plan(
        self,
        kinds: Sequence[str] | None = None,
        *,
        force: bool = False,
        safety: bool = True,
        as_of: date | None = None,
        saved: SavedPlan | None = None,
    ) -> PlanRun:
        """Read the target and plan the configuration (nothing is written). With `saved`, the
        plan is first made from what that saved plan touches alone (`saved_check`): when it
        comes out exactly as saved, that is the plan; else the whole organization is read."""
        partial = None
        if saved is not None:
            desired = desired_state(self.loaded_config(), self.secrets, kinds)
            partial = touched_snapshot(self.client, saved.document, desired,
                                       self.config.currency, self.described_target())
        for part in ([partial] if partial else []) + [None]:
            run = make_plan(self.loaded_config(), self.client, self.described_target(),
                            secrets=self.secrets, kinds=kinds, force=force, safety=safety,
                            as_of=as_of, activation=self.activation(),
                            confirmations=self.confirmations(), reader=self.reader,
                            partial=part)
            if part is None or saved is None:
                break
            if not stale_reasons(saved, run.plan):
                run = replace(run, plan=with_saved_money(run.plan, saved.document))
                break
        return replace(run, binding=self.target.binding())

    def apply(
        self,
        run: PlanRun,
        *,
        workers: int,
        progress: Progress | None,
        on_interrupt: Callable[[list[str]], None] | None = None,
    ) -> Executor:
        """Apply a plan made in this session (nothing of it blocked); the journal is also
        appended, as changes complete, to a file in `journal_dir()`."""
        snapshot = run.snapshot
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        path = self.journal_dir() / f"apply-{stamp}.jsonl"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            sink = path.open("x", encoding="utf-8")
        except OSError as exc:
            raise ApplyError(f"cannot write the apply journal {path}: {exc.strerror or exc}; "
                             "nothing was applied") from exc
        self.journal_path = path
        with sink:
            return execute(
                run.plan, run.desired, snapshot.objects,
                client=self.client, refs=snapshot.refs, secrets=run.secrets,
                currency=snapshot.currency, workers=workers, progress=progress,
                on_interrupt=on_interrupt, sink=sink,
            )

    def journal_dir(self) -> Path:
        """Where apply journals are kept: `.flexctl/journals` beside the configuration (the
        sandbox's directory), else the current directory's."""
        root = self.loaded.root if self.loaded is not None else Path.cwd()
        return root / ".flexctl" / "journals"

    def cohorts(self, as_of: date | None = None) -> CohortReport:
        """The live organization's price cohorts (`flexctl cohorts`); reads only."""
        return read_cohorts(self.client, self.loaded_config(), self.secrets,
                            as_of=as_of or utc_today(),
                            target=self.described_target(), reader=self.reader)

    # --- readiness ----------------------------------------------------------------------------

    def readiness(self) -> tuple[Readiness, Snapshot]:
        """The "ready to get paid" checklist over a snapshot of every object."""
        desired = desired_state(self.loaded_config(), self.secrets)
        snapshot = read_snapshot(self.client, desired, self.config.currency, all_objects=True,
                                 target=self.described_target(), reader=self.reader)
        return readiness(self.config, desired, snapshot, self.activation(),
                         self.confirmations()), snapshot

    def smoke_test(
        self,
        snapshot: Snapshot,
        *,
        amount: Decimal,
        card: str,
        progress: Callable[[SmokeStep], None],
    ) -> SmokeResult:
        """Charge a small amount to a tagged test member and clean up (where the target can)."""
        prepared = prepare(snapshot, self.config)
        if isinstance(prepared, str):
            return SmokeResult(outcome=Outcome.NOT_RUN, reason=prepared)
        # The smoke test runs on the full profile only, whose client is granted everything.
        scopes = tuple(dict.fromkeys((*profile_scopes(Profile.FULL), *SMOKE_SCOPES)))
        with self.options.open_client(self.target, scopes=scopes) as client:
            return run_smoke_test(client, prepared, amount=amount, card=card,
                                  currency=self.config.currency,
                                  today=utc_today(), progress=progress)

    # --- doctor -------------------------------------------------------------------------------

    def doctor(self) -> Diagnosis:
        """What flexctl needs of the target, checked by reading only (`flexctl doctor`)."""
        doctor = Doctor(lambda scopes: self.options.open_client(self.target, scopes=scopes),
                        self.target.org, profile_for_url(self.target.api_url))
        try:
            token, scopes = doctor.token()
            checks = [token, scopes, doctor.organization(), doctor.lists(), doctor.paging(),
                      doctor.select(), doctor.fields(), doctor.modified_filters(),
                      rate_limits(doctor), doctor.account(), clock(doctor), variants(doctor)]
        finally:
            doctor.close()
        profile = doctor.profile.value if doctor.profile and doctor.told else None
        return Diagnosis({**self.target.describe(), "profile": profile}, checks)

    # --- export -------------------------------------------------------------------------------

    def export(
        self, kinds: Sequence[str] | None, currency: str | None, configured: Sequence[Path] = ()
    ) -> Export:
        """The live organization as configuration files (`kinds` and what they reference).

        The currency is `currency` (`--currency`), else the `currency` of the first of the
        `configured` paths that holds a configuration of this organization, else what its
        invoices show (`live_currency`); billing settings are never read."""
        chosen = (currency or configured_currency(configured, self.target.org)
                  or live_currency(self.client)).upper()
        scope = sorted(with_references(kinds)) if kinds is not None else None
        snapshot = read_snapshot(self.client, {}, chosen, scope, all_objects=True,
                                 target=self.described_target(), reader=self.reader)
        return build_export(snapshot, self.target.org, chosen, scope)
