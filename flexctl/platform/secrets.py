"""Reading the secrets a config refers to (`{env: NAME}`, `{file: PATH}`) — only when needed.

`plan` needs only a fingerprint (the last four characters, which is what the platform shows);
a missing variable or file then becomes a warning and the field is left unmanaged. `apply`
reads the value only for a change that must send it, and fails that change when it is missing.
Values are never stored, logged or put into an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flexctl.config.models import EnvSecret, FileSecret
from flexctl.errors import SecretError

FINGERPRINT_PREFIX = "…"

SecretRefLike = EnvSecret | FileSecret | Mapping[str, str]


def ref_to_dict(ref: SecretRefLike) -> dict[str, str]:
    """The reference in plain form (`{"env": NAME}` / `{"file": PATH}`), safe to keep anywhere."""
    if isinstance(ref, EnvSecret):
        return {"env": ref.env}
    if isinstance(ref, FileSecret):
        return {"file": ref.file}
    return dict(ref)


def describe(ref: SecretRefLike) -> str:
    plain = ref_to_dict(ref)
    if "env" in plain:
        return f"environment variable {plain['env']}"
    return f"file {plain.get('file', '?')}"


def fingerprint_of(value: str) -> str:
    return FINGERPRINT_PREFIX + value[-4:]


class SecretResolver:
    """Resolves secret references relative to the config's directory; collects warnings."""

    def __init__(self, base_dir: Path | None = None, environ: Mapping[str, str] | None = None):
        self.base_dir = base_dir or Path.cwd()
        self.environ = os.environ if environ is None else environ
        self.warnings: list[str] = []

    def _read(self, ref: SecretRefLike) -> str | None:
        plain = ref_to_dict(ref)
        if "env" in plain:
            return self.environ.get(plain["env"]) or None
        path = Path(plain["file"]).expanduser()
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            # A trailing newline is an artefact of how the file was written, not of the key.
            return path.read_text(encoding="utf-8").rstrip("\r\n") or None
        except (OSError, UnicodeDecodeError):
            return None

    def fingerprint(self, ref: SecretRefLike, where: str) -> str | None:
        """The fingerprint, or None (with a warning) when the secret cannot be read."""
        value = self._read(ref)
        if value is None:
            self.warnings.append(
                f"{where}: {describe(ref)} is not set or not readable; "
                "the secret is treated as unchanged"
            )
            return None
        return fingerprint_of(value)

    def value(self, ref: SecretRefLike, where: str) -> str:
        """The secret itself, for a request body that must carry it."""
        value = self._read(ref)
        if value is None:
            raise SecretError(f"{where}: {describe(ref)} is not set or not readable")
        return value
