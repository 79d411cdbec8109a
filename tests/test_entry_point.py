"""The entry point: exit codes for interrupts and option placement, and how the program ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flexctl import gcpause
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


def _program(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`code` then the `flexctl` program (`cli.entry`) with `args`, as its own process."""
    script = f"{code}\nimport sys\nsys.argv = ['flexctl', *{list(args)!r}]\n" \
             "from flexctl.cli import entry\nentry()\n"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=120)


def test_the_program_ends_with_its_output_flushed_and_exit_handlers_run() -> None:
    # The program ends without freeing what it kept: everything written must still arrive,
    # exit handlers still run (after the output), and the exit code is the command's.
    bye = "import atexit\natexit.register(lambda: print('exit handler ran'))"
    done = _program(bye, "validate", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Valid: ") and done.stdout.endswith("exit handler ran\n")
    refused = _program(bye, "validate", str(EXAMPLE / "no-such-dir"))
    assert refused.returncode != 0 and refused.stderr and "exit handler ran" in refused.stdout


def test_the_program_keeps_its_large_objects_until_it_exits() -> None:
    # A plan's objects are kept (not freed one by one as the command returns), and only in
    # the program: a library caller's are freed as usual.
    probe = (
        "import flexctl.gcpause as g, atexit, os\n"
        "atexit.register(lambda: os.write(1, f'kept {len(g._kept or [])}\\n'.encode()))"
    )
    done = _program(probe, "plan", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.rsplit("kept ", 1)[1]) >= 2  # the loaded config and the plan run
    assert main(["validate", str(EXAMPLE)]) == 0
    assert gcpause._kept is None


def test_a_closed_standard_output_is_no_crash() -> None:
    # `flexctl validate >&-`: the output goes nowhere; the exit code still says how it ended.
    done = subprocess.run([sys.executable, "-m", "flexctl", "validate", str(EXAMPLE)],
                          stderr=subprocess.PIPE, text=True, check=False, timeout=120,
                          preexec_fn=lambda: os.close(1))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr


def test_an_output_the_system_refuses_is_one_line_not_an_internal_error() -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        done = subprocess.run([sys.executable, "-m", "flexctl", "validate", str(EXAMPLE)],
                              stdout=full, stderr=subprocess.PIPE, text=True, check=False,
                              timeout=120)
    assert done.returncode == 1
    assert done.stderr == "Error: No space left on device\n"
