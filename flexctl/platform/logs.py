"""flexctl's loggers, whose warnings reach a user as `Warning: …` lines on stderr.

Without `--debug` nothing configures logging, and Python would print a warning bare (its
"last resort" handler). `logger()` gives each logger the `flexctl` logger as parent, which holds
one handler that prints WARNING and above as `Warning: <message>`, and stands aside when the
root logger has a handler and logs at DEBUG (`--debug`, which shows every record itself).
stderr is the CLI's redacting stream, so no known secret gets through.
"""

from __future__ import annotations

import logging
import sys

_ROOT = "flexctl"


class _WarningLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        root = logging.getLogger()
        if (root.handlers and root.level <= logging.DEBUG) or record.name.startswith(
                "flexctl.emulator"):
            return  # --debug prints it; a served emulator's console has its own
        try:
            sys.stderr.write(f"Warning: {record.getMessage()}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # stderr closed or full: a warning is not worth failing the command


_installed = logging.getLogger(_ROOT)
if not any(isinstance(h, _WarningLines) for h in _installed.handlers):
    _installed.addHandler(_WarningLines())


def logger(name: str) -> logging.Logger:
    """The logger `name` (under `flexctl.`), its warnings shown as `Warning: …` lines."""
    return logging.getLogger(name)
