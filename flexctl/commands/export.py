"""`flexctl export [-o DIR]`: write the live organization as flexctl YAML files.

The files are written to a temporary directory next to DIR, checked to load as a valid
configuration, and only then moved into place, so DIR never holds half an export. A DIR with
visible content is refused unless `--force` (which replaces its YAML files). Exit 0 or 1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from flexctl.errors import (
    ConfigError,
    FlexctlError,
    NotFoundError,
    TargetError,
    UsageError,
    ValidationError,
)
from flexctl.export.build import SCHEMA_FILE, Export, build_export
from flexctl.kinds import with_references
from flexctl.kinds.configuration import load_config, schema_text
from flexctl.platform.client import FlexClient
from flexctl.platform.target import Target, TargetOptions, target_options
from flexctl.reconcile.planner import parse_kinds
from flexctl.state.snapshot import read_snapshot

BILLING_SETTINGS = "billing-settings"


def live_currency(client: FlexClient) -> str:
    """The organization's currency, from its billing settings."""
    try:
        currency = client.get_singleton(BILLING_SETTINGS).get("currency")
    except (NotFoundError, ValidationError) as exc:  # no such endpoint on this target
        raise TargetError(
            f"cannot read the organization's currency ({exc}); pass --currency"
        ) from None
    if not isinstance(currency, str) or len(currency) != 3:
        raise TargetError("the billing settings do not name a currency; pass --currency")
    return currency.upper()


def run_export(
    target_opts: TargetOptions, kinds: list[str] | None, currency: str | None
) -> tuple[Export, Target]:
    """Read the target and build the export; returns it and the target it was read from."""
    target = target_opts.resolve(None, None)
    with target_opts.open_client(target) as client:
        chosen = currency.upper() if currency else live_currency(client)
        scope = sorted(with_references(kinds)) if kinds is not None else None
        snapshot = read_snapshot(
            client, {}, chosen, scope, all_objects=True,
            target=target.with_profile(client.profile).describe(),
        )
    return build_export(snapshot, target.org, chosen, scope), target


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
    for old in [*out.rglob("*.yaml"), *out.rglob("*.yml")]:
        if not any(part.startswith(".") for part in old.relative_to(out).parts):
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
              help="the organization's currency (default: read from its billing settings)")
@target_options
def command(
    out: Path, kinds: str | None, force: bool, currency: str | None, target_opts: TargetOptions
) -> int:
    """Write the live organization as flexctl configuration files."""
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        raise UsageError(f"--currency must be an ISO 4217 code such as EUR, not {currency!r}")
    if has_content(out) and not force:  # before any request: a cheap, certain refusal
        raise UsageError(f"{out} is not empty; use --force to replace its configuration files")
    export, target = run_export(target_opts, parse_kinds(kinds, None), currency)
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
