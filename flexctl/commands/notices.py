"""`flexctl notices CAMPAIGN [PATH] [-o FILE.csv]`: the mail-merge CSV of a repricing
campaign's notice letters, one row per membership it reprices (see
`flexctl.kinds.notices`). Offline: it reads the configuration only."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click

from flexctl.commands.helptext import USAGE, Command
from flexctl.errors import FlexctlError
from flexctl.fileio import write_atomic
from flexctl.kinds.configuration import load_config
from flexctl.kinds.notices import COLUMNS, notices
from flexctl.kinds.repricing import campaigns


@click.command("notices", cls=Command, examples=[
    ("The letters of campaign hot-desk-2027 as CSV on stdout",
     "flexctl notices hot-desk-2027"),
    ("Written to a file for a mail merge", "flexctl notices hot-desk-2027 config "
     "-o hot-desk-2027.csv"),
], exit_codes=[(0, "written (a header only when the campaign reaches no membership)"),
               (1, "the configuration is invalid, the campaign unknown or the file cannot "
                   "be written"), USAGE])
@click.argument("campaign")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the CSV to FILE instead of stdout.")
def command(campaign: str, path: Path, output: Path | None) -> None:
    """Write the notice letters of a repricing campaign as a mail-merge CSV.

    One row per membership the campaign reprices: the customer, its billing contact and
    email, the membership, the old and new monthly price and the effective date. Cells that
    a spreadsheet would run as a formula (starting with = + - @) are prefixed with '.
    """
    loaded = load_config(path)
    known = campaigns(loaded.config)
    if campaign not in known:
        names = ", ".join(sorted(known)) or "none"
        raise FlexctlError(f"no repricing campaign '{campaign}' in {path} (campaigns: {names})")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = notices(loaded.config, campaign)
    writer.writerows(row.cells() for row in rows)
    if output is None:
        click.echo(buffer.getvalue(), nl=False)
        return
    try:
        write_atomic(output, buffer.getvalue())
    except OSError as exc:
        raise FlexctlError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {output}: {len(rows)} notice{'' if len(rows) == 1 else 's'}", err=True)
