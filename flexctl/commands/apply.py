"""`flexctl apply [PATH | PLANFILE]`: plan (or load a saved plan), confirm, apply, report.

Exit codes: 0 everything that could be applied was; 1 an error or a failed change (or the
confirmation was refused); 3 something is blocked or the saved plan is stale; 130 interrupted.
With `--detailed-exitcode`, 2 when everything that could be applied was but manual steps remain
(0 then means the live organization matches the configuration). The last lines list the manual
steps left and how each is recorded as done (`flexctl confirm`, or the next apply).
With `--format json` stdout carries only the journal; the plan, progress and prompts go to stderr.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import NoReturn

import click

from flexctl.commands.helptext import INTERRUPTED, USAGE, Command
from flexctl.commands.options import (
    as_of_option,
    format_option,
    kind_options,
    refresh_option,
    target_options,
    use_color,
)
from flexctl.commands.readprogress import ReadProgress
from flexctl.errors import PlanError, StalePlanError, UsageError
from flexctl.platform.target import TargetOptions
from flexctl.reconcile.apply import DEFAULT_WORKERS, Executor
from flexctl.reconcile.journal import (
    Entry,
    Journal,
    entry_line,
    journal_data,
    render_journal_json,
    render_journal_text,
    render_left,
)
from flexctl.reconcile.plan import API_ACTIONS
from flexctl.reconcile.render import render_text
from flexctl.reconcile.saved_plan import (
    SavedPlan,
    applied_at,
    applied_plans_file,
    load_planfile,
    record_applied,
    stale_reasons,
)
from flexctl.session import PlanRun, Session
from flexctl.wording import counted

FORCED = "allowed by --force"
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
    lock_timeout: float = 0.0
    as_of: date | None = None
    detailed: bool = False


@click.command("apply", cls=Command, examples=[
    ("Plan, confirm, apply the configuration in the current directory", "flexctl apply"),
    ("Without a question (CI, scripts)", "flexctl apply config --auto-approve"),
    ("Exactly a plan saved and reviewed before (refused if anything changed since)",
     "flexctl plan config -o plan.json\nflexctl apply plan.json"),
    ("In CI on the real platform: fail the job while admin-portal steps remain",
     "flexctl apply config --auto-approve --detailed-exitcode"),
], exit_codes=[
    (0, "everything that could be applied was (manual steps are listed); with "
        "--detailed-exitcode, the live organization matches the configuration"),
    (1, "an error, a failed change, the confirmation refused, or another apply holds the "
        "lock"),
    (2, "with --detailed-exitcode: everything that could be applied was, but manual steps "
        "remain (listed last, each with how it is recorded as done)"),
    (3, "something is blocked, or a saved plan is stale, already applied or bound to "
        "another target (nothing was written)"),
    USAGE, INTERRUPTED,
])
@click.argument("path", default=".", metavar="[PATH | PLANFILE]",
                type=click.Path(path_type=str))
@click.option("--config", "config", metavar="PATH", type=click.Path(path_type=str),
              help="with a PLANFILE: the configuration it was made from "
                   "(default: the path recorded in the plan file)")
@click.option("--auto-approve", is_flag=True, help="apply without asking for confirmation")
@click.option("--force", is_flag=True,
              help="allow plans above policy.max_change_ratio or a policy.money guard")
@click.option("--detailed-exitcode", "detailed", is_flag=True,
              help="exit 2 when manual steps remain, 0 only when the organization matches")
@format_option(("text", "json"), help="how the journal is printed")
@click.option("--parallelism", type=click.IntRange(1, 64), default=DEFAULT_WORKERS,
              show_default=True, help="changes in flight at once (the write rate still holds)")
@click.option("--lock-timeout", type=click.FloatRange(0, 86400), default=0.0,
              metavar="SECONDS", show_default=True,
              help="how long to wait for another apply on the same target to finish")
@as_of_option
@kind_options
@refresh_option
@target_options
def command(
    path: str,
    config: str | None,
    auto_approve: bool,
    force: bool,
    detailed: bool,
    fmt: str,
    parallelism: int,
    lock_timeout: float,
    as_of: date | None,
    kinds: list[str] | None,
    target_opts: TargetOptions,
) -> int:
    """Apply the configuration, or a plan saved with `flexctl plan -o`, to the organization.

    With PATH (a configuration; default: the current directory), apply plans, prints the plan
    and asks for confirmation; a plan with anything blocked is refused as a whole. With
    PLANFILE (a .json file from `flexctl plan -o`), it applies exactly that plan after checking
    that nothing changed since it was made. Changes run in dependency order; the journal of
    every outcome is printed and kept in .flexctl/journals/.
    """
    options = ApplyOptions(path, config, auto_approve, force, fmt, kinds, parallelism,
                           target_opts, lock_timeout, as_of, detailed)
    saved = _saved_plan(path)
    if saved is None:
        if config is not None:
            raise UsageError("--config is only for applying a saved plan file")
        return _apply_config(options)
    if kinds is not None:
        raise UsageError("--target-kinds/--exclude-kinds cannot narrow a saved plan")
    if as_of is not None:
        raise UsageError("--as-of cannot change a saved plan: it keeps the date it was made for")
    return _apply_saved(saved, options)


def _saved_plan(path: str) -> SavedPlan | None:
    """A PLANFILE is a `.json` file; it must then be a flexctl plan file."""
    candidate = Path(path)
    if candidate.suffix.lower() != ".json" or not candidate.is_file():
        return None
    return load_planfile(candidate)


# --- the two ways in ----------------------------------------------------------------------------


def _apply_config(options: ApplyOptions) -> int:
    with (Session.open(options.path, options.target_opts, progress=ReadProgress()) as session,
          session.lock(options.lock_timeout)):
        run = session.plan(options.kinds, force=options.force, as_of=options.as_of)
        _show_plan(run, options.fmt, options.path)
        _refuse_blocked(run, options.fmt)
        if _has_writes(run) and not _confirmed(options.auto_approve):
            return 1
        executor = _execute(session, run, options, options.path)
    return _report(executor, run, options, options.path)


def _apply_saved(saved: SavedPlan, options: ApplyOptions) -> int:
    config_path = options.config or saved.config_path
    if not Path(config_path).exists():
        api = str(saved.binding.get("api") or "")
        if api.startswith("local:") and Path(api[len("local:"):]).is_relative_to(config_path):
            # The plan is bound to the sandbox inside that directory, which moved with it.
            raise PlanError(f"the configuration the plan was made from, {config_path}, is not "
                            "there, nor the sandbox inside it the plan was made against; make "
                            "a new plan where it is now: flexctl plan NEW-PATH -o FILE")
        raise PlanError(f"the configuration the plan was made from, {config_path}, is not "
                        "there; pass its new location with --config PATH")
    force = options.force or any(FORCED in w for w in saved.document.get("warnings", ()))
    kinds = saved.document.get("kinds")
    with (Session.open(config_path, options.target_opts, bound_to=saved.binding,
                       progress=ReadProgress()) as session,
          session.lock(options.lock_timeout)):
        registry = applied_plans_file(session.target)
        when = applied_at(registry, saved.plan_id)
        if when is not None:
            raise StalePlanError(f"the plan {saved.path} was already applied ({when}); "
                                 "make a new plan with `flexctl plan -o`")
        run = session.plan(kinds, force=force, as_of=saved.as_of, saved=saved)
        reasons = stale_reasons(saved, run.plan)
        if reasons:
            raise StalePlanError(
                f"the plan {saved.path} is stale; nothing was applied:\n"
                + "\n".join(f"  - {r}" for r in reasons)
                + "\nmake a new plan with `flexctl plan -o`, review it and apply that"
            )
        _show_plan(run, options.fmt, config_path)
        _refuse_blocked(run, options.fmt)
        # The saved plan is what was reviewed; applying it needs no second confirmation.
        executor = _execute(session, run, options, config_path)
        org = session.target.org
    if any(e.status == "applied" for e in executor.journal):
        problem = record_applied(registry, saved.plan_id, org)
        if problem:
            click.echo(f"Warning: {problem}", err=True)
    return _report(executor, run, options, config_path, saved.plan_id)


# --- steps --------------------------------------------------------------------------------------


def _show_plan(run: PlanRun, fmt: str, config_path: str) -> None:
    for warning in run.plan.warnings:
        click.echo(f"Warning: {warning}", err=True)
    color = fmt == "text" and use_color()
    click.echo(render_text(run.plan, color=color, config_path=config_path), nl=False,
               err=fmt == "json")


def _refuse_blocked(run: PlanRun, fmt: str) -> None:
    blocked = [c for c in run.plan.changes if c.action == "blocked"]
    if blocked:
        if fmt == "json":  # stdout stays one JSON document: the (empty) journal and why
            document = journal_data(Journal([]), dict(run.plan.target))
            document["ok"] = False  # refused: nothing that could be applied was
            document["blocked"] = [{"address": c.address, "reason": c.reason} for c in blocked]
            click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        raise StalePlanError(
            f"{counted(len(blocked), 'change')} blocked "
            f"({', '.join(c.address for c in blocked)}); "
            "nothing was applied. Resolve them (or use --force for the safety ratio and the "
            "money guards) first"
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


def _execute(
    session: Session, run: PlanRun, options: ApplyOptions, config_path: str
) -> Executor:
    executor = session.apply(run, workers=options.workers,
                             progress=ProgressLine(interactive_stderr()),
                             on_interrupt=_say_waiting)
    if session.journal_path is not None and run.plan.changes:
        click.echo(f"The journal of this apply is in {session.journal_path}.", err=True)
    if executor.aborted:  # the second Ctrl-C: what is in flight is left behind
        _report(executor, run, options, config_path)
        _stop_at_once()
    if executor.interrupted:  # from now on a second Ctrl-C stops at once, too
        signal.signal(signal.SIGINT, lambda signum, frame: _stop_at_once())
    return executor


def _stop_at_once() -> NoReturn:
    """The second Ctrl-C: exit now; the journal file already holds every known outcome."""
    click.echo("Stopped at once: run apply again; it re-plans and settles what was in flight.",
               err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)  # the threads still waiting on the network are not waited for


def _say_waiting(in_flight: list[str]) -> None:
    shown = ", ".join(in_flight[:5]) + (f" and {len(in_flight) - 5} more"
                                        if len(in_flight) > 5 else "")
    waiting = f"waiting for {counted(len(in_flight), 'change')} in flight: {shown}" if in_flight \
        else "nothing is in flight"
    click.echo(f"\nInterrupted: starting nothing new; {waiting}. Press Ctrl-C again to stop at "
               "once.", err=True)


def _report(
    executor: Executor,
    run: PlanRun,
    options: ApplyOptions,
    config_path: str,
    plan_id: str | None = None,
) -> int:
    journal = executor.journal
    json_out = options.fmt == "json"
    if json_out:
        click.echo(render_journal_json(journal, dict(run.plan.target), plan_id), nl=False)
    elif run.plan.changes:
        click.echo("\n" + render_journal_text(journal), nl=False)
    left = render_left(journal, run.plan, config_path)
    if left:  # the last lines: what is left, and how each is recorded as done
        click.echo("\n" + left, nl=False, err=json_out)
    if executor.interrupted or executor.aborted:
        click.echo("Interrupted: run apply again to finish; it re-plans and converges.",
                   err=True)
        return 130
    return journal.exit_code(detailed=options.detailed)


# --- progress on stderr -------------------------------------------------------------------------


def interactive_stderr() -> bool:
    """A terminal that can rewrite a line in place: not a pipe, not TERM=dumb."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


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
