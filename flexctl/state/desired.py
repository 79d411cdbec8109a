"""The desired state: the configuration's objects per kind, normalized by their kinds."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.kinds import registry, with_references
from flexctl.kinds.base import Obj


class LoadedConfigLike(Protocol):
    """The part of `flexctl.config.LoadedConfig` the snapshot uses."""

    @property
    def config(self) -> ConfigBase: ...


def desired_state(
    loaded: LoadedConfigLike, secrets: SecretResolver, kinds: Collection[str] | None = None
) -> dict[str, list[Obj]]:
    """The config's objects per kind: the kinds it declares or prunes.

    With `kinds`, those kinds and the kinds they reference (needed to match references).
    """
    config = loaded.config
    scope = with_references(kinds) if kinds is not None else None
    prune = set(config.policy.prune)
    out: dict[str, list[Obj]] = {}
    for kind in registry():
        if scope is not None and kind.name not in scope:
            continue
        objs = kind.desired(config, secrets)
        if objs or kind.name in prune:
            out[kind.name] = objs
    return out


