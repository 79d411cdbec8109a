"""`flexctl cohorts [PATH]`: the live organization's memberships grouped by plan and price.

Reads only (read scopes). Exit codes: 0 the report was written, 1 an error (configuration,
target, credentials, network, an unwritable -o FILE), 64 usage, 130 interrupted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from flexctl.commands.helptext import INTERRUPTED, USAGE, Command
from flexctl.commands.options import (
    PLAN_FORMATS,
    dated_option,
    format_option,
    refresh_option,
    target_options,
)
from flexctl.errors import FlexctlError
from flexctl.fileio import write_atomic
from flexctl.platform.target import TargetOptions
from flexctl.reconcile.cohorts import CohortReport
from flexctl.reconcile.render_cohorts import render_json, render_markdown, render_text
from flexctl.redaction import redact
from flexctl.session import Session


def render(report: CohortReport, fmt: str) -> str:
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "json":
        return render_json(report)
    return render_text(report)


@click.command("cohorts", cls=Command, examples=[
    ("The cohorts of the organization the configuration in the current directory describes",
     "flexctl cohorts"),
    ("As of the day a repricing takes effect, as a pull-request comment",
     "flexctl cohorts config --as-of 2027-01-01 -f markdown -o cohorts.md"),
    ("For a script: every cohort with the addresses of its memberships",
     "flexctl cohorts config -f json --api-url https://app.officernd.com/api/v2"),
], exit_codes=[
    (0, "the report was written"),
    (1, "an error (configuration, target, credentials, network, or -o FILE cannot be "
        "written)"),
    USAGE, INTERRUPTED,
])
@click.argument("path", default=".", type=click.Path(path_type=str))
@format_option(PLAN_FORMATS, help="text for people, markdown for a pull-request comment, "
               "json for scripts", short="-f")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="write the report to FILE instead of standard output")
@dated_option("the day whose active memberships are grouped (YYYY-MM-DD; default today)")
@refresh_option
@target_options
def command(
    path: str, fmt: str, out: Path | None, as_of: date | None, target_opts: TargetOptions
) -> int:
    """Show who pays which price for each plan: the grandfathered cohorts.

    Reads the live organization on the target (nothing is written) and groups the
    memberships active on --as-of (default today) by plan and the monthly price they pay:
    their own price, else the plan's. For each plan: how many pay the catalogue price and
    each other price, their monthly revenue, the oldest start, how many the configuration at
    PATH declares (the others are listed as undeclared) and which repricing campaign excepts
    them. Memberships that ended before that day or start after it are counted apart.
    """
    with Session.open(path, target_opts, read_only=True) as session:
        report = session.cohorts(as_of)
    text = render(report, fmt)
    if out is None:
        click.echo(text, nl=False)
        return 0
    try:
        write_atomic(out, redact(text))
    except OSError as exc:
        raise FlexctlError(f"cannot write the report {out}: {exc.strerror or exc}") from exc
    click.echo(f"Wrote the cohorts report to {out}", err=True)
    return 0
