"""The `flexctl` command line: one click group, one module per command under `commands/`.

Commands are imported only when run (start-up stays fast), through loader functions that mypy
checks like any import. Commands return an exit code; every known error becomes one clean line
on stderr.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Sequence

import click

from flexctl import __version__
from flexctl.errors import ConfigError, FlexctlError
from flexctl.platform import stopping
from flexctl.redaction import RedactingFilter, RedactingStream


def _validate() -> click.Command:
    from flexctl.commands.validate import command

    return command


def _schema() -> click.Command:
    from flexctl.commands.schema import command

    return command


def _plan() -> click.Command:
    from flexctl.commands.plan import command

    return command


def _drift() -> click.Command:
    from flexctl.commands.drift import command

    return command


def _apply() -> click.Command:
    from flexctl.commands.apply import command

    return command


def _export() -> click.Command:
    from flexctl.commands.export import command

    return command


def _check() -> click.Command:
    from flexctl.commands.check import command

    return command


def _emulator() -> click.Command:
    from flexctl.commands.emulator import command

    return command


# name -> (loader, one line for `flexctl --help`). Adding a command is one entry here.
COMMANDS: dict[str, tuple[Callable[[], click.Command], str]] = {
    "validate": (_validate, "Check a configuration offline, with every error at once."),
    "schema": (_schema, "Print the JSON Schema of the configuration format."),
    "plan": (_plan, "Show what apply would change on the live organization."),
    "drift": (_drift, "Report where the live organization differs from the configuration."),
    "apply": (_apply, "Apply the configuration, or a saved plan, to the organization."),
    "export": (_export, "Write the live organization as configuration files."),
    "check": (_check, "Check what stands between the organization and its first payment."),
    "emulator": (_emulator, "Serve the local OfficeRnD Flex emulator, or set its account."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they run, not when flexctl starts."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        return entry[0]() if entry else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flexctl")
@click.option("--debug", is_flag=True, help="Log HTTP traffic (secrets redacted); show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep an OfficeRnD Flex organization's billing configuration in git."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter())  # every logger's records, not only ours


def main(argv: Sequence[str] | None = None) -> int:
    """Run flexctl; return the process exit code (never raise for a known error).

    Everything written to stdout and stderr passes the redactor: no secret flexctl knows (the
    client secret, tokens, the configuration's secrets) is ever shown, even when the platform
    echoes it back."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(stdout), RedactingStream(stderr)
    try:
        return _run(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = stdout, stderr


def _run(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    stopping.reset()
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
