"""The package: one source for the version, package data listed for every file the code reads
at run time, the licence and the changelog in place. (CI builds the wheel, installs it in a
fresh environment and runs the sandbox journey from it: `.ci/run`.)"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import flexctl
from flexctl.cli import main

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_has_one_source() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "flexctl.__version__"}
    out = subprocess.run([sys.executable, "-m", "flexctl", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out == f"flexctl, version {flexctl.__version__}\n"
    assert main(["--version"]) == 0


def test_every_file_of_the_package_is_code_or_listed_package_data() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["flexctl"]
    package = REPO / "flexctl"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")]
    unlisted = [name for name in data if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert unlisted == [], "add them to [tool.setuptools.package-data] in pyproject.toml"
    assert "docgen/intro/commands.md" in data  # read at run time by `python -m flexctl.docgen`


def test_the_licence_and_the_changelog() -> None:
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and PYPROJECT["project"]["license"] == {
        "text": "MIT"}
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert versions[0] == "Unreleased" and flexctl.__version__ in versions


def test_ci_builds_the_package_and_runs_the_journey_from_the_wheel() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "-m build" in ci and "wheel_contents.py" in ci
    for step in ("validate journey", "apply --auto-approve journey",
                 "plan --detailed-exitcode journey"):
        assert f'"$flexctl" {step}' in ci
