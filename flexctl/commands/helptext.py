"""How every command's `--help` reads: what it does, its options, examples and exit codes.

Commands are declared with `cls=Command` (groups with `cls=Group`) and pass `examples`
(`(what it does, command lines)`) and `exit_codes` (`(code, meaning)`); `--help` prints them
after the options, and the command reference in `docs/commands.md` is generated from the same
data (`flexctl.docgen`), so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

Example = tuple[str, str]  # (what it does, one or more command lines separated by "\n")
ExitCode = tuple[int, str]

USAGE: ExitCode = (64, "usage error: an unknown option or a bad value (nothing was done)")
INTERRUPTED: ExitCode = (130, "interrupted (Ctrl-C)")


class Documented:
    """The examples and exit codes of a command, printed at the end of its help."""

    examples: tuple[Example, ...] = ()
    exit_codes: tuple[ExitCode, ...] = ()

    def __init__(
        self,
        *args: Any,
        examples: Sequence[Example] = (),
        exit_codes: Sequence[ExitCode] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)  # click's Command or Group, next in the order
        self.document(examples, exit_codes)

    def document(self, examples: Sequence[Example], exit_codes: Sequence[ExitCode]) -> None:
        self.examples = tuple(examples)
        self.exit_codes = tuple(exit_codes)

    def format_examples(self, formatter: click.HelpFormatter) -> None:
        if self.examples:
            with formatter.section("Examples"):
                for number, (what, lines) in enumerate(self.examples):
                    if number:
                        formatter.write("\n")
                    formatter.write_text(what)
                    for line in lines.splitlines():  # command lines are never re-wrapped
                        formatter.write(f"{'':>{formatter.current_indent + 2}}{line}\n")
        if self.exit_codes:
            with formatter.section("Exit codes"):
                formatter.write_dl([(str(code), meaning) for code, meaning in self.exit_codes])


class Command(Documented, click.Command):
    """A flexctl command: click's, with examples and exit codes in its help."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.format_examples(formatter)
        super().format_epilog(ctx, formatter)


class Group(Documented, click.Group):
    """A flexctl command group: its commands listed with their whole one-line help."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                # click cuts a short help at 45 characters, mid-sentence; never cut it.
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.format_examples(formatter)
        super().format_epilog(ctx, formatter)
