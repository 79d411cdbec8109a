"""The generated documentation: the configuration reference and the command reference.

`python -m flexctl.docgen [DIR]` writes `configuration.md` (from the JSON Schema) and
`commands.md` (from the click commands) into DIR (default: `docs`); with `--check` it writes
nothing and exits 1 when a file is not current. Tests keep the committed files current.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from flexctl.docgen.commands import render_commands
from flexctl.docgen.configuration import render_configuration
from flexctl.fileio import write_atomic
from flexctl.kinds.configuration import schema_text

REGENERATE = "python -m flexctl.docgen"


def documents() -> dict[str, str]:
    """File name -> the text it must hold."""
    return {
        "configuration.md": render_configuration(json.loads(schema_text())),
        "commands.md": render_commands(),
    }


def stale(directory: Path) -> list[str]:
    """The generated files of `directory` that are missing or not current."""
    found = []
    for name, text in documents().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            found.append(str(path))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        print(f"usage: {REGENERATE} [--check] [DIR]", file=sys.stderr)
        return 64
    directory = Path(rest[0] if rest else "docs")
    if check:
        outdated = stale(directory)
        for path in outdated:
            print(f"{path} is not current; regenerate it with: {REGENERATE}", file=sys.stderr)
        return 1 if outdated else 0
    if not directory.is_dir():
        print(f"error: {directory} is not a directory", file=sys.stderr)
        return 1
    for name, text in documents().items():
        write_atomic(directory / name, text)
        print(f"Wrote {directory / name}", file=sys.stderr)
    return 0
