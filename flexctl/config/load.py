"""The public entry point: `load_config(path)` reads, validates and checks a configuration."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from flexctl.config import checks, validation
from flexctl.config.composer import Path as KeyPath
from flexctl.config.loader import PositionIndex, load_tree
from flexctl.config.models import Config
from flexctl.errors import ConfigError, ConfigIssue


@dataclass(frozen=True)
class LoadedConfig:
    """A valid configuration with where it came from."""

    config: Config
    files: list[Path]  # the YAML files read, in merge order
    root: Path  # absolute: PATH itself if a directory, else its parent
    digest: str  # "sha256:<hex>" of the canonical content (comments and layout excluded)
    index: PositionIndex

    def locate(self, path: KeyPath) -> tuple[str, int, int]:
        """(file, line, column) of a path such as ("plans", "hot-desk", "price")."""
        return self.index.locate(path)

    def issue(self, path: KeyPath, message: str) -> ConfigIssue:
        """A located ConfigIssue, for later stages that find problems in the config."""
        return self.index.issue(path, message)


def load_config(path: str | Path) -> LoadedConfig:
    """Read PATH (a YAML file or a directory of them); raise ConfigError with every problem."""
    source = Path(path)
    tree = load_tree(source)
    validated = validation.validate(tree.data, tree.index)
    issues = validated.issues
    if validated.config is not None:
        issues = issues + checks.check(validated.config, tree.index, validated.broken)
    if issues or validated.config is None:
        raise ConfigError(issues)
    config = validated.config
    root = Path(os.path.abspath(source if source.is_dir() else source.parent))
    return LoadedConfig(config, tree.files, root, digest(tree.data), tree.index)


def digest(data: dict[str, Any]) -> str:
    """sha256 of the merged values as canonical JSON: the same for the same configuration,
    however it is split into files, commented or indented."""
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, Decimal | date):
        return str(value)
    raise TypeError(f"unexpected value in a loaded config: {type(value).__name__}")
