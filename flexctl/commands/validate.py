"""`flexctl validate [PATH]`: check a configuration offline and report every problem at once.

Exit 0 with a one-line summary when valid; exit 1 with every error as
`file:line:col: dotted.path: message` (or, with `--format json`, a JSON list on stdout).

With `--profile officernd` (the default when `FLEXCTL_API_URL` names the real platform) it also
warns, on stderr and without failing, about what the real platform will ask for that the
configuration leaves out (a customer's start date).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from flexctl.config.types import ConfigBase
from flexctl.errors import ConfigError
from flexctl.kinds import registry
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import LoadedConfig, load_config
from flexctl.platform.client import profile_for_url
from flexctl.platform.target import API_URL_ENV


def summary(config: ConfigBase) -> str:
    """`Valid: 2 locations, 1 gateway, ...` with every counted kind, in dependency order."""
    parts = []
    for kind in registry():
        number = kind.count(config)
        if number is not None:
            parts.append(f"{number} {kind.noun if number == 1 else kind.plural}")
    return f"Valid: {', '.join(parts)}."


def profile_warnings(loaded: LoadedConfig, profile: Profile | None) -> list[str]:
    """`file:line:col: path: message` of each kind's advice for a target of `profile`."""
    if profile is None:
        return []
    return [str(loaded.issue(path, message))
            for kind in registry() for path, message in kind.profile_warnings(loaded.config,
                                                                               profile)]


def _profile(value: str | None) -> Profile | None:
    if value is not None:
        return Profile(value)
    return profile_for_url(os.environ.get(API_URL_ENV) or "")


@click.command("validate")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: print the errors as a JSON list on stdout (for CI annotations).",
)
@click.option("--profile", type=click.Choice([p.value for p in Profile]),
              help="also warn about what a target of this profile will ask for (default: "
                   f"officernd when {API_URL_ENV} names the real platform)")
def command(path: Path, output_format: str, profile: str | None) -> None:
    """Validate the configuration at PATH (a YAML file or a directory) offline."""
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        if output_format != "json":
            raise  # flexctl.cli prints every issue on stderr and exits 1
        click.echo(json.dumps([issue.as_dict() for issue in exc.issues], indent=2))
        raise click.exceptions.Exit(1) from None
    for warning in profile_warnings(loaded, _profile(profile)):
        click.echo(f"Warning: {warning}", err=True)
    if output_format == "json":
        click.echo("[]")
        click.echo(summary(loaded.config), err=True)
    else:
        click.echo(summary(loaded.config))
