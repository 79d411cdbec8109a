"""`flexctl apply [PATH | PLANFILE]`: plan (or load a saved plan), confirm, apply, report.

Exit codes: 0 everything that could be applied was; 1 an error or a failed change (or the
confirmation was refused); 3 something is blocked or the saved plan is stale; 130 interrupted.
With `--format json` stdout carries only the journal; the plan, progress and prompts go to stderr.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from flexctl.commands.plan import kind_options
from flexctl.config.secrets import SecretResolver
from flexctl.errors import PlanError, StalePlanError, UsageError
from flexctl.kinds.configuration import load_config
from flexctl.platform.client import FlexClient
from flexctl.platform.pacing import WRITE_RATE_ENV
from flexctl.platform.target import Target, TargetOptions, target_options
from flexctl.reconcile.apply import DEFAULT_WORKERS, Executor, execute
from flexctl.reconcile.journal import Entry, entry_line, render_journal_json, render_journal_text
from flexctl.reconcile.plan import API_ACTIONS
from flexctl.reconcile.planfile import SavedPlan, load_planfile, stale_reasons
from flexctl.reconcile.planner import PlanRun, make_plan, parse_kinds
from flexctl.reconcile.render import render_text

APPLIED_PLANS = "applied-plans"  # one line per applied plan file: "<plan id> <time> <org>"
FORCED = "allowed by --force"
SANDBOX_WRITE_RATE = "600/s"
PROMPT = "Do you want to perform these actions? Only 'yes' will be accepted to approve"


@dataclasses.dataclass(frozen=True)
class ApplyOptions:
    path: str
    config: str | None
    auto_approve: bool
    force: bool
    fmt: str
    kinds: list[str] | None
    workers: int
    target_opts: TargetOptions


@click.command("apply")
@click.argument("path", default=".", metavar="[PATH | PLANFILE]",
                type=click.Path(path_type=str))
@click.option("--config", "config", metavar="PATH", type=click.Path(path_type=str),
              help="with a PLANFILE: the configuration it was made from "
                   "(default: the path recorded in the plan file)")
@click.option("--auto-approve", is_flag=True, help="apply without asking for confirmation")
@click.option("--force", is_flag=True, help="allow plans above policy.max_change_ratio")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="how the journal is printed")
@click.option("--parallelism", type=click.IntRange(1, 64), default=DEFAULT_WORKERS,
              show_default=True, help="changes in flight at once (the write rate still holds)")
@kind_options
@target_options
def command(
    path: str,
    config: str | None,
    auto_approve: bool,
    force: bool,
    fmt: str,
    parallelism: int,
    target_kinds: str | None,
    exclude_kinds: str | None,
    target_opts: TargetOptions,
) -> int:
    """Apply the configuration (or a plan saved with `flexctl plan -o`) to the organization."""
    kinds = parse_kinds(target_kinds, exclude_kinds)
    options = ApplyOptions(path, config, auto_approve, force, fmt, kinds, parallelism,
                           target_opts)
    saved = _saved_plan(path)
    if saved is None:
        if config is not None:
            raise UsageError("--config is only for applying a saved plan file")
        return _apply_config(options)
    if kinds is not None:
        raise UsageError("--target-kinds/--exclude-kinds cannot narrow a saved plan")
    return _apply_saved(saved, options)


def _saved_plan(path: str) -> SavedPlan | None:
    """A PLANFILE is a `.json` file; it must then be a flexctl plan file."""
    candidate = Path(path)
    if candidate.suffix.lower() != ".json" or not candidate.is_file():
        return None
    return load_planfile(candidate)


# --- the two ways in ----------------------------------------------------------------------------


def _apply_config(options: ApplyOptions) -> int:
    loaded = load_config(options.path)
    target = options.target_opts.resolve(loaded.config.organization, Path(loaded.root))
    secrets = SecretResolver.for_config(loaded)
    with _open_client(options.target_opts, target) as client:
        described = target.with_profile(client.profile).describe()
        run = make_plan(loaded, client, described, secrets=secrets, kinds=options.kinds,
                        force=options.force)
        _show_plan(run, options.fmt)
        _refuse_blocked(run)
        if _has_writes(run) and not _confirmed(options.auto_approve):
            return 1
        executor = _execute(run, client, options)
    return _report(executor, run, options.fmt)


def _apply_saved(saved: SavedPlan, options: ApplyOptions) -> int:
    config_path = options.config or saved.config_path
    if not Path(config_path).exists():
        raise PlanError(f"the configuration the plan was made from, {config_path}, is not "
                        "there; pass its new location with --config PATH")
    loaded = load_config(config_path)
    target = _saved_target(saved, options.target_opts, loaded.config.organization, loaded.root)
    registry = applied_plans_file(target)
    when = applied_at(registry, saved.plan_id)
    if when is not None:
        raise StalePlanError(f"the plan {saved.path} was already applied ({when}); "
                             "make a new plan with `flexctl plan -o`")
    secrets = SecretResolver.for_config(loaded)
    force = options.force or any(FORCED in w for w in saved.document.get("warnings", ()))
    kinds = saved.document.get("kinds")
    with _open_client(options.target_opts, target) as client:
        described = target.with_profile(client.profile).describe()
        run = make_plan(loaded, client, described, secrets=secrets, kinds=kinds, force=force)
        reasons = stale_reasons(saved, run.plan)
        if reasons:
            raise StalePlanError(
                f"the plan {saved.path} is stale; nothing was applied:\n"
                + "\n".join(f"  - {r}" for r in reasons)
                + "\nmake a new plan with `flexctl plan -o`, review it and apply that"
            )
        _show_plan(run, options.fmt)
        _refuse_blocked(run)
        # The saved plan is what was reviewed; applying it needs no second confirmation.
        executor = _execute(run, client, options)
    if any(e.status == "applied" for e in executor.journal):
        record_applied(registry, saved.plan_id, target.org)
    return _report(executor, run, options.fmt, saved.plan_id)


def _saved_target(saved: SavedPlan, opts: TargetOptions, config_org: str,
                  root: Path) -> Target:
    """The plan file's target; target options may repeat it but not change it."""
    recorded = saved.target
    for name, given in (("api_url", opts.api_url), ("org", opts.org)):
        if given is not None and given != recorded.get(name):
            flag = "--" + name.replace("_", "-")
            raise StalePlanError(f"{flag} {given} differs from the plan's target "
                                 f"{recorded.get(name)}; nothing was applied")
    chosen = dataclasses.replace(opts, api_url=str(recorded.get("api_url")),
                                 org=str(recorded.get("org")))
    return chosen.resolve(config_org, root)


def _open_client(opts: TargetOptions, target: Target) -> FlexClient:
    """The embedded sandbox has no rate limit: unless told otherwise, do not pace its writes."""
    if target.is_local and opts.write_rate is None and not os.environ.get(WRITE_RATE_ENV):
        opts = dataclasses.replace(opts, write_rate=SANDBOX_WRITE_RATE)
    return opts.open_client(target)


# --- steps --------------------------------------------------------------------------------------


def _show_plan(run: PlanRun, fmt: str) -> None:
    for warning in run.plan.warnings:
        click.echo(f"Warning: {warning}", err=True)
    color = fmt == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    click.echo(render_text(run.plan, color=color), nl=False, err=fmt == "json")


def _refuse_blocked(run: PlanRun) -> None:
    blocked = [c for c in run.plan.changes if c.action == "blocked"]
    if blocked:
        raise StalePlanError(
            f"{len(blocked)} change(s) blocked ({', '.join(c.address for c in blocked)}); "
            "nothing was applied. Resolve them (or use --force for the safety ratio) first"
        )


def _has_writes(run: PlanRun) -> bool:
    return any(c.action in API_ACTIONS for c in run.plan.changes)


def _confirmed(auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        click.echo("Error: apply needs confirmation and there is no terminal to ask on; "
                   "review the plan, then re-run with --auto-approve", err=True)
        return False
    answer = click.prompt(PROMPT, default="", show_default=False, err=True)
    if answer.strip() != "yes":
        click.echo("Apply cancelled; nothing was changed.", err=True)
        return False
    return True


def _execute(run: PlanRun, client: FlexClient, options: ApplyOptions) -> Executor:
    snapshot = run.snapshot
    return execute(
        run.plan, run.desired, snapshot.objects,
        client=client, refs=snapshot.refs, secrets=run.secrets, currency=snapshot.currency,
        workers=options.workers, progress=ProgressLine(sys.stderr.isatty()),
    )


def _report(executor: Executor, run: PlanRun, fmt: str, plan_id: str | None = None) -> int:
    journal = executor.journal
    if fmt == "json":
        click.echo(render_journal_json(journal, dict(run.plan.target), plan_id), nl=False)
    elif run.plan.changes:
        click.echo("\n" + render_journal_text(journal), nl=False)
    if executor.interrupted:
        click.echo("Interrupted: run apply again to finish; it re-plans and converges.",
                   err=True)
        return 130
    return journal.exit_code()


# --- progress on stderr -------------------------------------------------------------------------


class ProgressLine:
    """On a terminal one line rewritten in place (count, rate, address); else a line each."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.started = time.monotonic()

    def __call__(self, entry: Entry, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        if self.tty:
            text = f"\r\x1b[K[{done}/{total}] {rate:.1f}/s {entry.status} {entry.address}"
            click.echo(text, nl=done == total, err=True)
        else:
            click.echo(f"[{done}/{total}] {entry_line(entry)}", err=True)


# --- applied plan files -------------------------------------------------------------------------


def applied_plans_file(target: Target) -> Path:
    """Where applied plan ids are recorded: next to the sandbox database for local targets,
    else `~/.flexctl/applied-plans` (shared by every remote target; plan ids are random)."""
    if target.sandbox_db is not None:
        return target.sandbox_db.parent / APPLIED_PLANS
    return Path.home() / ".flexctl" / APPLIED_PLANS


def applied_at(registry: Path, plan_id: str) -> str | None:
    """When the plan was applied, if it was."""
    try:
        lines: Sequence[str] = registry.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PlanError(f"cannot read {registry}: {exc.strerror or exc}") from exc
    for line in lines:
        parts = line.split()
        if parts and parts[0] == plan_id:
            return parts[1] if len(parts) > 1 else "at an unknown time"
    return None


def record_applied(registry: Path, plan_id: str, org: str) -> None:
    when = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        registry.parent.mkdir(parents=True, exist_ok=True)
        with registry.open("a", encoding="utf-8") as handle:
            handle.write(f"{plan_id} {when} {org}\n")
    except OSError as exc:
        click.echo(f"Warning: cannot record the applied plan in {registry}: "
                   f"{exc.strerror or exc}", err=True)
