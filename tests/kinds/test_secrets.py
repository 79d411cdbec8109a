"""Secret references: fingerprints, warnings, values, files relative to their YAML file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.errors import SecretError
from flexctl.kinds import get
from flexctl.kinds.configuration import load_config


def test_env_fingerprint_value_and_missing() -> None:
    secrets = SecretResolver(environ={"KEY": "sk_live_0123456789"})
    assert secrets.fingerprint({"env": "KEY"}, "gateways.s.secret_key") == "…6789"
    assert secrets.value({"env": "KEY"}, "gateways.s.secret_key") == "sk_live_0123456789"
    assert secrets.warnings == []
    assert secrets.fingerprint({"env": "NOPE"}, "gateways.s.secret_key") is None
    assert secrets.warnings == [
        "gateways.s.secret_key: environment variable NOPE is not set (or is empty); "
        "the secret is treated as unchanged"
    ]
    with pytest.raises(SecretError, match="environment variable NOPE"):
        secrets.value({"env": "NOPE"}, "gateways.s.secret_key")


def test_file_is_relative_to_the_yaml_file_that_declares_it(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        "version: 1\norganization: harbor\ncurrency: EUR\n"
        "locations:\n  downtown: {name: Downtown}\n"
    )
    sub = tmp_path / "billing"
    sub.mkdir()
    (sub / "gateways.yaml").write_text(
        "gateways:\n  stripe:\n    provider: stripe\n    account: acct_1\n"
        "    secret_key: {file: stripe.key}\n"
    )
    (sub / "stripe.key").write_text("sk_from_file_WXYZ\n")  # trailing newline is not the key
    loaded = load_config(tmp_path)
    secrets = SecretResolver.for_config(loaded, environ={})
    (gw,) = get("gateways").desired(loaded.config, secrets)
    assert gw.fields["secret_key"] == "…WXYZ" and secrets.warnings == []
    # relative to the config root instead, the file is not found: a warning, no value
    plain = SecretResolver(tmp_path, environ={})
    (gw,) = get("gateways").desired(loaded.config, plain)
    assert "secret_key" not in gw.fields
    assert "file stripe.key does not exist; the secret is treated" in plain.warnings[0]


def test_why_a_secret_file_gives_no_value_is_said(tmp_path: Path) -> None:
    (tmp_path / "empty.key").write_text("\n")
    (tmp_path / "latin.key").write_bytes(b"sk_\xe9")
    secrets = SecretResolver(tmp_path, environ={})
    for name in ("empty.key", "latin.key"):
        assert secrets.fingerprint({"file": name}, f"gateways.{name}") is None
    assert secrets.warnings == [
        "gateways.empty.key: file empty.key is empty; the secret is treated as unchanged",
        "gateways.latin.key: file latin.key is not UTF-8 text; the secret is treated as "
        "unchanged",
    ]


def test_a_secret_file_that_is_not_a_regular_file_is_never_read(tmp_path: Path) -> None:
    # A FIFO would block plan forever and /dev/zero would never end: neither is a key file.
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)
    secrets = SecretResolver(tmp_path, environ={})
    for name in (str(fifo), "/dev/zero", str(tmp_path)):
        assert secrets.fingerprint({"file": name}, "gateways.s.secret_key") is None
        with pytest.raises(SecretError, match="not a regular file"):
            secrets.value({"file": name}, "gateways.s.secret_key")
