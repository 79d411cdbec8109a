"""The engines name no kind: a kind's facts and rules live in its module under flexctl/kinds/.

Also: every command `flexctl --help` lists loads, under its own name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flexctl.cli import COMMANDS
from flexctl.kinds import names

PACKAGE = Path(__file__).resolve().parents[2] / "flexctl"
# The generic engines and what feeds them; readiness (the "ready to get paid" checklist) and
# the emulator are about particular kinds by nature.
ENGINES = ["config", "state", "platform", "reconcile", "export", "commands", "session.py", "cli.py"]


def engine_files() -> list[Path]:
    files: list[Path] = []
    for part in ENGINES:
        path = PACKAGE / part
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def kind_names_in(path: Path) -> list[str]:
    """String literals that are a kind's name, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    kinds = set(names())
    return [
        f"{path.name}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and node.value in kinds and id(node) not in docstrings
    ]


def test_the_engines_name_no_kind() -> None:
    found = [hit for path in engine_files() for hit in kind_names_in(path)]
    assert found == []


def test_the_check_finds_a_kind_name() -> None:
    sample = PACKAGE.parent / "tests" / "architecture" / "sample_engine.txt"
    assert kind_names_in(sample) == ["sample_engine.txt:5: 'fees'"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_loads(name: str) -> None:
    command = COMMANDS[name][0]()
    assert command.name == name
