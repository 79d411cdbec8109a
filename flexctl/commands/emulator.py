"""`flexctl emulator`: serve the local Flex-compatible API, or flip the sandbox's account status."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from flexctl.errors import TargetError, UsageError
from flexctl.platform.lock import target_lock
from flexctl.platform.target import Target

SANDBOX_DB = Path(".flexctl") / "sandbox.db"


@click.group("emulator")
def command() -> None:
    """The local OfficeRnD Flex emulator."""


@command.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="0 picks a free port.")
@click.option("--db", "db", type=click.Path(dir_okay=False), help="SQLite file (default: memory).")
@click.option("--profile", type=click.Choice(["full", "officernd"]), default="full",
              show_default=True, help="officernd = exactly the public API's capabilities.")
@click.option("--org", "orgs", multiple=True, help="Organization slug to serve (repeatable).")
@click.option("--client-id", default="emulator", show_default=True)
@click.option("--client-secret", default="emulator", show_default=True)
@click.option("--seed", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON or YAML fixture of live objects per organization.")
@click.option("--faults", help="e.g. 500:0.10,429:0.05,drop:0.03,latency:50ms,seed:7")
@click.option("--rate-limit", help="e.g. reads=400/min,reads=20000/day,writes=100/min")
@click.option("--dialect", help="Which variant of the platform's uncertain behaviours to play, "
              "e.g. membership_price=reject,fee_update=patch")
def serve(
    host: str,
    port: int,
    db: str | None,
    profile: str,
    orgs: tuple[str, ...],
    client_id: str,
    client_secret: str,
    seed: Path | None,
    faults: str | None,
    rate_limit: str | None,
    dialect: str | None,
) -> int:
    """Serve a Flex v2-compatible API until Ctrl-C."""
    from flexctl.emulator import create_app
    from flexctl.emulator.serve import base_url, build_server

    try:
        app = create_app(
            db, profile=profile, orgs=orgs or ("demo",), client_id=client_id,
            client_secret=client_secret, faults=faults, rate_limit=rate_limit, seed=seed,
            dialect=dialect,
        )
    except ValueError as exc:  # bad --faults, --rate-limit, --dialect or seed file
        raise UsageError(str(exc)) from None
    except sqlite3.Error as exc:
        raise UsageError(f"cannot use the database {db}: {exc}") from None
    try:
        server = build_server(app, host, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    url = base_url(server)
    _show_emulator_errors()
    click.echo(f"Flex emulator ({profile} profile) for {', '.join(app.store.orgs())}")
    click.echo(f"  API base:  {url}/api/v2")
    click.echo(f"  token URL: {url}/oauth/token")
    # The default secret is public knowledge; one the user chose is not echoed back.
    shown = client_secret if client_secret == "emulator" else "(the --client-secret given)"
    click.echo(f"  client:    FLEXCTL_CLIENT_ID={client_id} FLEXCTL_CLIENT_SECRET={shown}")
    click.echo(f"  state:     {db or 'in memory'}    (Ctrl-C to stop)")
    if dialect:
        click.echo(f"  dialect:   {dialect}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        server.server_close()
    return 0


def _show_emulator_errors() -> None:
    """A served emulator prints its own bugs (with a traceback) on its console."""
    import logging

    if logging.getLogger().handlers:  # --debug already shows them
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("flexctl.emulator").addHandler(handler)


@command.command("account")
@click.option("--status", type=click.Choice(["active", "onboarding"]), required=True)
@click.option("--org", help="Organization slug (default: the configuration's `organization`).")
@click.argument("path", type=click.Path(exists=True, path_type=Path), default=Path("."))
def account(status: str, org: str | None, path: Path) -> int:
    """Set the embedded sandbox's account status (what the platform does on activation)."""
    from flexctl.emulator.clock import Clock
    from flexctl.emulator.store import Store

    root = path if path.is_dir() else path.parent
    slug = org or _config_organization(path)
    db = root / SANDBOX_DB
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The sandbox's writers share one lock: not while an apply writes to it.
        with target_lock(Target(api_url="local", org=slug, sandbox_db=db)):
            store = Store(str(db), Clock())
            try:
                store.set_account_status(slug, status)
            finally:
                store.close()
    except sqlite3.Error as exc:
        raise TargetError(f"cannot use the sandbox database {db}: {exc}") from None
    click.echo(f"{slug}: account status is now {status} (sandbox {db})")
    return 0


def _config_organization(path: Path) -> str:
    """The `organization:` of the configuration at PATH (a tiny read: no full validation)."""
    from flexctl.config.loader import peek

    # The files `validate` reads: hidden directories (.flexctl, .venv, .github) are skipped.
    org = peek(path, "organization")
    if org is None:
        raise TargetError(f"no `organization` found in the configuration at {path}; use --org")
    return org
