"""Read a configuration file or directory into plain values, guarded, with positions.

`load_tree(path)` reads one YAML file, or every `*.yaml`/`*.yml` under a directory (recursively,
sorted by path, skipping hidden files and directories such as `.flexctl/`, and the directory's
own `confirmations.yaml`, which records manual steps and holds no configuration), refuses what
flexctl does not accept (huge, binary or non-UTF-8 files, control characters and line
separators, then through `composer`: tabs, aliases, tags, several documents, deep nesting,
duplicate keys) and merges the files' top-level sections key by key. Every such problem is
collected and raised at once as a `ConfigError`. A value that has none (a date that does not
exist: 2026-02-30) does not stop the load: its issue is kept in `SourceTree.issues`, to be
reported with the schema and rule errors of the rest.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Callable, Collection, Mapping
from pathlib import Path as FsPath
from typing import Any

from flexctl.config.composer import (
    Document,
    Path,
    Position,
    YamlProblem,
    compose,
    offset_position,
)
from flexctl.errors import ConfigError, ConfigIssue

# One file larger than this is refused before it is read: a config that big belongs in a
# directory of smaller files, and the limit keeps a stray dump or log from eating memory.
MAX_FILE_BYTES = 10 * 1024 * 1024
YAML_SUFFIXES = (".yaml", ".yml")
# Beside the configuration, not part of it: the manual steps `flexctl confirm` recorded.
CONFIRMATIONS_FILE = "confirmations.yaml"
# YAML allows tab, LF, CR and printable characters only (YAML 1.2, section 5.1). NEL, LS and
# PS are refused too: libyaml (YAML 1.1) ends a line at each, YAML 1.2 and most editors do not,
# so every position after one would be off.
_REFUSED_CHARACTER = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]"
)
_LINE_SEPARATORS = frozenset("\x85\u2028\u2029")


def display_name(path: FsPath) -> str:
    """The path as shown in messages: relative to the current directory when under it."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative


class PositionIndex:
    """Where each key and list item of the merged configuration was written.

    A file composed without positions (`load_tree(positions=False)`: a valid configuration
    never asks) has None in `per_file`; the first question about any such file composes all of
    them again from the same text (`reload`), positions and all."""

    __slots__ = ("_reload", "names", "owners", "per_file")

    def __init__(
        self, names: list[str], per_file: list[dict[Path, Position] | None],
        owners: dict[Path, int],
        reload: Callable[[], list[dict[Path, Position] | None]] | None = None,
    ) -> None:
        self.names = names  # display name of each file
        self.per_file = per_file
        self.owners = owners  # top-level key, and (section, key), -> index of the defining file
        self._reload = reload

    def positions_of(self, number: int) -> dict[Path, Position]:
        """The positions in the file `number`."""
        found = self.per_file[number]
        if found is None and self._reload is not None:
            self.per_file, self._reload = self._reload(), None
            found = self.per_file[number]
        return {} if found is None else found

    def locate(self, path: Path) -> tuple[str, int, int]:
        """(file, line, column) of `path`, or of its closest written ancestor."""
        for length in range(len(path), 0, -1):
            prefix = path[:length]
            owner = self.owners.get(prefix[:2]) if length >= 2 else None
            if owner is None:
                owner = self.owners.get(prefix[:1])
            if owner is not None:
                position = self.positions_of(owner).get(prefix)
                if position is not None:
                    return (self.names[owner], *position)
        return (self.names[0], 1, 1) if self.names else ("<config>", 1, 1)

    def issue(self, path: Path, message: str) -> ConfigIssue:
        """A located issue for `path` (dotted in the message: plans.hot-desk.price)."""
        file, line, column = self.locate(path)
        return ConfigIssue(file, line, column, dotted(path), message)


def dotted(path: Path) -> str:
    return ".".join(f"[{part}]" if isinstance(part, int) else part for part in path).replace(
        ".[", "["
    )


class SourceTree:
    """The merged plain values of every file, with their positions, and the issues of the
    values that have none (each stands as a `composer.Unresolved`, which no model accepts)."""

    __slots__ = ("data", "files", "index", "issues")

    def __init__(self, data: dict[str, Any], files: list[FsPath], index: PositionIndex,
                 issues: list[ConfigIssue] | None = None) -> None:
        self.data = data
        self.files = files
        self.index = index
        self.issues = [] if issues is None else issues


def discover(path: FsPath) -> list[FsPath]:
    """The YAML files of a directory, recursively and sorted; hidden entries are skipped, and
    so is the directory's own `confirmations.yaml` (not configuration: see `flexctl confirm`)."""
    found: list[FsPath] = []
    confirmations = FsPath(path, CONFIRMATIONS_FILE)
    for directory, subdirectories, filenames in os.walk(path):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        found.extend(
            FsPath(directory, name)
            for name in filenames
            if name.endswith(YAML_SUFFIXES) and not name.startswith(".")
        )
    return sorted(file for file in found if file != confirmations)


def peek(path: FsPath, key: str) -> str | None:
    """The string value of a top-level `key` in the configuration at `path` (a file or the
    files `discover` finds), read without validating: for a quick look before the full load
    (an unreadable or invalid file is `validate`'s business, and is skipped here)."""
    try:
        files = [path] if path.is_file() else discover(path) if path.is_dir() else []
    except OSError:
        return None
    for file in files:
        try:
            value = read_document(file).value.get(key)
        except (YamlProblem, OSError):
            continue
        if isinstance(value, str):
            return value
    return None


def load_tree(
    path: FsPath, keyed_sections: Collection[str] = (), known: Collection[str] = (),
    contents: Mapping[FsPath, bytes] | None = None, *, positions: bool = True,
) -> SourceTree:
    """Read and merge a config file or directory; raise ConfigError listing every problem.

    A null section among `keyed_sections` (every entry commented out) merges as empty. In a
    directory, a file with none of the `known` top-level keys is another tool's (a
    docker-compose.yml): an error that says to move it out, not a clash of its keys.
    `contents` holds files already read (`read_bytes`), taken instead of reading them again:
    what was hashed is then exactly what was parsed. `positions=False` composes the files
    without the position of every key where nothing needs reporting; the index composes them
    again, from the same bytes, the first time it is asked (`PositionIndex`)."""
    files = files_of(path)
    contents = dict(contents or {})
    names = [display_name(file) for file in files]
    issues: list[ConfigIssue] = []
    unresolved: list[ConfigIssue] = []  # reported with the rest, when the load goes on
    documents: list[Document] = []
    in_directory = path.is_dir()
    for file, file_name in zip(files, names, strict=True):
        try:
            if not positions and file not in contents:
                contents[file] = _read_raw(file)  # kept: the index may compose it again
            document = read_document(file, contents.get(file), positions=positions)
            if in_directory and known:
                _refuse_foreign(document, known)
        except YamlProblem as problem:
            where = (file_name, problem.line, problem.column, dotted(problem.path))
            message = problem.message
            if in_directory and problem.foreign:
                message += f"; {_MOVE_IT_OUT.format(directory=display_name(path))}"
            issues.append(ConfigIssue(*where, message))
            continue
        issues.extend(_duplicate_issues(file_name, document))
        unresolved.extend(unresolved_issues(file_name, document))
        documents.append(document)
    if issues:
        raise ConfigError(issues + unresolved)

    def reload() -> list[dict[Path, Position] | None]:
        return [read_document(file, contents[file]).positions for file in files]

    return _merge(files, names, documents, keyed_sections, unresolved,
                  None if positions else reload)


def files_of(path: FsPath) -> list[FsPath]:
    """PATH itself, or the YAML files of the directory PATH; ConfigError when there is none."""
    name = display_name(path)
    try:
        if path.is_dir():
            files = discover(path)
            if not files:
                message = "no *.yaml or *.yml files in this directory"
                raise ConfigError([ConfigIssue(name, 1, 1, "", message)])
            return files
        if path.exists() or path.is_symlink():
            return [path]  # a dangling symlink is reported when it is read
    except OSError as exc:  # e.g. a name too long for the file system
        message = f"cannot use this path: {exc.strerror or exc}"
        raise ConfigError([ConfigIssue(name, 1, 1, "", message)]) from None
    raise ConfigError([ConfigIssue(name, 1, 1, "", "no such file or directory")])


def _duplicate_issues(name: str, document: Document) -> list[ConfigIssue]:
    issues = []
    for path, first, again in document.duplicates:
        message = f"duplicate key '{path[-1]}' (first defined at {name}:{first[0]}:{first[1]})"
        issues.append(ConfigIssue(name, again[0], again[1], dotted(path), message))
    return issues


def unresolved_issues(name: str, document: Document) -> list[ConfigIssue]:
    """The issues of the file's plain scalars that have no value, where each is written."""
    return [ConfigIssue(name, line, column, dotted(path), message)
            for path, (line, column), message in document.unresolved]


_MOVE_IT_OUT = (
    "flexctl reads every .yaml and .yml file under {directory}, so if this file belongs to "
    "another tool, move it out of that directory (or keep the configuration in a directory of "
    "its own; hidden directories such as .github/ are skipped)"
)


def _refuse_foreign(document: Document, known: Collection[str]) -> None:
    """Refuse a file that is not flexctl's: no top-level key flexctl knows (a `version` that
    is not 1 does not count) and none that looks like a misspelt one."""
    keys = [str(key) for key in document.value]
    ours = [k for k in keys if k in known and (k != "version" or document.value[k] == 1)]
    typos = [k for k in keys if k not in known
             and difflib.get_close_matches(k, list(known), n=1, cutoff=0.75)]
    if ours or typos:
        return
    shown = ", ".join(f"'{key}'" for key in keys[:5]) + (", ..." if len(keys) > 5 else "")
    problem = YamlProblem(1, 1, f"this is not a flexctl configuration file (its top-level "
                                f"keys are {shown})")
    problem.foreign = True
    raise problem


def declared_organization(path: FsPath) -> str | None:
    """The `organization` the configuration at PATH declares, read without validating it;
    None when PATH holds none (or its files cannot be read: that is validate's business)."""
    return peek(path, "organization")


def holds_configuration(directory: FsPath, known: Collection[str]) -> bool:
    """Whether a YAML file directly in `directory` has a top-level key flexctl knows: the
    directory is (part of) a configuration, and every YAML file under it would be merged."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return False
    for name in names:
        if not name.endswith(YAML_SUFFIXES) or name.startswith("."):
            continue
        try:
            document = read_document(FsPath(directory, name))
        except YamlProblem:
            continue
        if any(key in known and key != "version" for key in document.value):
            return True
    return False


def read_document(file: FsPath, raw: bytes | None = None, *, positions: bool = True) -> Document:
    """One YAML file whose top level is a mapping, with positions (unless `positions=False`:
    `compose`); `YamlProblem` otherwise. `raw`: the file's bytes, already read by `read_bytes`."""
    text = _read_text(file, raw)
    if not text.strip():
        raise YamlProblem(1, 1, "the file is empty: expected a mapping such as 'version: 1'")
    document = compose(text, positions=positions)
    if document.value is None:
        raise YamlProblem(1, 1, "the file holds no configuration (only comments or null)")
    if not isinstance(document.value, dict):
        kind = "a list" if isinstance(document.value, list) else "a single value"
        problem = YamlProblem(1, 1, f"the top level must be a mapping of sections, got {kind}")
        problem.foreign = True  # a list at the top: an Ansible playbook, say
        raise problem
    return document


def _read_raw(file: FsPath) -> bytes:
    try:
        return read_bytes(file)
    except OSError as exc:
        raise YamlProblem(1, 1, f"cannot read the file: {exc.strerror or exc}") from None


def _read_text(file: FsPath, raw: bytes | None = None) -> str:
    if raw is None:
        raw = _read_raw(file)
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise YamlProblem(*offset_position(raw, nul), "binary content: this is not a YAML text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = offset_position(raw, exc.start)
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        raise YamlProblem(line, column, message) from None
    bad = _REFUSED_CHARACTER.search(text)
    if bad:
        line, column = offset_position(text, bad.start())
        code = f"U+{ord(bad.group()):04X}"
        if bad.group() in _LINE_SEPARATORS:
            message = (
                f"line separator {code} is not allowed: YAML readers and editors disagree "
                "on whether it ends a line; use a newline"
            )
        else:
            message = f"control character {code} is not allowed in YAML"
        raise YamlProblem(line, column, message)
    return text


def read_bytes(file: FsPath) -> bytes:
    """The file's bytes, refusing (`YamlProblem`) what is not a regular file or is over the
    size limit."""
    status = file.stat()  # before opening: opening a FIFO would wait for a writer
    if not stat.S_ISREG(status.st_mode):
        raise YamlProblem(1, 1, "cannot read: it is not a regular file")
    with file.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)  # the size may change while reading
    if len(raw) > MAX_FILE_BYTES:
        size = max(status.st_size, len(raw)) / 1024 / 1024
        raise YamlProblem(
            1,
            1,
            f"the file is {size:.1f} MB, over the {MAX_FILE_BYTES // 1024 // 1024} MB limit "
            "for one file; split the configuration into several files in a directory",
        )
    return raw


def _merge(
    files: list[FsPath],
    names: list[str],
    documents: list[Document],
    keyed_sections: Collection[str],
    unresolved: list[ConfigIssue],
    reload: Callable[[], list[dict[Path, Position] | None]] | None = None,
) -> SourceTree:
    """Merge top-level sections key by key; a key defined in two files is an error (raised
    with the `unresolved` values' issues, which are otherwise the tree's)."""
    merged: dict[str, Any] = {}
    owners: dict[Path, int] = {}
    issues: list[ConfigIssue] = []
    per_file = [document.positions for document in documents]
    index = PositionIndex(names, per_file, owners, reload)
    for number, document in enumerate(documents):
        for section, value in document.value.items():
            if value is None and section in keyed_sections:
                value = {}  # "companies:" with every entry commented out: no companies
            first = owners.get((section,))
            if first is None:
                owners[(section,)] = number
                merged[section] = value
                if isinstance(value, dict):
                    owners.update(((section, key), number) for key in value)
                continue
            earlier = merged[section]
            if isinstance(earlier, dict) and isinstance(value, dict):
                for key, item in value.items():
                    where = owners.get((section, key))
                    if where is not None:
                        issues.append(_clash(index, number, (section, key), where))
                        continue
                    owners[(section, key)] = number
                    earlier[key] = item
            elif type(earlier) is not type(value) or earlier != value:
                issues.append(_clash(index, number, (section,), first, "with a different value"))
    if issues:
        raise ConfigError(issues + unresolved)
    return SourceTree(merged, files, index, unresolved)


def _clash(index: PositionIndex, number: int, path: Path, first: int, how: str = "") -> ConfigIssue:
    line, column = index.positions_of(number)[path]
    was = index.positions_of(first)[path]
    where = f"{index.names[first]}:{was[0]}:{was[1]}"
    what = f"'{path[-1]}'" if len(path) == 1 else f"key '{path[-1]}' of '{path[0]}'"
    message = f"{what} is already defined at {where}" + (f" {how}" if how else "")
    return ConfigIssue(index.names[number], line, column, dotted(path), message)
