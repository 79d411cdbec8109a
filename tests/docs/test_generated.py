"""The generated references in docs/ are current, and the command reference documents exactly
the options the CLI has (checked again here from the markdown itself, not only by regenerating
it, so a hand edit that drops or invents an option fails too)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from flexctl.docgen import REGENERATE, documents, main, stale
from flexctl.docgen.commands import walk

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(documents()))
def test_the_committed_reference_is_current(name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == documents()[name], f"docs/{name} is stale; regenerate: {REGENERATE}"


def documented_options(text: str) -> dict[str, set[str]]:
    """Per `## \\`flexctl ...\\`` section, the option names its options table lists."""
    found: dict[str, set[str]] = {}
    for heading, body in re.findall(r"^## `(flexctl[^`]*)`\n(.*?)(?=^## |\Z)", text,
                                    re.S | re.M):
        rows = [line for line in body.splitlines() if line.startswith("| `-")]
        found[heading] = {name for row in rows
                          for name in re.findall(r"`(--?[\w-]+)`", row.split(" | ")[0])}
    return found


def cli_options(command: click.Command) -> set[str]:
    return {name for param in command.params if isinstance(param, click.Option)
            for name in (*param.opts, *param.secondary_opts)}


def test_every_command_and_option_of_the_cli_is_documented_and_nothing_else() -> None:
    documented = documented_options((DOCS / "commands.md").read_text(encoding="utf-8"))
    actual = {path: cli_options(command) for path, command in walk()}
    assert set(documented) == set(actual)
    for path, options in actual.items():
        missing, invented = options - documented[path], documented[path] - options
        assert not missing and not invented, (path, missing, invented)


def test_the_option_check_notices_a_missing_row() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    edited = text.replace("| `--detailed-exitcode` |", "| `--detailled-exitcode` |", 1)
    assert "--detailed-exitcode" not in documented_options(edited)["flexctl plan"]


def test_regenerating_writes_both_files_and_check_reports_staleness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert f"regenerate it with: {REGENERATE}" in capsys.readouterr().err
    assert main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(documents())
    assert stale(tmp_path) == [] and main(["--check", str(tmp_path)]) == 0
    (tmp_path / "commands.md").write_text("old\n", encoding="utf-8")
    assert stale(tmp_path) == [str(tmp_path / "commands.md")]
