"""Where flexctl keeps its caches, and how old an entry may be: read from the environment.

`FLEXCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/flexctl`, else `~/.cache/flexctl`, never the
configuration's directory. The snapshot cache (`flexctl.state.cache`) and the loaded
configuration's (`flexctl.config.stored`) live there; `FLEXCTL_CACHE_MAX_AGE` bounds the age of
the snapshot cache's reads, and `0` turns both caches' reads off.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from flexctl.errors import UsageError

CACHE_DIR_ENV = "FLEXCTL_CACHE_DIR"
CACHE_MAX_AGE_ENV = "FLEXCTL_CACHE_MAX_AGE"
DEFAULT_MAX_AGE = 24 * 3600.0
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$")
_AGE_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where cache files live: `FLEXCTL_CACHE_DIR`, else the XDG cache directory's `flexctl`."""
    env = os.environ if env is None else env
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "flexctl"


def max_age(env: Mapping[str, str] | None = None) -> float:
    """`FLEXCTL_CACHE_MAX_AGE` in seconds ("24h", "90m", "3600", "2d"; 0: always read in full)."""
    env = os.environ if env is None else env
    text = env.get(CACHE_MAX_AGE_ENV)
    if not text:
        return DEFAULT_MAX_AGE
    match = _AGE_RE.match(text.lower())
    if not match:
        raise UsageError(f"invalid {CACHE_MAX_AGE_ENV} {text!r}: expected e.g. 24h, 90m or 3600")
    return float(match.group(1)) * _AGE_UNITS[match.group(2) or "s"]
