"""The `flexctl` command line: one click group, one module per command under `commands/`.

Commands return an exit code; every known error becomes one clean line on stderr.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

import click

from flexctl import __version__
from flexctl.errors import ConfigError, FlexctlError

# Each module defines `command: click.Command`. Adding a command is one line here.
COMMAND_MODULES = (
    "validate",
    "schema",
    "plan",
    "drift",
    "apply",
    "export",
    "check",
    "emulator",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flexctl")
@click.option("--debug", is_flag=True, help="Log HTTP traffic (secrets redacted); show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep an OfficeRnD Flex organization's billing configuration in git."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"flexctl.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"flexctl.commands.{name}":
                raise
            continue  # command not built yet
        cli.add_command(module.command)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Run flexctl; return the process exit code (never raise for a known error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:  # accepted after the command too (`flexctl plan --debug`), as users type it
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        result = cli.main(args=args, prog_name="flexctl", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort as exc:
        # click turns Ctrl-C into Abort; keep the conventional 130 for an interrupt and
        # 1 for a prompt that ended without an answer (EOF).
        if isinstance(exc.__context__, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            return 130
        click.echo("Aborted.", err=True)
        return 1
    except click.UsageError as exc:
        exc.show()
        return 64
    except click.ClickException as exc:
        exc.show()
        return 1
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        return exc.exit_code
    except FlexctlError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            traceback.print_exc()
        click.echo(f"Internal error: {type(exc).__name__}: {exc} (run with --debug)", err=True)
        return 1
    return int(result or 0)
