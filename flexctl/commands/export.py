"""`flexctl export [-o DIR]`: write the live organization as flexctl YAML files.

The files are written to a temporary directory next to DIR, checked to load as a valid
configuration, and only then moved into place, so DIR never holds half an export. A DIR with
visible content is refused unless `--force` (which replaces its YAML files, but keeps the
manual steps confirmed in `confirmations.yaml`). Exit 0 or 1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from flexctl.commands.options import parse_kinds, target_options
from flexctl.config.loader import CONFIRMATIONS_FILE
from flexctl.errors import ConfigError, FlexctlError, UsageError
from flexctl.export.build import SCHEMA_FILE, Export
from flexctl.kinds.configuration import load_config, schema_text
from flexctl.platform.target import TargetOptions
from flexctl.session import Session


def has_content(directory: Path) -> bool:
    """Visible entries count; `.git` and the `.flexctl` sandbox do not."""
    return directory.is_dir() and any(not p.name.startswith(".") for p in directory.iterdir())


def write_export(export: Export, out: Path, force: bool) -> None:
    """Write atomically: a validated temporary directory, then renamed into place."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a directory")
    if has_content(out) and not force:
        raise UsageError(f"{out} is not empty; use --force to replace its configuration files")
    try:
        _write_staged(export, out)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise FlexctlError(f"cannot write the export to {out}: {exc.strerror or exc}{where}") \
            from None


def _write_staged(export: Export, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name or 'export'}.", dir=out.parent))
    try:
        for name, text in {**export.files, SCHEMA_FILE: schema_text()}.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            load_config(staging)
        except ConfigError as exc:  # a bug in export: never leave an invalid config behind
            raise FlexctlError(f"the export does not validate (nothing written):\n{exc}") from None
        _move_into(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into(staging: Path, out: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    kept = out / CONFIRMATIONS_FILE  # manual steps confirmed by hand: not configuration
    for old in [*out.rglob("*.yaml"), *out.rglob("*.yml")]:
        if old != kept and not any(part.startswith(".") for part in old.relative_to(out).parts):
            old.unlink()  # a stale file would be merged with the new ones
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            target = out / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)


@click.command("export")
@click.option("-o", "--out", "out", default=".", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="directory to write")
@click.option("--kinds", metavar="K,..",
              help="comma-separated kinds to export (the kinds they reference come along)")
@click.option("--force", is_flag=True, help="replace the YAML files of a non-empty DIR")
@click.option("--currency", metavar="CODE",
              help="the organization's currency (default: the `currency` of the organization's "
                   "configuration in DIR or the current directory, else its invoices')")
@target_options
def command(
    out: Path, kinds: str | None, force: bool, currency: str | None, target_opts: TargetOptions
) -> int:
    """Write the live organization as flexctl configuration files."""
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        raise UsageError(f"--currency must be an ISO 4217 code such as EUR, not {currency!r}")
    if has_content(out) and not force:  # before any request: a cheap, certain refusal
        raise UsageError(f"{out} is not empty; use --force to replace its configuration files")
    with Session.open(None, target_opts) as session:
        # The platform names its currency only on invoices: a configuration of the same
        # organization (the one DIR holds, or the current directory's) knows it too.
        export = session.export(parse_kinds(kinds, None), currency,
                                configured=(out, Path.cwd()))
        target = session.target
    write_export(export, out, force)
    summary = ", ".join(f"{n} {kind}" for kind, n in export.counts.items()) or "nothing"
    click.echo(f"Exported {target.org} to {out}: {summary}.")
    for line in export.skipped:
        click.echo(f"Not exported: {line}", err=True)
    # A sandbox lives beside its config: planning OUT alone would open a new, empty one.
    where = f" --api-url local:{target.sandbox_db}" if target.sandbox_db else ""
    click.echo(
        f"Next: flexctl validate {out} && flexctl plan {out}{where} (expect no changes).",
        err=True,
    )
    return 0
