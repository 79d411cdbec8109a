"""The `flexctl` command line: one click group, one module per command under `commands/`.

Commands are imported only when run (start-up stays fast), through loader functions that mypy
checks like any import. Commands return an exit code; every known error becomes one clean line
on stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import click

from flexctl import __version__
from flexctl.commands.helptext import INTERRUPTED, USAGE, Group
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


def _confirm() -> click.Command:
    from flexctl.commands.confirm import command

    return command


def _doctor() -> click.Command:
    from flexctl.commands.doctor import command

    return command


def _cohorts() -> click.Command:
    from flexctl.commands.cohorts import command

    return command


def _notices() -> click.Command:
    from flexctl.commands.notices import command

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
    "confirm": (_confirm, "Record manual steps the platform's API cannot verify as done."),
    "cohorts": (_cohorts, "Show who pays which price for each plan: the grandfathered cohorts."),
    "doctor": (_doctor, "Check, by reading only, what flexctl needs of the target."),
    "notices": (_notices, "Write a repricing campaign's notice letters as a mail-merge CSV."),
    "emulator": (_emulator, "Serve the local OfficeRnD Flex emulator, or set its account."),
}


class LazyGroup(Group):
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


# Global flags that users also type after the command (`flexctl plan --debug`).
GLOBAL_FLAGS = ("--debug", "--no-color")


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Run `flexctl COMMAND --help` for a command's options, examples and exit codes. "
    "Shell completion: eval \"$(_FLEXCTL_COMPLETE=bash_source flexctl)\" in ~/.bashrc "
    "(zsh_source for zsh, fish_source for fish).",
    examples=[
        ("Try the example configuration on the embedded sandbox (no account needed)",
         "export HARBOR_STRIPE_SECRET_KEY=sk_test_sandbox_4242\n"
         "flexctl validate examples/harbor-works\n"
         "flexctl plan examples/harbor-works\n"
         "flexctl apply examples/harbor-works"),
    ],
    exit_codes=[
        (0, "success; for plan --detailed-exitcode and drift: no changes"),
        (1, "an error (one line on stderr, never a traceback)"),
        (2, "changes present (plan --detailed-exitcode), drift, or not ready (check)"),
        (3, "something is blocked, or a saved plan is stale"),
        USAGE, INTERRUPTED,
    ],
)
@click.version_option(__version__, prog_name="flexctl")
@click.option("--debug", is_flag=True, help="Log HTTP traffic (secrets redacted); show tracebacks.")
@click.option("--no-color", is_flag=True,
              help="No colours in the output (also NO_COLOR=1, and TERM=dumb).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool) -> None:
    """Keep an OfficeRnD Flex organization's billing configuration in git.

    Validate the YAML offline, plan against the live organization, apply the plan, and check
    what stands between the organization and its first payment. Every command that talks to
    a platform runs on the embedded sandbox unless --api-url says otherwise.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["no_color"] = no_color
    if ctx.invoked_subcommand is None:  # `flexctl` alone: the help, as a friendly start
        click.echo(ctx.get_help())
        return
    if debug:
        import logging  # only for --debug: most runs log nothing

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter())  # every logger's records, not only ours
        # flexctl.http logs each request, its headers and error bodies; httpx's own line per
        # request and httpcore's trace of every socket step would only bury them.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run flexctl; return the process exit code (never raise for a known error).

    Everything written to stdout and stderr passes the redactor: no secret flexctl knows (the
    client secret, tokens, the configuration's secrets) is ever shown, even when the platform
    echoes it back."""
    # pydantic looks for plugins (entry points of every installed distribution) when it builds
    # the first model; flexctl's models take none, so its own process skips the search, unless
    # the user set the variable themselves.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    stdout, stderr = sys.stdout, sys.stderr
    # A closed descriptor (`flexctl plan >&-`) leaves Python no stream: what would go there
    # goes nowhere, and the command still runs and says how it ended by its exit code.
    sys.stdout = RedactingStream(stdout or open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    sys.stderr = RedactingStream(stderr or open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    try:
        try:
            return _run(argv)
        except KeyboardInterrupt:  # a further Ctrl-C while the first was being reported
            return 130
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # reported already, if it failed
                stream.flush()
        sys.stdout, sys.stderr = stdout, stderr


def _run(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    stopping.reset()
    debug = "--debug" in args
    given = [flag for flag in GLOBAL_FLAGS if flag in args]
    if given:  # accepted after the command too (`flexctl plan --debug`), as users type it
        args = [*given, *(a for a in args if a not in given)]
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
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:
        return _failed(exc, debug)
    return int(result or 0)


def _failed(exc: Exception, debug: bool) -> int:
    """Report an error that is not click's as one line; return the exit code. The error
    classes are imported here, not at start-up: whatever raised one has loaded them."""
    from flexctl.errors import ConfigError, FlexctlError

    if isinstance(exc, ConfigError):
        click.echo(str(exc), err=True)
        return exc.exit_code
    if debug:
        import traceback  # only with --debug, after an error

        traceback.print_exc()
    if isinstance(exc, FlexctlError):
        click.echo(f"Error: {exc}", err=True)
        return exc.exit_code
    if isinstance(exc, OSError):  # the system's refusal (a full disk...), not a bug of ours
        where = f": {exc.filename}" if exc.filename else ""
        with contextlib.suppress(OSError, ValueError):  # stderr may be what refuses
            click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
        return 1
    # a bug: still one line unless --debug
    click.echo(f"Internal error: {type(exc).__name__}: {exc} (run with --debug)", err=True)
    return 1


def entry() -> NoReturn:
    """The `flexctl` program: run, then exit with the code. Once the code is known, a Ctrl-C
    while the interpreter winds down (threads still waiting on the network are joined) exits
    at once with 130, instead of a traceback and death by SIGINT.

    With no other thread left, the process ends at once once its output is flushed and its
    exit handlers have run, without freeing the configuration, snapshot and plan one object at
    a time (`flexctl.gcpause.keep_until_exit`): a second's work at 1x, for nothing."""
    from flexctl.gcpause import hold_until_exit

    hold_until_exit()
    code = main()
    import signal
    import threading

    if threading.active_count() == 1:
        _end_now(code)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))
    sys.exit(code)


def _end_now(code: int) -> None:
    """End the process with `code` as the interpreter would, minus freeing every object;
    return (and let the interpreter end it) if the output cannot be flushed."""
    import atexit

    streams = [stream for stream in (sys.stdout, sys.stderr) if stream is not None]
    try:
        for stream in streams:
            stream.flush()
    except (OSError, ValueError):  # a closed pipe: the interpreter's own exit reports it
        return
    atexit._run_exitfuncs()
    for stream in streams:  # what the exit handlers wrote
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
