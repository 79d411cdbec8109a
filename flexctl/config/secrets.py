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

from flexctl import redaction
from flexctl.config.types import EnvSecret, FileSecret
from flexctl.errors import SecretError
from flexctl.redaction import FINGERPRINT_PREFIX as FINGERPRINT_PREFIX
from flexctl.redaction import fingerprint_of as fingerprint_of

MAX_SECRET_BYTES = 64 * 1024  # a key or token is far smaller; anything bigger is a wrong path

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
        self.missing: dict[str, str] = {}  # where -> why the secret there cannot be read

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

    def _read(self, ref: SecretRefLike, where: str) -> tuple[str | None, str]:
        """The secret's value, or None and why it cannot be read."""
        plain = ref_to_dict(ref)
        if "env" in plain:
            return self.environ.get(plain["env"]) or None, "is not set (or is empty)"
        path = Path(plain["file"]).expanduser()
        if not path.is_absolute():
            path = self._directory(where) / path
        if path.exists() and not path.is_file():
            # A FIFO would block the plan, a device never end: a key lives in a regular file.
            return None, "is not a regular file"
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_SECRET_BYTES + 1)
        except FileNotFoundError:
            return None, "does not exist"
        except OSError as exc:
            return None, f"is not readable ({exc.strerror or type(exc).__name__})"
        if len(data) > MAX_SECRET_BYTES:
            return None, f"is larger than {MAX_SECRET_BYTES // 1024} KiB, not a key"
        try:
            # A trailing newline is an artefact of how the file was written, not of the key.
            return data.decode("utf-8").rstrip("\r\n") or None, "is empty"
        except UnicodeDecodeError:
            return None, "is not UTF-8 text"

    def fingerprint(self, ref: SecretRefLike, where: str) -> str | None:
        """The fingerprint, or None (with a warning) when the secret cannot be read."""
        value, problem = self._read(ref, where)
        if value is None:
            self.missing[where] = f"{describe(ref)} {problem}"
            self.warnings.append(
                f"{where}: {describe(ref)} {problem}; the secret is treated as unchanged"
            )
            return None
        redaction.register(value)  # read once: from now on it is masked wherever it shows up
        return fingerprint_of(value)

    def value(self, ref: SecretRefLike, where: str) -> str:
        """The secret itself, for a request body that must carry it."""
        value, problem = self._read(ref, where)
        if value is None:
            raise SecretError(f"{where}: {describe(ref)} {problem}")
        redaction.register(value)
        return value
