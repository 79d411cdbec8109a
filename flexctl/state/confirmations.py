"""Confirmed manual steps: what a person attests was done by hand where no API can tell.

The real platform cannot read some kinds at all (payment gateways, invoicing settings, the
storefront), so a plan can never see that their manual step was done. `flexctl confirm` records,
in `confirmations.yaml` beside the configuration (plain YAML, committed and reviewed with it),
per object: the digest of its desired state, who confirmed it and when. While the object's
configuration is unchanged the confirmation holds, and plan, drift and check treat the object
as done; once it changes, the digest differs, the confirmation lapses and the manual step
returns. Objects a target can read are verified by reading and never consult this file.
"""

from __future__ import annotations

import getpass
import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flexctl.config.composer import Position, YamlProblem
from flexctl.config.loader import (
    CONFIRMATIONS_FILE,
    display_name,
    dotted,
    read_document,
    unresolved_issues,
)
from flexctl.errors import ConfigError, ConfigIssue
from flexctl.fileio import write_atomic
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.configuration import digest as canonical_digest

VERSION = 1
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_ENTRY_KEYS = {"digest": True, "by": True, "at": True, "note": False}  # name -> required
HEADER = """\
# Manual steps confirmed with `flexctl confirm`: objects the platform's API cannot read, set up
# by hand in the admin portal exactly as configured. A confirmation holds while the object's
# configuration is unchanged (`digest`); when it changes, the manual step returns. Commit this
# file with the configuration; flexctl validate does not read it.
"""


@dataclass(frozen=True)
class Confirmation:
    """One object confirmed by a person: the digest of what was confirmed, who and when."""

    address: str
    digest: str
    by: str
    at: str  # ISO 8601, UTC, to the second: "2026-12-02T10:00:00Z"
    note: str | None = None

    def describe(self) -> str:
        """`confirmed by Jane Doe <jane@example.com> on 2026-12-02T10:00:00Z ("note")`."""
        note = f" ({json.dumps(self.note, ensure_ascii=False)})" if self.note else ""
        return f"confirmed by {self.by} on {self.at}{note}"

    def data(self) -> dict[str, Any]:
        return {"address": self.address, "by": self.by, "at": self.at, "note": self.note}


def state_digest(kind: Kind, obj: Obj, organization: str) -> str:
    """The digest a confirmation of `obj` records: its organization, address and confirmed
    state (`Kind.confirmed_state`), as canonical JSON; the same on every run and machine."""
    state = dict(kind.confirmed_state(obj))
    return canonical_digest({"organization": organization, "address": obj.address,
                             "state": state})


@dataclass
class Confirmations:
    """The confirmations file of one configuration (empty when there is none yet)."""

    path: Path
    organization: str
    entries: dict[str, Confirmation] = field(default_factory=dict)

    def holding(self, kind: Kind, obj: Obj) -> Confirmation | None:
        """The confirmation of `obj` if it confirmed exactly its current desired state."""
        found = self.entries.get(obj.address)
        if found is None or found.digest != state_digest(kind, obj, self.organization):
            return None
        return found

    def lapsed(self, kind: Kind, obj: Obj) -> Confirmation | None:
        """A confirmation of `obj` made for an earlier configuration of it."""
        found = self.entries.get(obj.address)
        return found if found is not None and self.holding(kind, obj) is None else None

    def record(self, kind: Kind, obj: Obj, by: str, at: str, note: str | None) -> Confirmation:
        """Confirm `obj` as it is configured now (replacing an earlier confirmation)."""
        confirmation = Confirmation(obj.address, state_digest(kind, obj, self.organization),
                                    by, at, note)
        self.entries[obj.address] = confirmation
        return confirmation

    def text(self) -> str:
        """The file's text: a header, then one entry per address, sorted; strings are JSON
        (double-quoted YAML), so any name or note reads back exactly."""
        lines = [HEADER.rstrip("\n"), f"version: {VERSION}"]
        if not self.entries:
            return "\n".join([*lines, "confirmed: {}"]) + "\n"
        lines.append("confirmed:")
        for address in sorted(self.entries):
            entry = self.entries[address]
            lines.append(f"  {_quoted(address)}:")
            values = {"digest": entry.digest, "by": entry.by, "at": entry.at, "note": entry.note}
            lines += [f"    {k}: {_quoted(v)}" for k, v in values.items() if v is not None]
        return "\n".join(lines) + "\n"

    def save(self) -> None:
        """Write the file atomically: a reader never sees half of it."""
        write_atomic(self.path, self.text())


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def confirmations_path(root: Path) -> Path:
    return root / CONFIRMATIONS_FILE


def load_confirmations(root: Path, organization: str) -> Confirmations:
    """The confirmations beside the configuration at `root`; none when there is no file.

    A file that is not a confirmations document raises `ConfigError` with every problem,
    located like a configuration error."""
    path = confirmations_path(root)
    if not path.exists() and not path.is_symlink():
        return Confirmations(path, organization)
    name = display_name(path)
    try:
        document = read_document(path)
    except YamlProblem as problem:
        issue = ConfigIssue(name, problem.line, problem.column, dotted(problem.path),
                            problem.message)
        raise ConfigError([issue]) from None
    reader = _Reader(name, document.positions or {})  # composed with them: never None
    entries = reader.read(document.value)
    unresolved = unresolved_issues(name, document)  # said better than "must be a string"
    if unresolved:
        paths = {issue.path for issue in unresolved}
        raise ConfigError(unresolved + [i for i in reader.issues if i.path not in paths])
    if reader.issues:
        raise ConfigError(reader.issues)
    return Confirmations(path, organization, entries)


class _Reader:
    """Checks a confirmations document, collecting located issues."""

    def __init__(self, name: str, positions: Mapping[tuple[str | int, ...], Position]) -> None:
        self.name = name
        self.positions = positions
        self.issues: list[ConfigIssue] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        line, column = next((self.positions[path[:n]] for n in range(len(path), 0, -1)
                             if path[:n] in self.positions), (1, 1))
        self.issues.append(ConfigIssue(self.name, line, column, dotted(path), message))

    def read(self, value: Mapping[str, Any]) -> dict[str, Confirmation]:
        for key in value:
            if key not in ("version", "confirmed"):
                self.add((key,), f"unknown key '{key}': this file holds only `version` and "
                         "`confirmed` (configuration belongs in the other files)")
        if value.get("version") != VERSION:
            self.add(("version",), f"version must be {VERSION}")
        confirmed = value.get("confirmed") or {}
        if not isinstance(confirmed, Mapping):
            self.add(("confirmed",), "must be a mapping of addresses to confirmations")
            return {}
        entries: dict[str, Confirmation] = {}
        for address, entry in confirmed.items():
            found = self.entry(("confirmed", address), str(address), entry)
            if found is not None:
                entries[found.address] = found
        return entries

    def entry(self, path: tuple[str, ...], address: str, entry: Any) -> Confirmation | None:
        if not isinstance(entry, Mapping):
            self.add(path, "must be a mapping with digest, by and at")
            return None
        problems = len(self.issues)
        for key in entry:
            if key not in _ENTRY_KEYS:
                self.add((*path, key), f"unknown key '{key}' (expected: "
                         f"{', '.join(_ENTRY_KEYS)})")
        for key, required in _ENTRY_KEYS.items():
            value = entry.get(key)
            if value is None and not required:
                continue
            if not isinstance(value, str) or not value:
                self.add((*path, key), "must be a non-empty string" if key in entry
                         else f"missing `{key}`")
        digest = entry.get("digest")
        if isinstance(digest, str) and not _DIGEST.match(digest):
            self.add((*path, "digest"), "must be sha256: and 64 hex digits, as flexctl "
                     "confirm writes it")
        if len(self.issues) > problems:
            return None
        return Confirmation(address, entry["digest"], entry["by"], entry["at"], entry.get("note"))


# --- who and when -----------------------------------------------------------------------------


def confirmer(root: Path) -> str:
    """Who confirms: the git identity of the configuration's repository (`user.name` and
    `user.email`), else the login name."""
    name, email = _git_config(root, "user.name"), _git_config(root, "user.email")
    if name and email:
        return f"{name} <{email}>"
    if name or email:
        return name or email or ""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


def _git_config(root: Path, key: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "config", "--get", key],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it hangs
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
