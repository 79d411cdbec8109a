"""`flexctl drift [PATH]`: the plan engine worded as drift, for scheduled checks.

Exit codes (SPEC section 1): 0 in sync, 2 drift (anything that differs, blocked or manual
included), 1 error, 64 usage. The safety ratio does not apply: drift only reports.
"""

from __future__ import annotations

import click

from flexctl.commands.plan import FORMATS, PlanOptions, kind_options, render, run_plan, warn
from flexctl.platform.target import TargetOptions, target_options


@click.command("drift")
@click.argument("path", default=".", type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@kind_options
@target_options
def command(
    path: str,
    fmt: str,
    target_kinds: str | None,
    exclude_kinds: str | None,
    target_opts: TargetOptions,
) -> int:
    """Report where the live organization differs from the configuration."""
    # The safety ratio guards writes; a drift report writes nothing.
    options = PlanOptions(path, target_opts, False, target_kinds, exclude_kinds, safety=False)
    run = run_plan(options)
    warn(run)
    click.echo(render(run, fmt, drift=True), nl=False)
    return 0 if run.plan.empty else 2
