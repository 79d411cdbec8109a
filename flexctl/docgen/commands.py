"""The command reference (`docs/commands.md`), generated from the click commands themselves.

Each command's description, usage, options (with their defaults), examples and exit codes are
what `flexctl COMMAND --help` shows (`flexctl.commands.helptext`), so the reference and the
help cannot disagree; the prose around them is below.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from importlib import resources

import click

from flexctl.cli import COMMANDS, cli
from flexctl.commands.helptext import Documented

# The prose around the generated part, kept as markdown beside this module.
INTRO = (resources.files("flexctl.docgen") / "intro" / "commands.md").read_text("utf-8")


def walk() -> Iterator[tuple[str, click.Command]]:
    """Every command of `flexctl --help`, in its order, then each group's sub-commands."""
    for name in COMMANDS:
        command = COMMANDS[name][0]()
        yield f"flexctl {name}", command
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                yield f"flexctl {name} {sub}", command.commands[sub]


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def options_table(command: click.Command, ctx: click.Context) -> list[str]:
    rows = ["| option | value | default | description |", "| --- | --- | --- | --- |"]
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        names = ", ".join(f"`{name}`" for name in (*param.opts, *param.secondary_opts))
        value = "" if param.is_flag else f"`{cell(param.make_metavar(ctx))}`"
        default = param.default
        unset = default is None or callable(default) or type(default).__name__ == "Sentinel"
        shown = "" if param.is_flag or unset else f"`{default}`"
        if param.required:
            shown = "**required**"
        rows.append(f"| {names} | {value} | {shown} | {cell(param.help or '')} |")
    return rows


def examples(command: Documented) -> list[str]:
    if not command.examples:
        return []
    lines = ["Examples:", "", "```sh"]
    for number, (what, commands) in enumerate(command.examples):
        lines += ([""] if number else []) + [f"# {what}", *commands.splitlines()]
    return [*lines, "```", ""]


def exit_codes(command: Documented) -> list[str]:
    if not command.exit_codes:
        return []
    rows = ["| exit code | meaning |", "| --- | --- |"]
    rows += [f"| {code} | {cell(meaning)} |" for code, meaning in command.exit_codes]
    return ["Exit codes:", "", *rows, ""]


def section(path: str, command: click.Command) -> list[str]:
    ctx = click.Context(command, info_name=path)
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    lines = [f"## `{path}`", "", inspect.cleandoc(command.help or ""), "", "```",
             usage, "```", ""]
    if any(isinstance(p, click.Option) for p in command.params):
        lines += [*options_table(command, ctx), ""]
    if isinstance(command, click.Group):
        names = ", ".join(f"[`{path} {n}`](#{(path + ' ' + n).replace(' ', '-')})"
                          for n in sorted(command.commands))
        lines += [f"Commands: {names}.", ""]
    if isinstance(command, Documented):
        lines += examples(command) + exit_codes(command)
    return lines


def render_commands() -> str:
    """The markdown reference of every command."""
    ctx = click.Context(cli, info_name="flexctl")
    assert isinstance(cli, Documented)
    codes = exit_codes(cli)[2:]  # the table without its "Exit codes:" title
    lines = [INTRO.format(global_options="\n".join(options_table(cli, ctx)),
                          exit_codes="\n".join(codes).rstrip())]
    for path, command in walk():
        lines += section(path, command)
    return "\n".join(lines).rstrip("\n") + "\n"
