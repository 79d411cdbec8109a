"""`flexctl export [-o DIR]`: write the live organization as flexctl YAML files.

The files are written to a temporary directory next to DIR, checked to load as a valid
configuration, and only then moved into place, so DIR never holds half an export. A DIR with
visible content is refused unless `--force` (which replaces its YAML files, but keeps the
manual steps confirmed in `confirmations.yaml`). Exit 0 or 1.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
from pathlib import Path

import click

from flexctl.commands.helptext import INTERRUPTED, Command
from flexctl.commands.options import parse_kinds, refresh_option, target_options
from flexctl.commands.readprogress import ReadProgress
from flexctl.config.currency import CURRENCIES
from flexctl.config.loader import (
    CONFIRMATIONS_FILE,
    declared_organization,
    display_name,
    holds_configuration,
)
from flexctl.errors import ConfigError, FlexctlError, UsageError
from flexctl.export.build import SCHEMA_FILE, Export
from flexctl.fileio import make_staging_directory
from flexctl.kinds import count_of
from flexctl.kinds import get as get_kind
from flexctl.kinds.configuration import load_config, schema_text, top_level_keys
from flexctl.platform.environ import ORG_ENV
from flexctl.platform.target import SANDBOX_DB, Target, TargetOptions
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
    staging = make_staging_directory(out.parent, f".{out.name or 'export'}.")
    try:
        for name, text in {**export.files, SCHEMA_FILE: schema_text()}.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            load_config(staging, cache=False)  # checked once, then renamed: no entry to keep
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


def enclosing_configuration(out: Path) -> Path | None:
    """The configuration directory DIR lies inside, if any: every YAML file under that
    directory (hidden ones aside) is merged into it, so an export there would be too."""
    absolute = Path(os.path.abspath(out))
    known = top_level_keys()
    for ancestor in absolute.parents:
        below = absolute.relative_to(ancestor).parts
        if any(part.startswith(".") for part in below):
            continue  # hidden directories are not read as configuration
        if holds_configuration(ancestor, known):
            return ancestor
    return None


def standing_organization(out: Path) -> str | None:
    """The organization of the configuration export stands in: DIR's own (an export that
    replaces it), else the current directory's."""
    known = top_level_keys()
    for directory in (out, Path.cwd()):
        if directory.is_dir() and holds_configuration(directory, known):
            organization = declared_organization(directory)
            if organization:
                return organization
    return None


def next_step(out: Path, target: Target, options: TargetOptions) -> str:
    """The commands that check the export, on the very target it was read from (planning DIR
    alone would open DIR's own sandbox, a new and empty one)."""
    words = ["flexctl", "plan", str(out)]
    if target.sandbox_db is not None:
        if os.path.abspath(target.sandbox_db) != os.path.abspath(out / SANDBOX_DB):
            words += ["--api-url", f"local:{display_name(target.sandbox_db)}"]
    else:
        words += ["--api-url", target.api_url]
        if options.token_url:
            words += ["--token-url", options.token_url]
    return (f"Next: flexctl validate {shlex.quote(str(out))} && {shlex.join(words)} "
            "(expect no changes).")


@click.command("export", cls=Command, examples=[
    ("Start a configuration from an organization already on OfficeRnD",
     "mkdir config && cd config\n"
     "flexctl export --org my-space --api-url https://app.officernd.com/api/v2 --currency EUR"),
    ("Export again over the configuration in the current directory (its organization is "
     "read from it)", "flexctl export --force"),
    ("Only some kinds (and the kinds they reference)", "flexctl export -o catalogue "
     "--kinds plans,rates"),
], exit_codes=[
    (0, "exported"),
    (1, "an error (nothing was written)"),
    (64, "usage error, or DIR is not empty (without --force) or inside another "
         "configuration (nothing was written)"),
    INTERRUPTED,
])
@click.option("-o", "--out", "out", default=".", show_default=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="directory to write; it must be empty (or use --force) and outside any "
                   "other configuration")
@click.option("--kinds", metavar="K,..",
              help="comma-separated kinds to export (the kinds they reference come along)")
@click.option("--force", is_flag=True, help="replace the YAML files of a non-empty DIR")
@click.option("--currency", metavar="CODE",
              help="the organization's currency (default: the `currency` of the organization's "
                   "configuration in DIR or the current directory, else its invoices')")
@refresh_option
@target_options
def command(
    out: Path, kinds: str | None, force: bool, currency: str | None, target_opts: TargetOptions
) -> int:
    """Write the live organization as flexctl configuration files.

    Reads every object of the organization (or of --kinds) and writes a configuration that
    validates and plans with no changes against the same target: one file per area, keys
    made from names, every object pinned to its live twin by `id:`, secrets as {env: ...}
    references, never values. The files are written all at once or not at all.
    """
    if currency is not None:
        if currency.strip().upper() not in CURRENCIES:
            raise UsageError(f"--currency must be an ISO 4217 code such as EUR, not {currency!r}")
        currency = currency.strip().upper()
    chosen = parse_kinds(kinds, None, option="--kinds")  # before any request, as the rest
    if has_content(out) and not force:  # before any request: a cheap, certain refusal
        raise UsageError(f"{out} is not empty; use --force to replace its configuration files")
    enclosing = enclosing_configuration(out)
    if enclosing is not None:
        where = display_name(enclosing)
        raise UsageError(
            f"{out} is inside the configuration at {where}: every YAML file under {where} "
            "is merged into it, and the export would be too. Export to a directory outside "
            f"it, or replace that configuration itself (flexctl export -o {where} --force)"
        )
    if not (target_opts.org or os.environ.get(ORG_ENV)):
        target_opts = dataclasses.replace(target_opts, org=standing_organization(out))
    with Session.open(None, target_opts, progress=ReadProgress()) as session:
        # The platform names its currency only on invoices: a configuration of the same
        # organization (the one DIR holds, or the current directory's) knows it too.
        export = session.export(chosen, currency,
                                configured=(out, Path.cwd()))
        target = session.target
    write_export(export, out, force)
    summary = ", ".join(get_kind(kind).noun if get_kind(kind).singleton else count_of(kind, n)
                        for kind, n in export.counts.items()) or "nothing"  # not "1 ... settings"
    click.echo(f"Exported {target.org} to {out}: {summary}.")
    for line in export.skipped:
        click.echo(f"Not exported: {line}", err=True)
    click.echo(next_step(out, target, target_opts), err=True)
    return 0
