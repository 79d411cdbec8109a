"""`flexctl drift [PATH]`: the plan engine worded as drift, for scheduled checks.

Exit codes: 0 in sync, 2 drift (anything that differs, blocked or manual included; a manual
step confirmed with `flexctl confirm` is in sync while its configuration is unchanged), 1 error,
64 usage. The safety ratio and the money guards do not apply: drift only reports (with the
same money figures as a plan).
"""

from __future__ import annotations

from datetime import date

import click

from flexctl.commands.helptext import INTERRUPTED, USAGE, Command
from flexctl.commands.options import (
    PLAN_FORMATS,
    as_of_option,
    format_option,
    kind_options,
    refresh_option,
    target_options,
)
from flexctl.commands.plan import plan_run, render, warn
from flexctl.platform.target import TargetOptions


@click.command("drift", cls=Command, examples=[
    ("Nightly, against OfficeRnD: exit 2 when someone changed the platform by hand",
     "flexctl drift config --api-url https://app.officernd.com/api/v2"),
    ("As markdown, for a job summary", "flexctl drift config --format markdown"),
], exit_codes=[
    (0, "in sync"),
    (1, "an error"),
    (2, "drift: anything differs (changes, manual or unverified steps, blocked changes)"),
    USAGE, INTERRUPTED,
])
@click.argument("path", default=".", type=click.Path(path_type=str))
@format_option(PLAN_FORMATS, help="text for people, markdown for a job summary, json for "
              "scripts")
@as_of_option
@kind_options
@refresh_option
@target_options
def command(
    path: str, fmt: str, as_of: date | None, kinds: list[str] | None, target_opts: TargetOptions
) -> int:
    """Report where the live organization differs from the configuration.

    The same engine as `flexctl plan`, worded as drift and meant for scheduled checks: the
    exit code says whether anything differs. Nothing is written, and neither the safety ratio
    nor the money guards apply (drift only reports).
    """
    # The safety ratio and the money guards guard writes; a drift report writes nothing.
    run = plan_run(path, target_opts, kinds, safety=False, as_of=as_of)
    warn(run)
    click.echo(render(run, fmt, drift=True, config_path=path), nl=False)
    return 0 if run.plan.empty else 2
