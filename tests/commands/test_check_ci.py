"""CI integration and the README's Quick start: the GitHub Actions example and the pre-commit
hook parse and call real flexctl commands and options, and the Quick start walkthrough runs,
command by command, with the exit codes the README states."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from flexctl.cli import cli, main

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"
ACTION = REPO / "action.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
README = REPO / "README.md"


def _yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def flexctl_calls(script: str) -> list[list[str]]:
    """The argument lists of every `flexctl ...` call in a shell script."""
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        if not line.lstrip().startswith("flexctl "):
            continue  # other tools' lines (echo, gh) may quote separators
        for part in re.split(r"\|\||&&|\||;", line):
            words = shlex.split(part.split(" #")[0].split(">")[0])
            if words[:1] == ["flexctl"]:
                calls.append([w.replace("$CONFIG", "config") for w in words[1:]])
    return calls


def assert_real_command(args: list[str]) -> None:
    """Parse `args` with flexctl's own click commands: unknown commands or options fail."""
    command: click.Command = cli
    while isinstance(command, click.Group) and args:
        sub = command.get_command(click.Context(command), args[0])
        if sub is None:
            break
        command, args = sub, args[1:]
    assert command is not cli, f"not a flexctl command: {args}"
    with command.make_context(command.name or "flexctl", list(args), resilient_parsing=False):
        pass


def action_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _yaml(ACTION)["runs"]["steps"]
    return steps


def test_the_action_runs_real_commands_and_options() -> None:
    calls = [call for step in action_steps() for call in flexctl_calls(step.get("run", ""))]
    assert ["--version"] in calls  # the install step shows what it installed
    calls = [args for args in calls if args != ["--version"]]
    for args in calls:
        assert_real_command(args)
    assert {args[0] for args in calls} == {"validate", "plan", "apply", "drift", "check"}
    plan = next(args for args in calls if args[0] == "plan")
    assert {"-o", "--format", "--detailed-exitcode", "--report"} <= set(plan)
    assert ["apply", "flexctl-plan.json", "--format", "text"] in calls


def test_the_workflow_uses_the_action_for_each_job() -> None:
    workflow = _yaml(WORKFLOW)
    jobs = workflow["jobs"]
    assert set(jobs) == {"validate", "plan", "apply", "drift"}
    inputs = set(_yaml(ACTION)["inputs"])
    used: dict[str, list[str]] = {}
    for name, job in jobs.items():
        for step in job["steps"]:
            if step.get("uses") == "./.flexctl-action":
                assert set(step["with"]) <= inputs, step
                used.setdefault(name, []).append(step["with"]["command"])
            elif step.get("with", {}).get("path") == ".flexctl-action":
                # flexctl comes from the repository and commit the user chose, nowhere else
                assert step["with"]["repository"] == "${{ vars.FLEXCTL_REPOSITORY }}"
                assert step["with"]["ref"] == "${{ vars.FLEXCTL_REF }}"
    assert used == {"validate": ["validate"], "plan": ["plan"], "apply": ["apply"],
                    "drift": ["drift", "check"]}
    assert "pull-requests" in jobs["plan"]["permissions"]
    assert jobs["apply"]["concurrency"]["group"] == "flexctl-apply"
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 readers turn `on` into True
    assert {"pull_request", "push", "schedule"} <= set(on)
    assert jobs["drift"]["if"].startswith("github.event_name == 'schedule'")


def test_the_ci_page_shows_the_example_workflow_word_for_word() -> None:
    page = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in page.split("```yaml\n")[1:]]
    assert WORKFLOW.read_text(encoding="utf-8") in blocks
    assert "(../examples/ci/github-actions.yml)" in page


def test_pre_commit_hook_runs_flexctl_validate() -> None:
    (hook,) = _yaml(HOOKS)
    assert hook["id"] == "flexctl-validate"
    assert (hook["language"], hook["pass_filenames"]) == ("python", False)
    assert re.search(hook["files"], "config/plans.yaml")
    assert re.search(hook["files"], "x.yml") and not re.search(hook["files"], "x.json")
    args = shlex.split(hook["entry"])
    assert args[0] == "flexctl"
    assert_real_command(args[1:])


def quick_start() -> tuple[str, list[tuple[str, int]]]:
    """The Quick start's config file and its commands with their expected exit codes."""
    section = README.read_text(encoding="utf-8").split("\n## Quick start\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    config = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    steps = []
    for line in script.splitlines():
        expected = re.search(r"# exit (\d+)", line)
        steps.append((line.split(" #")[0].strip(), int(expected.group(1)) if expected else 0))
    return config, steps


def test_quick_start_walkthrough_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, steps = quick_start()
    home = tmp_path / "my-space"
    home.mkdir()
    (home / "flexctl.yaml").write_text(config, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "STRIPE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLEXCTL_READ_RATE", "100000/s")
    ran = []
    for line, expected in steps:
        words = shlex.split(line)
        if words[0] == "cd":
            monkeypatch.chdir(tmp_path / words[1])
            continue
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            monkeypatch.setenv(name, value)
            continue
        assert words[0] == "flexctl", line
        capsys.readouterr()
        code = main(words[1:])
        out = capsys.readouterr()
        assert code == expected, f"{line}: exit {code}\n{out.out}\n{out.err}"
        ran.append(words[1])
    assert ran.count("check") == 3 and "apply" in ran
    assert "Smoke test passed" in out.out and "Nothing was left behind." in out.out
