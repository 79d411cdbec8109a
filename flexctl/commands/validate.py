"""`flexctl validate [PATH]`: check a configuration offline and report every problem at once.

Exit 0 with a one-line summary when valid; exit 1 with every error as
`file:line:col: dotted.path: message` (or, with `--format json`, a JSON list on stdout).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from flexctl.commands.helptext import USAGE, Command
from flexctl.config.types import ConfigBase
from flexctl.errors import ConfigError
from flexctl.kinds import registry
from flexctl.kinds.configuration import load_config


def summary(config: ConfigBase) -> str:
    """`Valid: 2 locations, 1 gateway, ...` with every counted kind, in dependency order."""
    parts = []
    for kind in registry():
        number = kind.count(config)
        if number is not None:
            parts.append(f"{number} {kind.noun if number == 1 else kind.plural}")
    return f"Valid: {', '.join(parts)}."


@click.command("validate", cls=Command, examples=[
    ("Validate the configuration in the current directory", "flexctl validate"),
    ("A directory of YAML files, or one file", "flexctl validate examples/harbor-works\n"
     "flexctl validate config/plans.yaml"),
    ("The errors as JSON, for CI annotations", "flexctl validate config --format json"),
], exit_codes=[(0, "valid: one summary line"), (1, "invalid: every error, as "
                "file:line:col: path: message"), USAGE])
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text, or json: the errors as a JSON list on stdout (for CI annotations).",
)
def command(path: Path, output_format: str) -> None:
    """Validate the configuration at PATH offline, with every error at once.

    PATH is a YAML file or a directory whose `*.yaml` and `*.yml` files (hidden ones skipped) are
    merged into one configuration; it defaults to the current directory. Validation needs no
    credentials and reads no secret: it checks the format, the references between sections
    and the billing rules, and reports each problem with its file, line and column.
    """
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        if output_format != "json":
            raise  # flexctl.cli prints every issue on stderr and exits 1
        click.echo(json.dumps([issue.as_dict() for issue in exc.issues], indent=2))
        raise click.exceptions.Exit(1) from None
    if output_format == "json":
        click.echo("[]")
        click.echo(summary(loaded.config), err=True)
    else:
        click.echo(summary(loaded.config))
