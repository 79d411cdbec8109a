"""Reading the secrets a config refers to (`{env: NAME}`, `{file: PATH}`) — only when needed.

`plan` needs only a fingerprint (the last four characters, which is what the platform shows);
a missing variable or file then becomes a warning and the field is left unmanaged. `apply`
reads the value only for a change that must send it, and fails that change when it is missing.
Values are never stored, logged or put into an error message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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


Locator = Callable[[tuple[str, ...]], tuple[str, int, int]]  # key path -> (file, line, column)


class SecretResolver:
    """Resolves secret references, collecting warnings.

    A `{file: PATH}` is relative to the directory of the YAML file that declares it (found with
    `locate`, e.g. `LoadedConfig.locate`), else to `base_dir`.
    """

    def __init__(
        self,
        base_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        locate: Locator | None = None,
    ):
        self.base_dir = base_dir or Path.cwd()
        self.environ = os.environ if environ is None else environ
        self.locate = locate
        self.warnings: list[str] = []

    @classmethod
    def for_config(cls, loaded: Any, environ: Mapping[str, str] | None = None) -> SecretResolver:
        """A resolver for a `flexctl.config.LoadedConfig` (uses its `root` and `locate`)."""
        return cls(loaded.root, environ, getattr(loaded, "locate", None))

    def _directory(self, where: str) -> Path:
        if self.locate is not None:
            # `where` is the dotted address of the secret field; keys never contain dots.
            file = Path(self.locate(tuple(where.split(".")))[0])
            if file.is_file():
                return file.resolve().parent
        return self.base_dir

    def _read(self, ref: SecretRefLike, where: str) -> str | None:
        plain = ref_to_dict(ref)
        if "env" in plain:
            return self.environ.get(plain["env"]) or None
        path = Path(plain["file"]).expanduser()
        if not path.is_absolute():
            path = self._directory(where) / path
        try:
            # A trailing newline is an artefact of how the file was written, not of the key.
            return path.read_text(encoding="utf-8").rstrip("\r\n") or None
        except (OSError, UnicodeDecodeError):
            return None

    def fingerprint(self, ref: SecretRefLike, where: str) -> str | None:
        """The fingerprint, or None (with a warning) when the secret cannot be read."""
        value = self._read(ref, where)
        if value is None:
            self.warnings.append(
                f"{where}: {describe(ref)} is not set or not readable; "
                "the secret is treated as unchanged"
            )
            return None
        return fingerprint_of(value)

    def value(self, ref: SecretRefLike, where: str) -> str:
        """The secret itself, for a request body that must carry it."""
        value = self._read(ref, where)
        if value is None:
            raise SecretError(f"{where}: {describe(ref)} is not set or not readable")
        return value
