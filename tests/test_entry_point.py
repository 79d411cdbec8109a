"""The entry point: exit codes for interrupts and option placement."""

from __future__ import annotations

from pathlib import Path

import pytest

from flexctl.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "harbor-works"


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_is_accepted_before_or_after_the_command(
    where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["validate", str(EXAMPLE)]
    assert main(["--debug", *args] if where == "before" else [*args, "--debug"]) == 0
    assert capsys.readouterr().out.startswith("Valid: ")


def test_an_unknown_option_is_still_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE), "--debgu"]) == 64
    assert "No such option" in capsys.readouterr().err


def test_ci_runs_exactly_the_readme_test_command() -> None:
    root = EXAMPLE.parents[1]
    blocks = (root / "README.md").read_text(encoding="utf-8").split("```sh\n")
    test_command = blocks[2].split("\n", 1)[0]
    ci_lines = (root / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert "pytest" in test_command and ci_lines[-1] == test_command
