"""The configuration format: loading YAML with positions, the models, semantic checks, schema.

Use `load_config(path)`; it returns a `LoadedConfig` or raises `ConfigError` with every issue.
"""

from __future__ import annotations

from flexctl.config.load import LoadedConfig, digest, load_config

__all__ = ["LoadedConfig", "digest", "load_config"]
