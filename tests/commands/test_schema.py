"""`flexctl schema`: the committed schema is current, valid, and agrees with the loader."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from flexctl.cli import main
from flexctl.config.loader import load_tree
from flexctl.kinds.configuration import schema_text

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "schemas" / "flexctl.schema.json"


def as_json(value: Any) -> Any:
    """Loaded values as an editor sees them: numbers stay numbers, dates are strings."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def test_committed_schema_is_current() -> None:
    # when this fails, regenerate: flexctl schema -o schemas/flexctl.schema.json
    assert COMMITTED.read_text() == schema_text()


def test_schema_command_prints_and_writes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()
    target = tmp_path / "out.json"
    assert main(["schema", "-o", str(target)]) == 0
    assert target.read_text() == schema_text()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


def test_schema_into_a_missing_directory_is_one_clean_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["schema", "-o", str(tmp_path / "nope" / "out.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: cannot write ") and err.count("\n") == 1, err


def test_schema_is_valid_for_both_drafts() -> None:
    schema = json.loads(COMMITTED.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    Draft202012Validator.check_schema(schema)
    Draft7Validator.check_schema(schema)
    text = COMMITTED.read_text()
    for keyword in ("prefixItems", "$dynamicRef", "unevaluatedProperties", "discriminator"):
        assert keyword not in text


@pytest.mark.parametrize("validator", [Draft202012Validator, Draft7Validator])
def test_schema_accepts_the_example(validator: Any) -> None:
    data = as_json(load_tree(REPO / "examples" / "harbor-works").data)
    assert list(validator(json.loads(COMMITTED.read_text())).iter_errors(data)) == []


@pytest.mark.parametrize("validator", [Draft202012Validator, Draft7Validator])
def test_each_file_of_a_split_config_passes_on_its_own(validator: Any) -> None:
    # An editor checks one file at a time against the modeline's schema; `version`,
    # `organization` and `currency` live in just one of them.
    schema = json.loads(COMMITTED.read_text())
    files = sorted((REPO / "examples" / "harbor-works").rglob("*.yaml"))
    assert len(files) > 1
    for file in files:
        data = as_json(load_tree(file).data)
        assert list(validator(schema).iter_errors(data)) == [], file


@pytest.mark.parametrize("validator", [Draft202012Validator, Draft7Validator])
def test_schema_rejects_typical_mistakes(validator: Any) -> None:
    schema = json.loads(COMMITTED.read_text())
    data = as_json(load_tree(REPO / "examples" / "invalid" / "typos.yaml").data)
    messages = sorted(error.message for error in validator(schema).iter_errors(data))
    assert any("'pricee' was unexpected" in message for message in messages)
    assert any("'25.00' is not of type 'number'" in message for message in messages)
    assert any("'yes' is not of type 'boolean'" in message for message in messages)
    secrets = as_json(load_tree(REPO / "examples" / "invalid" / "secrets.yaml").data)
    assert list(validator(schema).iter_errors(secrets))
    bad_key = {"version": 1, "organization": "x", "currency": "EUR", "plans": {"Hot Desk": {}}}
    assert list(validator(schema).iter_errors(bad_key))
