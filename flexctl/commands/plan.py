"""`flexctl plan [PATH]`: read the live target and print the changeset (nothing is written).

Exit codes: 0, or 1 on error; with `--detailed-exitcode` 0 no changes, 2 changes present
(manual steps count as changes), 3 anything blocked (a money guard included). Usage errors
exit 64. `--report FILE.html` also writes the money report for finance reviewers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from flexctl.commands.helptext import INTERRUPTED, USAGE, Command
from flexctl.commands.options import (
    PLAN_FORMATS,
    as_of_option,
    format_option,
    kind_options,
    refresh_option,
    target_options,
    use_color,
)
from flexctl.commands.readprogress import ReadProgress
from flexctl.errors import UsageError
from flexctl.platform.target import TargetOptions
from flexctl.reconcile.render import render_json, render_markdown, render_text
from flexctl.reconcile.saved_check import check_data
from flexctl.reconcile.saved_plan import is_planfile, planfile_data, write_planfile
from flexctl.session import PlanRun, Session
from flexctl.wording import counted


def plan_run(
    path: str,
    target_opts: TargetOptions,
    kinds: list[str] | None,
    *,
    force: bool = False,
    safety: bool = True,
    as_of: date | None = None,
) -> PlanRun:
    """Load the config, read the target and plan (nothing is written)."""
    if is_planfile(path):
        raise UsageError(f"{path} is a saved plan, not a configuration; apply it with "
                         f"`flexctl apply {path}`, or plan the configuration it names")
    progress = ReadProgress()
    with Session.open(path, target_opts, read_only=True, progress=progress) as session:
        run = session.plan(kinds, force=force, safety=safety, as_of=as_of)
    progress.done()
    return run


def render(run: PlanRun, fmt: str, *, drift: bool = False, config_path: str | None = None) -> str:
    """The plan in `fmt`; `config_path` (as the user gave it) goes into confirm commands."""
    if fmt == "markdown":
        return render_markdown(run.plan, drift=drift, config_path=config_path)
    if fmt == "json":
        return render_json(run.plan)
    return render_text(run.plan, color=use_color(), drift=drift, config_path=config_path)


def warn(run: PlanRun) -> None:
    """Warnings go to stderr so that `--format json` keeps stdout a single JSON document."""
    for warning in run.plan.warnings:
        click.echo(f"Warning: {warning}", err=True)


@click.command("plan", cls=Command, examples=[
    ("Plan the configuration in the current directory against its sandbox", "flexctl plan"),
    ("A pull-request comment, with the exit code CI needs",
     "flexctl plan config --format markdown --detailed-exitcode > plan.md"),
    ("Save the plan, review it, then apply exactly that plan",
     "flexctl plan config -o plan.json\nflexctl apply plan.json"),
    ("Against OfficeRnD (credentials in FLEXCTL_CLIENT_ID and FLEXCTL_CLIENT_SECRET)",
     "flexctl plan config --api-url https://app.officernd.com/api/v2"),
    ("Only some kinds", "flexctl plan config --target-kinds members,memberships"),
    ("The money report for finance reviewers, with the run-rate as of a date",
     "flexctl plan config --as-of 2027-01-01 --report money.html"),
], exit_codes=[
    (0, "the plan was shown; with --detailed-exitcode: no changes"),
    (1, "an error (configuration, target, credentials, network)"),
    (2, "with --detailed-exitcode: changes present (manual steps count)"),
    (3, "with --detailed-exitcode: something is blocked (a money guard included)"),
    USAGE, INTERRUPTED,
])
@click.argument("path", default=".", type=click.Path(path_type=str))
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="save the plan to FILE.json, for `flexctl apply FILE.json`")
@format_option(PLAN_FORMATS, help="text for people, markdown for a pull-request comment, "
              "json for scripts")
@click.option("--detailed-exitcode", is_flag=True,
              help="exit 0 no changes, 2 changes present, 3 something blocked")
@click.option("--force", is_flag=True,
              help="allow plans above policy.max_change_ratio or a policy.money guard")
@click.option("--report", "report", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.html", help="also write the money report for finance reviewers "
                                        "(one self-contained HTML page)")
@as_of_option
@kind_options
@refresh_option
@target_options
def command(
    path: str,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    force: bool,
    report: Path | None,
    as_of: date | None,
    kinds: list[str] | None,
    target_opts: TargetOptions,
) -> int:
    """Show what apply would change on the live organization.

    Reads the configuration at PATH (a YAML file or a directory; default: the current
    directory) and the live organization on the target, and prints each change: + create,
    ~ update, - delete, -/+ replace, ! manual (a step in the admin portal), x blocked.
    Nothing is written. Only the fields the configuration writes are compared; live objects
    it does not declare are left alone unless their kind is in `policy.prune`. Each change
    shows what it does to the money invoiced, and the plan ends with a money summary.
    """
    if out is not None and out.suffix.lower() != ".json":
        # `apply` tells a saved plan from a config path by this suffix.
        raise click.BadParameter("a plan file name must end in .json", param_hint="-o/--out")
    run = plan_run(path, target_opts, kinds, force=force, as_of=as_of)
    warn(run)
    click.echo(render(run, fmt, config_path=path), nl=False)
    if report is not None:
        from flexctl.reconcile.report import write_report  # jinja2: only for a report

        write_report(report, run.plan)
        click.echo(f"Wrote the money report to {report}", err=True)
    if out is not None:
        document = planfile_data(run.plan, config_path=Path(path), binding=run.binding,
                                 desired=run.desired, kinds=run.kinds,
                                 check=check_data(run.plan, run.snapshot, run.desired))
        write_planfile(out, document)
        blocked = run.plan.summary["blocked"]
        if blocked:  # apply refuses such a plan as a whole: no invitation to run it
            one = blocked == 1
            click.echo(f"Saved the plan to {out}; apply will refuse it while "
                       f"{counted(blocked, 'change')} {'is' if one else 'are'} blocked: "
                       f"resolve {'it' if one else 'them'}, then make a new plan", err=True)
        else:
            click.echo(f"Saved the plan to {out}; apply exactly this plan with: "
                       f"flexctl apply {out}", err=True)
    return run.plan.exit_code() if detailed_exitcode else 0
