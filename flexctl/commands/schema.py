"""`flexctl schema [-o FILE]`: print (or write) the JSON Schema of the configuration format."""

from __future__ import annotations

from pathlib import Path

import click

from flexctl.errors import FlexctlError
from flexctl.fileio import write_atomic
from flexctl.kinds.configuration import schema_text


@click.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to FILE instead of stdout.",
)
def command(output: Path | None) -> None:
    """Print the JSON Schema (Draft 2020-12) of the configuration format."""
    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise FlexctlError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {output}", err=True)
