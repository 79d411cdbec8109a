"""`flexctl plan [PATH]`: read the live target and print the changeset (nothing is written).

Exit codes: 0, or 1 on error; with `--detailed-exitcode` 0 no changes, 2 changes present
(manual steps count as changes), 3 anything blocked. Usage errors exit 64.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from flexctl.config.secrets import SecretResolver
from flexctl.errors import UsageError
from flexctl.kinds.configuration import load_config
from flexctl.platform.target import TargetOptions, target_options
from flexctl.reconcile.planfile import is_planfile, planfile_data, write_planfile
from flexctl.reconcile.planner import PlanRun, make_plan, parse_kinds
from flexctl.reconcile.render import render_json, render_markdown, render_text

FORMATS = ("text", "json", "markdown")


@dataclass(frozen=True)
class PlanOptions:
    path: str
    target_opts: TargetOptions
    force: bool = False
    target_kinds: str | None = None
    exclude_kinds: str | None = None
    safety: bool = True


def run_plan(options: PlanOptions) -> PlanRun:
    """Load the config, read the target and plan (nothing is written)."""
    kinds = parse_kinds(options.target_kinds, options.exclude_kinds)
    if is_planfile(options.path):
        raise UsageError(f"{options.path} is a saved plan, not a configuration; apply it with "
                         f"`flexctl apply {options.path}`, or plan the configuration it names")
    loaded = load_config(options.path)
    target = options.target_opts.resolve(loaded.config.organization, Path(loaded.root))
    secrets = SecretResolver.for_config(loaded)
    with options.target_opts.open_client(target, read_only=True) as client:
        run = make_plan(
            loaded,
            client,
            target.with_profile(client.profile).describe(),
            secrets=secrets,
            kinds=kinds,
            force=options.force,
            safety=options.safety,
        )
    return run


def use_color() -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render(run: PlanRun, fmt: str, *, drift: bool = False) -> str:
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: render_text(run.plan, color=use_color(), drift=drift),
        "markdown": lambda: render_markdown(run.plan, drift=drift),
        "json": lambda: render_json(run.plan),
    }
    return renderers[fmt]()


def warn(run: PlanRun) -> None:
    """Warnings go to stderr so that `--format json` keeps stdout a single JSON document."""
    for warning in run.plan.warnings:
        click.echo(f"Warning: {warning}", err=True)


def kind_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--exclude-kinds", metavar="K,..", help="comma-separated kinds to leave out"
    )(fn)
    fn = click.option(
        "--target-kinds", metavar="K,..", help="comma-separated kinds to plan (default: all)"
    )(fn)
    return fn


@click.command("plan")
@click.argument("path", default=".", type=click.Path(path_type=str))
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="save the plan to FILE.json, for `flexctl apply FILE.json`")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True,
              help="exit 0 no changes, 2 changes present, 3 something blocked")
@click.option("--force", is_flag=True, help="allow plans above policy.max_change_ratio")
@kind_options
@target_options
def command(
    path: str,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    force: bool,
    target_kinds: str | None,
    exclude_kinds: str | None,
    target_opts: TargetOptions,
) -> int:
    """Show what apply would change on the live organization."""
    if out is not None and out.suffix.lower() != ".json":
        # `apply` tells a saved plan from a config path by this suffix.
        raise click.BadParameter("a plan file name must end in .json", param_hint="-o/--out")
    run = run_plan(PlanOptions(path, target_opts, force, target_kinds, exclude_kinds))
    warn(run)
    click.echo(render(run, fmt), nl=False)
    if out is not None:
        document = planfile_data(run.plan, config_path=Path(path), desired=run.desired,
                                 kinds=run.kinds)
        write_planfile(out, document)
        click.echo(f"Saved the plan to {out}; apply exactly this plan with: "
                   f"flexctl apply {out}", err=True)
    return run.plan.exit_code() if detailed_exitcode else 0
