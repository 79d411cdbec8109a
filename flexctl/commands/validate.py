"""`flexctl validate [PATH]`: check a configuration offline and report every problem at once.

Exit 0 with a one-line summary when valid; exit 1 with every error as
`file:line:col: dotted.path: message` (or, with `--format json`, a JSON list on stdout).
A valid configuration's warnings (`file:line:col: path: warning FX103: message`) are listed
too, in the JSON list with `--format json`, and counted in the summary; they exit 0, or 1 with
`--strict`. They are the pricing lint's (FX1xx) and, with `--profile officernd` (the default
when `FLEXCTL_API_URL` names the real platform), what the real platform will ask for that the
configuration leaves out (FX2xx: a customer's start date).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import click

from flexctl.commands.helptext import USAGE, Command
from flexctl.config.types import ConfigBase
from flexctl.errors import ConfigError, ConfigIssue
from flexctl.kinds import registry
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import LoadedConfig, load_config
from flexctl.platform.environ import API_URL_ENV


def summary(config: ConfigBase, warnings: int = 0, strict: bool = False) -> str:
    """`Valid: 2 locations, 1 gateway, ...` with every counted kind, in dependency order, and
    the number of warnings."""
    parts = []
    for kind in registry():
        number = kind.count(config)
        if number is not None:
            parts.append(f"{number} {kind.noun if number == 1 else kind.plural}")
    if not warnings:
        return f"Valid: {', '.join(parts)}."
    noun = "warning" if warnings == 1 else "warnings"
    verdict = ", which --strict does not allow" if strict else ""
    return f"Valid: {', '.join(parts)}; {warnings} {noun}{verdict}."


def profile_warnings(loaded: LoadedConfig, profile: Profile | None) -> list[ConfigIssue]:
    """Each kind's located warnings (codes FX2xx) for a target of `profile`."""
    if profile is None:
        return []
    return [replace(loaded.issue(path, message), code=code)
            for kind in registry()
            for path, code, message in kind.profile_warnings(loaded.config, profile)]


def _profile(value: str | None) -> Profile | None:
    if value is not None:
        return Profile(value)
    url = os.environ.get(API_URL_ENV)
    if not url:
        return None
    from flexctl.platform.client import profile_for_url  # the HTTP stack only when needed

    return profile_for_url(url)


@click.command("validate", cls=Command, examples=[
    ("Validate the configuration in the current directory", "flexctl validate"),
    ("A directory of YAML files, or one file", "flexctl validate examples/harbor-works\n"
     "flexctl validate config/plans.yaml"),
    ("The errors as JSON, for CI annotations", "flexctl validate config --format json"),
    ("Also fail on warnings", "flexctl validate config --strict"),
    ("Also warn about what the real platform will ask for", "flexctl validate config "
     "--profile officernd"),
], exit_codes=[(0, "valid (warnings, if any, are listed): one summary line"),
               (1, "invalid: every error, as file:line:col: path: message; or, with --strict, "
                   "a warning"), USAGE])
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text, or json: the errors (or warnings) as a JSON list on stdout (for CI "
    "annotations).",
)
@click.option("--strict", is_flag=True,
              help="exit 1 on a warning (the pricing lint's, or --profile's)")
@click.option("--profile", type=click.Choice([p.value for p in Profile]),
              help="also warn about what a target of this profile will ask for (default: "
                   f"officernd when {API_URL_ENV} names the real platform)")
def command(path: Path, output_format: str, strict: bool, profile: str | None) -> None:
    """Validate the configuration at PATH offline, with every error at once.

    PATH is a YAML file or a directory whose `*.yaml` and `*.yml` files (hidden ones skipped) are
    merged into one configuration; it defaults to the current directory. Validation needs no
    credentials and reads no secret: it checks the format, the references between sections
    and the billing rules, and reports each problem with its file, line and column; warnings
    (the pricing lint's, and with --profile what the target's platform will ask for) come with
    stable codes.
    """
    try:
        # CI validates each change once, on a fresh machine: a valid configuration is read
        # from the cache when there, never stored by validate (storing costs a sixth of a load).
        # With every key's position: the warnings it shows are located.
        loaded = load_config(path, store=False, positions=True)
    except ConfigError as exc:
        if output_format != "json":
            raise  # flexctl.cli prints every issue on stderr and exits 1
        click.echo(json.dumps([issue.as_dict() for issue in exc.issues], indent=2))
        raise click.exceptions.Exit(1) from None
    warnings = sorted([*loaded.warnings, *profile_warnings(loaded, _profile(profile))])
    line = summary(loaded.config, len(warnings), strict)
    if output_format == "json":
        click.echo(json.dumps([issue.as_dict() for issue in warnings], indent=2))
        click.echo(line, err=True)
    else:
        for warning in warnings:
            click.echo(str(warning), err=True)
        click.echo(line)
    if strict and warnings:
        raise click.exceptions.Exit(1)
