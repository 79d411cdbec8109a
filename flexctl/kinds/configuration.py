"""The whole configuration: its model assembled from the registered kinds, and `load_config`.

`Config` is `ConfigBase` (version, organization, currency, policy) plus one field per kind
with a section, in dependency order; `policy.prune` accepts the names of the prunable kinds.
`load_config(path)` reads the YAML, validates it against that model and runs every kind's
rules, and returns a `LoadedConfig` or raises `ConfigError` with every issue at once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from flexctl.cachedir import max_age
from flexctl.config import validation
from flexctl.config.composer import YamlProblem
from flexctl.config.currency import CURRENCIES
from flexctl.config.loader import PositionIndex, dotted, files_of, load_tree, read_bytes
from flexctl.config.rules import Broken, Checker, Finding, KeyPath, located
from flexctl.config.types import ConfigBase, PolicyBase, is_slug
from flexctl.errors import ConfigError, ConfigIssue, UsageError
from flexctl.gcpause import gc_paused, keep_until_exit
from flexctl.kinds import registry, repricing
from flexctl.kinds.base import Kind


def keyed_sections(kinds: Sequence[Kind]) -> list[str]:
    """The sections that map keys to objects (the kinds', then the repricing campaigns)."""
    return [*(k.section for k in kinds if k.section and not k.singleton), repricing.SECTION]


@cache
def _model(kinds: tuple[Kind, ...]) -> type[ConfigBase]:
    prunable = tuple(k.name for k in kinds if k.prunable)
    base = PolicyBase.model_fields
    policy = create_model(
        "Policy",
        __base__=PolicyBase,
        prune=(list[Literal[prunable]], base["prune"]),  # type: ignore[valid-type]
    )
    sections: dict[str, Any] = {k.section: k.section_type() for k in kinds if k.section}
    described = Field(policy(), description=ConfigBase.model_fields["policy"].description)
    sections[repricing.SECTION] = repricing.section_field()
    return create_model("Config", __base__=ConfigBase, policy=(policy, described), **sections)


def config_model() -> type[ConfigBase]:
    """The `Config` model of the registered kinds."""
    return _model(registry())


def top_level_keys() -> frozenset[str]:
    """Every key a configuration file may have at its top level."""
    return frozenset(config_model().model_fields)


def schema_text() -> str:
    """The JSON Schema text `flexctl schema` prints and the repository commits."""
    from flexctl.config import schema  # only `flexctl schema` and its tests describe the format

    return schema.schema_text(config_model(), keyed_sections(registry()))


@dataclass(frozen=True)
class LoadedConfig:
    """A valid configuration with where it came from.

    The position of every key (`index`) is not kept once the configuration is valid: at 1x
    (54,000 objects) it is 240,000 entries, 65 MB, half of what a loaded configuration holds,
    and only a later problem found in the configuration (rare) needs it. `index` reads the
    files again, once, when asked."""

    config: ConfigBase
    files: list[Path]  # the YAML files read, in merge order
    root: Path  # absolute: PATH itself if a directory, else its parent
    digest: str  # "sha256:<hex>" of the canonical content (comments and layout excluded)
    source: Path  # PATH as given: a file or a directory
    found: tuple[Finding, ...] = ()  # the pricing lint's warnings, not yet located
    # Where the load knew the positions (`load_config(positions=True)`): the warnings, located.
    located: tuple[ConfigIssue, ...] | None = None

    @cached_property
    def warnings(self) -> tuple[ConfigIssue, ...]:
        """The pricing lint's warnings (never errors), located: by reading the files again
        where the load did not record positions (only `validate` shows them, and it does)."""
        if self.located is not None:
            return self.located
        return tuple(located(self.found, self.index)) if self.found else ()

    @cached_property
    def index(self) -> PositionIndex:
        """Where each key was written (read again from the files; see the class docstring)."""
        return load_tree(self.source, keyed_sections(registry()), top_level_keys()).index

    def locate(self, path: KeyPath) -> tuple[str, int, int]:
        """(file, line, column) of a path such as ("plans", "hot-desk", "price")."""
        return self.index.locate(path)

    def issue(self, path: KeyPath, message: str) -> ConfigIssue:
        """A located ConfigIssue, for later stages that find problems in the config."""
        return self.index.issue(path, message)


# A smaller configuration loads in less time (about 0.7 ms per KB) than the cache costs at start
# (importing pickle, hashing the loading code): it is not cached.
CACHED_FROM_BYTES = 64 * 1024


def load_config(path: str | Path, *, refresh: bool = False, cache: bool = True,
                store: bool = True, positions: bool = False) -> LoadedConfig:
    """Read PATH (a YAML file or a directory of them); raise ConfigError with every problem.

    A valid configuration of CACHED_FROM_BYTES or more is kept in the loaded-configuration
    cache (`flexctl.config.stored`) and read back from it while none of its files, nor
    flexctl, changed. `refresh` loads it anew (and stores it again), as
    `FLEXCTL_CACHE_MAX_AGE=0` does; `store=False` uses an entry but does not write one (storing
    costs a sixth of a load: not for a command CI runs once on a fresh machine); `cache=False`
    neither reads nor writes the cache (a configuration that is checked once, then thrown
    away). `positions=True` composes with every key's position and locates the warnings
    (`validate`, which shows them); otherwise positions are found only if a problem or
    `LoadedConfig.warnings` asks (a quarter of composing saved)."""
    with gc_paused():
        source = Path(path)
        loaded = (_cached(source, refresh, store, positions) if cache
                  else _load(source, positions=positions))
    keep_until_exit(loaded)  # the program ends without freeing it object by object
    return loaded


def _cached(source: Path, refresh: bool, store: bool, positions: bool) -> LoadedConfig:
    kinds = [f"{type(k).__module__}.{type(k).__qualname__}" for k in registry()]
    if not all(name.startswith("flexctl.") for name in kinds):
        # A kind from elsewhere (tests, extensions): its code is not hashed.
        return _load(source, positions=positions)
    try:
        files = files_of(source)
        contents = {file: read_bytes(file) for file in files}
    except (ConfigError, YamlProblem, OSError):
        return _load(source, positions=positions)  # which says what is wrong
    if sum(len(raw) for raw in contents.values()) < CACHED_FROM_BYTES:
        return _load(source, contents, positions=positions)
    from flexctl.config import stored  # pickle and all: only for a configuration worth it

    key = stored.entry_key(source, files, contents, kinds)
    entry = stored.entry_path(source)
    model = config_model()
    dynamic = _dynamic_classes(model)
    if not refresh and not _reads_off():
        found = stored.read(entry, key, dynamic)
        if (isinstance(found, tuple) and len(found) == 3 and isinstance(found[0], model)
                and isinstance(found[2], list)
                and all(isinstance(f, tuple) and len(f) == 3 for f in found[2])):
            config, digest_, findings = found
            stored.debug("%s read from %s", source, entry)
            return LoadedConfig(config, files, _root(source), digest_, source,
                                tuple((tuple(path), message, code)
                                      for path, message, code in findings))
    loaded = _load(source, contents, positions=positions)
    if store and loaded.files == files:  # else the directory changed while read: not stored
        findings = [(list(path), message, code) for path, message, code in loaded.found]
        stored.write(entry, key, (loaded.config, loaded.digest, findings), dynamic)
    return loaded


def _reads_off() -> bool:
    """`FLEXCTL_CACHE_MAX_AGE=0`: no cache is read (an invalid value is the snapshot cache's
    to report)."""
    try:
        return max_age() == 0
    except UsageError:
        return False


def _dynamic_classes(model: type[ConfigBase]) -> dict[str, type[BaseModel]]:
    """The classes `_model` makes, by the names the cache stores them under."""
    policy = model.model_fields["policy"].annotation
    assert isinstance(policy, type) and issubclass(policy, PolicyBase)
    return {"Config": model, "Policy": policy}


def _root(source: Path) -> Path:
    return Path(os.path.abspath(source if source.is_dir() else source.parent))


def _load(source: Path, contents: Mapping[Path, bytes] | None = None, *,
          positions: bool = False) -> LoadedConfig:
    kinds = registry()
    keyed = keyed_sections(kinds)
    # Without `positions`, without every key's position: only a problem asks for them (the
    # index composes the same bytes again then).
    tree = load_tree(source, keyed, top_level_keys(), contents, positions=positions)
    validated = validation.validate(tree.data, tree.index, config_model(), keyed)
    issues = validated.issues
    config = validated.config
    found: list[Finding] = []
    if isinstance(config, ConfigBase):
        checker = check(config, tree.index, validated.broken, kinds)
        issues = issues + checker.issues
        found = checker.found
    if tree.issues:  # a value that has none: the models' refusal of it would say less
        unresolved = {issue.path for issue in tree.issues}
        issues = tree.issues + [issue for issue in issues if issue.path not in unresolved]
    if issues or not isinstance(config, ConfigBase):
        raise ConfigError(issues)
    # Located now where the index is at hand (`positions`); else when asked, from the files
    # read again (`LoadedConfig.index`): the index is not kept, nor the bytes it would compose.
    where = tuple(located(found, tree.index)) if positions else None
    return LoadedConfig(config, tree.files, _root(source), digest(tree.data), source,
                        tuple(found), where)


def check(
    config: ConfigBase, index: PositionIndex, broken: Broken, kinds: Sequence[Kind]
) -> Checker:
    """Every semantic problem of a config the models accepted: the rules every configuration
    has (currency, slugs, one object per pinned id), then each kind's own; then, when there is
    none, the kinds' pricing warnings (`Kind.lint`)."""
    sections = {k.section: config.section(k.section) for k in kinds if k.section}
    nouns = {k.section: k.noun for k in kinds if k.section}
    checker = Checker(
        {s: v for s, v in sections.items() if isinstance(v, dict)},
        config.currency, index, broken, nouns, ignored=config.policy.ignore_warnings,
    )
    if "currency" not in broken and config.currency not in CURRENCIES:
        checker.add(("currency",), f"'{config.currency}' is not an ISO 4217 currency code")
    for section in keyed_sections(kinds):
        for key in config.section(section):
            if not is_slug(key):
                checker.add((section, key), f"key '{key}' must be a slug: lowercase letters, "
                            "digits, '-' and '_', starting with a letter or digit")
    for kind in kinds:
        pinned: dict[str, str] = {}
        for path, pin in kind.pins(config):
            where = dotted(path)
            other = pinned.setdefault(pin, where)
            if other != where:
                checker.add((*path, "id"), f"id {pin} is already pinned by {other}")
        kind.check(config, checker)
    repricing.check(config, checker)
    checker.amount(("policy", "money", "max_monthly_decrease"),
                   config.policy.money.max_monthly_decrease)
    if not checker.issues and not broken:
        for kind in kinds:
            kind.lint(config, checker)
    return checker


def digest(data: dict[str, Any]) -> str:
    """sha256 of the merged values as canonical JSON: the same for the same configuration,
    however it is split into files, commented or indented."""
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


_CANONICAL = frozenset({Decimal, date})  # what the loader makes that JSON has no type for


def _canonical(value: Any) -> str:
    # Called for each amount and date (100,000s at 1x): the class test first, it is the cheapest.
    if value.__class__ in _CANONICAL or isinstance(value, Decimal | date):
        return str(value)
    raise TypeError(f"unexpected value in a loaded config: {type(value).__name__}")
