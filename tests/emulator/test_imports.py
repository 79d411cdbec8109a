"""The emulator's modules import one another in one direction only: no cycle, not even through
an import inside a function or under `TYPE_CHECKING`."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from pathlib import Path

import flexctl.emulator

PACKAGE = "flexctl.emulator"
INIT = "__init__"


def module_imports(source: str, modules: Set[str]) -> set[str]:
    """The package's modules (by short name; `__init__` for the package) that `source`
    imports anywhere: top level, inside functions, under `if TYPE_CHECKING`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _targets(alias.name, (), modules)
        elif isinstance(node, ast.ImportFrom):
            base = PACKAGE if node.level else (node.module or "")
            if node.level and node.module:
                base = f"{PACKAGE}.{node.module}"
            found |= _targets(base, [a.name for a in node.names], modules)
    return found


def _targets(name: str, names: list[str] | tuple[()], modules: Set[str]) -> set[str]:
    if name == PACKAGE:
        # `from flexctl.emulator import jsonutil` imports the submodule; any other name
        # (`create_app`) comes from the package's __init__.
        return {n if n in modules else INIT for n in names} or {INIT}
    if name.startswith(PACKAGE + "."):
        return {name[len(PACKAGE) + 1 :].split(".")[0]}
    return set()


def cycles(graph: Mapping[str, Set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (each one is a cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def emulator_graph() -> dict[str, set[str]]:
    folder = Path(flexctl.emulator.__file__).parent
    files = {path.stem: path for path in folder.glob("*.py")}
    modules = set(files)
    return {
        name: module_imports(path.read_text(encoding="utf-8"), modules) - {name}
        for name, path in files.items()
    }


def test_the_emulator_has_no_import_cycle() -> None:
    graph = emulator_graph()
    assert {"app", "api", "billing", "harness", "seed"} <= set(graph)
    assert cycles(graph) == []


def test_the_walk_sees_every_kind_of_import() -> None:
    modules = {"app", "api", "billing", "store", "harness", INIT}
    source = (
        "from typing import TYPE_CHECKING\n"
        "import flexctl.emulator.store\n"
        "from flexctl.emulator import api, create_app\n"
        "from .harness import handle\n"
        "if TYPE_CHECKING:\n"
        "    from flexctl.emulator.app import Emulator\n"
        "def later():\n"
        "    from flexctl.emulator import billing\n"
    )
    assert module_imports(source, modules) == {"store", "api", INIT, "harness", "app", "billing"}


def test_cycles_are_found_however_long() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"api": {"billing"}, "billing": {"api"}}) == [["api", "billing"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
