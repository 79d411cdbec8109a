"""`flexctl drift [PATH]`: the plan engine worded as drift, for scheduled checks.

Exit codes: 0 in sync, 2 drift (anything that differs, blocked or manual included; a manual
step confirmed with `flexctl confirm` is in sync while its configuration is unchanged), 1 error,
64 usage. The safety ratio does not apply: drift only reports.
"""

from __future__ import annotations

import click

from flexctl.commands.options import PLAN_FORMATS, format_option, kind_options, target_options
from flexctl.commands.plan import plan_run, render, warn
from flexctl.platform.target import TargetOptions


@click.command("drift")
@click.argument("path", default=".", type=click.Path(path_type=str))
@format_option(PLAN_FORMATS)
@kind_options
@target_options
def command(path: str, fmt: str, kinds: list[str] | None, target_opts: TargetOptions) -> int:
    """Report where the live organization differs from the configuration."""
    # The safety ratio guards writes; a drift report writes nothing.
    run = plan_run(path, target_opts, kinds, safety=False)
    warn(run)
    click.echo(render(run, fmt, drift=True, config_path=path), nl=False)
    return 0 if run.plan.empty else 2
