"""`flexctl validate [PATH]`: check a configuration offline and report every problem at once.

Exit 0 with a one-line summary when valid; exit 1 with every error as
`file:line:col: dotted.path: message` (or, with `--format json`, a JSON list on stdout).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from flexctl.config import load_config
from flexctl.config.models import Config
from flexctl.errors import ConfigError

# (label, plural) in dependency order, as counted by `counts`.
_NOUNS = (
    ("location", "locations"),
    ("revenue account", "revenue accounts"),
    ("tax rate", "tax rates"),
    ("gateway", "gateways"),
    ("plan", "plans"),
    ("rate", "rates"),
    ("company", "companies"),
    ("member", "members"),
    ("membership", "memberships"),
    ("fee", "fees"),
)


def counts(config: Config) -> list[int]:
    """How many objects of each kind in `_NOUNS` the config declares."""
    customers = [*config.companies.values(), *config.members.values()]
    return [
        len(config.locations),
        len(config.revenue_accounts),
        len(config.tax_rates),
        len(config.gateways),
        len(config.plans),
        len(config.rates),
        len(config.companies),
        len(config.members),
        sum(len(customer.memberships) for customer in customers),
        sum(len(customer.fees) for customer in customers),
    ]


def summary(config: Config) -> str:
    """`Valid: 2 locations, 1 gateway, ...` with every kind, in dependency order."""
    parts = [
        f"{number} {singular if number == 1 else plural}"
        for number, (singular, plural) in zip(counts(config), _NOUNS, strict=True)
    ]
    return f"Valid: {', '.join(parts)}."


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
def command(path: Path, output_format: str) -> None:
    """Validate the configuration at PATH (a YAML file or a directory) offline."""
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
