"""Whatever a configuration file holds, `flexctl validate` exits 0, or 1 with every problem
located as `file:line:col: path: message` — never a traceback (hypothesis).

Two sources of files: random YAML documents shaped like configurations, and random mutations
(characters deleted, inserted, lines swapped) of the example configuration's files.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexctl.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "harbor-works"
LOCATED = re.compile(r"^[^\n:]+:\d+:\d+: ")
KEYS = ["version", "organization", "currency", "locations", "plans", "rates", "companies",
        "members", "memberships", "fees", "gateways", "invoicing", "storefront", "policy",
        "name", "price", "billing", "unit", "plan", "start", "end", "date", "quantity",
        "location", "email", "code", "secret_key", "env", "provider", "account", "prune",
        "max_change_ratio", "recurring", "one_off", "hot-desk", "acme"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**6, max_value=10**25),
    st.sampled_from(["1e400", "-0.00", "2026-02-30", "2026-12-01", "EUR", "yes", "250.00",
                     "0.0125", "~", "recurring", "hour"]),
    st.text(max_size=10),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
DOCUMENTS = st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1, max_size=6)
SOURCES = sorted(p for p in EXAMPLE.rglob("*.yaml"))
YAML_CHARS = st.sampled_from([*":-#&*!|>'\"{}[],?%@` \t\n\\", "\r\n", "\u2028", "é"])


def check(capsys: pytest.CaptureFixture[str], text: str) -> None:
    capsys.readouterr()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "flexctl.yaml"
        path.write_text(text, encoding="utf-8")
        code = main(["validate", str(path)])
    _, err = capsys.readouterr()
    assert code in (0, 1), (code, err)
    assert "Traceback" not in err and "Internal error" not in err, err
    if code == 1:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and all(LOCATED.match(line) for line in lines), err


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(document=DOCUMENTS)
def test_random_documents_are_valid_or_located(
        capsys: pytest.CaptureFixture[str], document: dict[str, Any]) -> None:
    check(capsys, yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(SOURCES), data=st.data())
def test_mutated_examples_are_valid_or_located(
        capsys: pytest.CaptureFixture[str], source: Path, data: st.DataObject) -> None:
    text = source.read_text(encoding="utf-8")
    header = "version: 1\norganization: harbor-works\ncurrency: EUR\n"
    if not text.lstrip().startswith(("version", "#")):
        text = header + text
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        at = data.draw(st.integers(min_value=0, max_value=len(text)))
        how = data.draw(st.sampled_from(["insert", "delete", "swap"]))
        if how == "insert":
            text = text[:at] + data.draw(YAML_CHARS) + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 8)):]
        else:
            lines = text.split("\n")
            i = data.draw(st.integers(0, max(0, len(lines) - 2)))
            lines[i:i + 2] = lines[i:i + 2][::-1]
            text = "\n".join(lines)
    check(capsys, text)
