"""`flexctl schema [-o FILE]`: print (or write) the JSON Schema of the configuration format."""

from __future__ import annotations

from pathlib import Path

import click

from flexctl.commands.helptext import USAGE, Command
from flexctl.errors import FlexctlError
from flexctl.fileio import write_atomic
from flexctl.kinds.configuration import schema_text


@click.command("schema", cls=Command, examples=[
    ("Write the schema beside the configuration, for editor completion and checks",
     "flexctl schema -o flexctl.schema.json"),
    ("Then start each YAML file with a modeline that points to it",
     "# yaml-language-server: $schema=flexctl.schema.json"),
], exit_codes=[(0, "printed or written"), (1, "the file cannot be written"), USAGE])
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to FILE instead of stdout.",
)
def command(output: Path | None) -> None:
    """Print the JSON Schema (Draft 2020-12) of the configuration format.

    Editors with the YAML language server use it to complete and check configuration files as
    you type. The schema checks shapes only; references and the billing rules need
    `flexctl validate`.
    """
    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise FlexctlError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {output}", err=True)
