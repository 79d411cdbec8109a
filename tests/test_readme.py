"""The README's first command, the main job on the embedded sandbox, runs as written: its
install steps are what CI checks with the wheel (.ci/run), and every flexctl step after them
is run here, in order, on a copy of the example, each expected to exit 0."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from flexctl.cli import main

REPO = Path(__file__).resolve().parents[1]


def sandbox_command() -> list[str]:
    """The README's first shell block, one command per `&&` step."""
    block = (REPO / "README.md").read_text(encoding="utf-8").split("```sh\n")[1]
    return [step.strip() for step in block.split("\n", 1)[0].split("&&")]


def test_the_first_command_installs_then_validates_applies_and_plans() -> None:
    steps = sandbox_command()
    assert steps[0].startswith("python3 -m venv .venv") and "pip install" in steps[1]
    flexctl = [shlex.split(s)[1] for s in steps if s.startswith(".venv/bin/flexctl ")]
    assert flexctl == ["validate", "apply", "plan"]


def test_the_first_command_runs_on_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "examples" / "harbor-works", tmp_path / "examples" / "harbor-works",
                    ignore=shutil.ignore_patterns(".flexctl"))
    monkeypatch.chdir(tmp_path)
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG"):
        monkeypatch.delenv(name, raising=False)
    ran = []
    for step in sandbox_command()[2:]:
        words = shlex.split(step)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            monkeypatch.setenv(name, value)
            continue
        assert words[0] == ".venv/bin/flexctl"
        code = main(words[1:])
        ran.append((words[1], code))
        assert code == 0, (step, capsys.readouterr())
    assert [name for name, _ in ran] == ["validate", "apply", "plan"]
    assert (tmp_path / "examples" / "harbor-works" / ".flexctl" / "sandbox.db").exists()
