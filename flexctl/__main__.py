from __future__ import annotations

from flexctl.cli import entry

entry()
