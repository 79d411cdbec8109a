"""The pre-commit hook (`.pre-commit-hooks.yaml`) as a configuration repository would use it:
`pre-commit try-repo` installs flexctl from this repository into pre-commit's own environment
(it needs the package index) and runs `flexctl-validate` on a good and on a broken
configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.test_manners import SMALL

REPO = Path(__file__).resolve().parents[2]


def try_repo(workspace: Path, home: Path) -> subprocess.CompletedProcess[str]:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is not installed: pip install -e '.[test]'"
    subprocess.run(["git", "add", "-A"], cwd=workspace, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [pre_commit, "try-repo", str(REPO), "flexctl-validate", "--all-files", "--color=never"],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


@pytest.mark.slow
def test_the_hook_passes_a_good_configuration_and_fails_a_broken_one(tmp_path: Path) -> None:
    workspace, home = tmp_path / "configuration", tmp_path / "pre-commit"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    (workspace / "flexctl.yaml").write_text(SMALL, encoding="utf-8")
    good = try_repo(workspace, home)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "flexctl validate" in good.stdout and "Passed" in good.stdout

    (workspace / "flexctl.yaml").write_text(SMALL.replace("price: 100.00", "prize: 100.00"),
                                            encoding="utf-8")
    bad = try_repo(workspace, home)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "flexctl.yaml:7:42: plans.desk.prize: unknown key 'prize' (did you mean 'price'?)" \
        in bad.stdout
