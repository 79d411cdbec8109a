"""`flexctl emulator`: serve the local Flex-compatible API, or flip the sandbox's account status."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from flexctl.commands.helptext import USAGE, Command, Group
from flexctl.config.loader import declared_organization
from flexctl.errors import TargetError, UsageError
from flexctl.platform.lock import target_lock
from flexctl.platform.target import ensure_sandbox_directory, resolve_target


@click.group("emulator", cls=Group, examples=[
    ("Serve an emulator of the real platform's capabilities on port 8765",
     "flexctl emulator serve --profile officernd --org my-space"),
    ("Activate the sandbox's account, as OfficeRnD does after onboarding",
     "flexctl emulator account --status active"),
], exit_codes=[(0, "the help, when no command is given"), USAGE],
              invoke_without_command=True)
@click.pass_context
def command(ctx: click.Context) -> None:
    """The local OfficeRnD Flex emulator: serve it over HTTP, or set a sandbox's account.

    The embedded sandbox (`--api-url local`, the default of every command) runs the same
    emulator inside flexctl, with its state in .flexctl/sandbox.db beside the configuration.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@command.command("serve", cls=Command, examples=[
    ("Serve the full profile (the sandbox's) for one organization",
     "flexctl emulator serve --org my-space"),
    ("Then point flexctl at it", "export FLEXCTL_CLIENT_ID=emulator "
     "FLEXCTL_CLIENT_SECRET=emulator\n"
     "flexctl plan --api-url http://127.0.0.1:8765/api/v2"),
    ("Exactly the public API's capabilities, with faults and rate limits",
     "flexctl emulator serve --profile officernd --faults 500:0.05,429:0.05,seed:7 "
     "--rate-limit reads=400/min,writes=100/min"),
], exit_codes=[(0, "stopped with Ctrl-C"), (64, "a bad option, or the port is in use")])
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="0 picks a free port.")
@click.option("--db", "db", type=click.Path(dir_okay=False), help="SQLite file (default: memory).")
@click.option("--profile", type=click.Choice(["full", "officernd"]), default="full",
              show_default=True, help="officernd = exactly the public API's capabilities.")
@click.option("--org", "orgs", multiple=True, metavar="SLUG",
              help="Organization slug to serve (repeatable; default: demo).")
@click.option("--client-id", default="emulator", show_default=True,
              help="The OAuth2 client id it accepts.")
@click.option("--client-secret", default="emulator", show_default=True,
              help="The OAuth2 client secret it accepts.")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON or YAML fixture of live objects per organization.")
@click.option("--faults", metavar="SPEC",
              help="Inject failures, e.g. 500:0.10,429:0.05,drop:0.03,latency:50ms,seed:7.")
@click.option("--rate-limit", metavar="SPEC",
              help="Answer 429 above these rates, e.g. reads=400/min,writes=100/min.")
@click.option("--dialect", metavar="SPEC",
              help="Which variant of the platform's uncertain behaviours to play, "
              "e.g. membership_price=reject,fee_update=patch.")
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
    """Serve an OfficeRnD Flex API v2 emulator over HTTP until Ctrl-C.

    It prints the API base, the token URL and the client credentials to use. State is kept
    in memory unless --db names a file.
    """
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


@command.command("account", cls=Command, short_help="Set the sandbox's account status.",
                 examples=[
                     ("Activate the sandbox of the configuration in the current directory, as "
                      "OfficeRnD activates an account after onboarding",
                      "flexctl emulator account --status active"),
                     ("The sandbox of another configuration, or another sandbox file",
                      "flexctl emulator account --status onboarding examples/harbor-works\n"
                      "flexctl emulator account --status active --api-url local:sandbox.db "
                      "--org my-space"),
                 ],
                 exit_codes=[(0, "the status was set"), (1, "an error (no organization, a "
                             "sandbox that cannot be opened)"), USAGE])
@click.option("--status", type=click.Choice(["active", "onboarding"]), required=True,
              help="The account status to set.")
@click.option("--org", metavar="SLUG",
              help="Organization slug (default: the configuration's `organization`).")
@click.option("--api-url", metavar="URL",
              help="The sandbox: local (default: .flexctl/sandbox.db beside the configuration) "
                   "or local:FILE.")
@click.argument("path", type=click.Path(exists=True, path_type=Path), default=Path("."))
def account(status: str, org: str | None, api_url: str | None, path: Path) -> int:
    """Set the account status of an embedded sandbox.

    A new organization starts `onboarding`, and the automatic bill run cannot be turned on
    until the account is `active`: on OfficeRnD, the account becomes active when onboarding
    ends; on the sandbox, this command plays that part.
    """
    from flexctl.emulator.clock import Clock
    from flexctl.emulator.store import Store

    root = path if path.is_dir() else path.parent
    target = resolve_target(api_url, org, None, declared_organization(path), root)
    if target.sandbox_db is None:
        raise UsageError(
            "emulator account sets an embedded sandbox's status (--api-url local or "
            "local:FILE); on a served emulator use PUT /_emulator/organizations/ORG/account"
        )
    db = target.sandbox_db
    ensure_sandbox_directory(db)
    try:
        # The sandbox's writers share one lock: not while an apply writes to it.
        with target_lock(target):
            store = Store(str(db), Clock())
            try:
                store.set_account_status(target.org, status)
            finally:
                store.close()
    except sqlite3.Error as exc:
        raise TargetError(f"cannot use the sandbox database {db}: {exc}") from None
    click.echo(f"{target.org}: account status is now {status} (sandbox {db})")
    return 0
