"""The GitHub composite action and the example workflow: both pass a linter (the JSON Schemas
of GitHub workflows and actions that check-jsonschema ships, and ShellCheck on every script),
and the action's scripts run, step by step as GitHub would run them, against the sandbox:
validate, a blocked plan, a plan with changes, apply of the saved plan, drift and check."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"
EXAMPLE = REPO / "examples" / "harbor-works"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return path


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def lint(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("schema", "path"), [("vendor.github-workflows", WORKFLOW),
                                              ("vendor.github-actions", ACTION)])
def test_the_workflow_and_the_action_pass_their_schemas(schema: str, path: Path) -> None:
    result = lint(schema, path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_catches_a_broken_action(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    text = ACTION.read_text(encoding="utf-8")
    broken.write_text(text.replace("      shell: bash\n", "", 1), encoding="utf-8")
    assert lint("vendor.github-actions", broken).returncode != 0  # a composite step needs a shell


def scripts() -> list[tuple[str, str]]:
    """Every `run:` script of the action and the workflow, with the step's name."""
    found = [(s.get("name", "?"), s["run"]) for s in load(ACTION)["runs"]["steps"] if "run" in s]
    for job in load(WORKFLOW)["jobs"].values():
        found += [(s.get("name", "?"), s["run"]) for s in job["steps"] if "run" in s]
    return found


@pytest.mark.parametrize(("name", "script"), scripts(), ids=lambda x: str(x)[:40])
def test_every_script_passes_shellcheck(name: str, script: str, tmp_path: Path) -> None:
    # GitHub replaces ${{ ... }} before bash sees the script; a placeholder stands in for it.
    path = tmp_path / "step.sh"
    path.write_text("#!/usr/bin/env bash\n" + re.sub(r"\$\{\{[^}]*\}\}", "x", script),
                    encoding="utf-8")
    result = subprocess.run([tool("shellcheck"), "--severity=style", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"{name}:\n{result.stdout}"


# --- the action's scripts, run as GitHub runs them ---------------------------------------------


@dataclass
class Run:
    """One use of the action: the steps that ran, their outputs and the job's outcome."""

    ok: bool = True
    ran: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    uploaded: list[str] = field(default_factory=list)
    summary: str = ""


def condition(expression: str, inputs: dict[str, str], run: Run, event: str) -> bool:
    """Evaluate the action's simple `if:` expressions (==, !=, &&, ||, parentheses)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(0)
        if name.startswith("inputs."):
            return repr(inputs[name.removeprefix("inputs.")])
        if name == "github.event_name":
            return repr(event)
        step, _, key = name.removeprefix("steps.").partition(".outputs.")
        return repr(run.outputs.get(step, {}).get(key, ""))

    python = re.sub(r"inputs\.[\w-]+|github\.event_name|steps\.\w+\.outputs\.\w+", value,
                    expression)
    python = python.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'=!()-]*", python), expression  # nothing else to evaluate
    return bool(eval(python, {"__builtins__": {}}))


def use_action(workspace: Path, event: str = "push", **given: str) -> Run:
    action = load(ACTION)
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(given)
    run = Run()
    output, summary = workspace / "output", workspace / "summary"
    summary.write_text("", encoding="utf-8")
    for step in action["runs"]["steps"]:
        if not run.ok or ("if" in step and not condition(step["if"], inputs, run, event)):
            continue
        name = step.get("name", step.get("uses", ""))
        run.ran.append(name)
        if "uses" in step:  # setup-python and upload-artifact: check what would be uploaded
            paths = step.get("with", {}).get("path", "")
            for line in re.sub(r"\$\{\{ inputs\.(\w+) \}\}", lambda m: inputs[m.group(1)],
                               paths).split():
                assert (workspace / line).is_file(), f"{name}: {line} is missing"
                run.uploaded.append(line)
            continue
        if "gh pr comment" in step["run"]:
            continue  # needs GitHub
        # flexctl is installed already (pip would need the package index): the rest runs.
        script = re.sub(r"^\s*python -m pip install .*$", "", step["run"], flags=re.M)
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
               "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
        for key, raw in step.get("env", {}).items():
            env[key] = re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: inputs[m.group(1)],
                              str(raw))
        output.write_text("", encoding="utf-8")
        result = subprocess.run(["bash", "-e", "-c", script], cwd=workspace, env=env,
                                capture_output=True, text=True, timeout=120, check=False)
        lines = output.read_text(encoding="utf-8").splitlines()
        run.outputs[step.get("id", "")] = dict(line.split("=", 1) for line in lines)
        run.ok = result.returncode == 0
    run.summary = summary.read_text(encoding="utf-8")
    return run


@pytest.mark.slow
def test_the_actions_scripts_on_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "config")
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARBOR_STRIPE_SECRET_KEY", "sk_test_action_4242")
    use = {"config": "config"}

    assert use_action(tmp_path, command="validate", **use).ok
    invoicing = tmp_path / "config" / "invoicing.yaml"
    invoicing.write_text(invoicing.read_text(encoding="utf-8").replace(
        "automatic_bill_run: false", "automatic_bill_run: true"), encoding="utf-8")
    blocked = use_action(tmp_path, "pull_request", command="plan", **use)
    assert not blocked.ok and blocked.outputs["plan"] == {"exitcode": "3"}
    assert "Comment the plan on the pull request" in blocked.ran
    assert blocked.ran[-1] == "Fail when something is blocked"
    assert blocked.uploaded == ["flexctl-plan.json", "flexctl-plan.md", "flexctl-report.html"]
    assert "<html" in (tmp_path / "flexctl-report.html").read_text(encoding="utf-8").lower()
    assert "automatic bill run" in blocked.summary

    subprocess.run([BIN / "flexctl", "emulator", "account", "--status", "active", "config"],
                   cwd=tmp_path, check=True, capture_output=True)
    planned = use_action(tmp_path, "pull_request", command="plan", **use)
    assert planned.ok and planned.outputs["plan"] == {"exitcode": "2"}
    applied = use_action(tmp_path, command="apply", **use)
    assert applied.ok and "Apply exactly the saved plan" in applied.ran
    assert use_action(tmp_path, command="drift", **use).outputs["drift"] == {"exitcode": "0"}
    assert use_action(tmp_path, command="check", **use).ok

    plans = tmp_path / "config" / "services.yaml"
    plans.write_text(plans.read_text(encoding="utf-8").replace("Hot Desk", "Hot Desk Plus"),
                     encoding="utf-8")
    drift = use_action(tmp_path, command="drift", **use)
    assert not drift.ok and drift.outputs["drift"] == {"exitcode": "2"}
    assert "Hot Desk Plus" in drift.summary
    wrong = use_action(tmp_path, command="deploy", **use)
    assert not wrong.ok and wrong.ran == ["actions/setup-python@v5", "Install flexctl"]
