"""The command line's manners: every `--help` is whole and shows examples and exit codes,
`flexctl` alone prints the help, colours obey `--no-color`, NO_COLOR and TERM=dumb, shell
completion works as documented, counts read in good English, and the readiness fixes read the
configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from flexctl.cli import COMMANDS, cli, main
from flexctl.commands.apply import interactive_stderr
from flexctl.commands.helptext import Documented
from flexctl.commands.options import use_color
from flexctl.wording import counted
from tests.commands.plan_helpers import Sandbox, make_sandbox, use_profile

REPO = Path(__file__).resolve().parents[2]


def every_command() -> list[tuple[list[str], click.Command]]:
    """Each command and sub-command with the words that call it."""
    found: list[tuple[list[str], click.Command]] = [([], cli)]
    for name in sorted(COMMANDS):
        command = COMMANDS[name][0]()
        found.append(([name], command))
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                found.append(([name, sub], command.commands[sub]))
    return found


@pytest.mark.parametrize(("words", "command"), every_command(),
                         ids=lambda x: " ".join(x) if isinstance(x, list) else "")
def test_every_help_is_whole_with_examples_and_exit_codes(
    words: list[str], command: click.Command, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*words, "--help"]) == 0
    text = capsys.readouterr().out
    assert "\nExamples:\n" in text and "\nExit codes:\n" in text, text
    cut = [line for line in text.splitlines()[1:] if line.rstrip().endswith("...")]
    assert cut == [], "a help text was cut off"
    assert isinstance(command, Documented) and command.examples
    for _, lines in command.examples:
        for line in lines.splitlines():
            assert line in text  # command lines are printed whole, never re-wrapped
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{words}: {param.opts} has no help"
    codes = [code for code, _ in command.exit_codes]
    assert codes == sorted(codes) and (64 in codes or words == ["emulator", "serve"])


def test_flexctl_alone_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: flexctl [OPTIONS] [COMMAND] [ARGS]...")
    assert all(f"  {name} " in out for name in COMMANDS)


@pytest.mark.parametrize(("args", "env", "colored"), [
    ([], {}, True),
    (["--no-color"], {}, False),
    (["--no-color", "at the end"], {}, False),
    ([], {"NO_COLOR": "1"}, False),
    ([], {"TERM": "dumb"}, False),
])
def test_colours_only_where_wanted(
    args: list[str], env: dict[str, str], colored: bool, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # as on a terminal
    words = ["plan", str(sandbox.root), "--api-url", sandbox.api_url]
    if args == ["--no-color", "at the end"]:
        words.append("--no-color")
    else:
        words = [*args, *words]
    capsys.readouterr()
    assert main(words) == 0
    out = capsys.readouterr().out
    assert ("\x1b[" in out) is colored, out[:200]


def test_use_color_is_false_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert use_color() is False


def completion(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flexctl"], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60, check=False)


def test_shell_completion_works_as_documented() -> None:
    script = completion({"_FLEXCTL_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "_flexctl_completion" in script.stdout
    words = completion({"_FLEXCTL_COMPLETE": "bash_complete", "COMP_WORDS": "flexctl pl",
                        "COMP_CWORD": "1"})
    assert words.stdout.split() == ["plain,plan"]
    options = completion({"_FLEXCTL_COMPLETE": "bash_complete",
                          "COMP_WORDS": "flexctl plan --detailed", "COMP_CWORD": "2"})
    assert "plain,--detailed-exitcode" in options.stdout.split()
    documented = (REPO / "docs" / "commands.md").read_text(encoding="utf-8")
    for shell in ("bash", "zsh", "fish"):
        assert f"_FLEXCTL_COMPLETE={shell}_source flexctl" in documented


def test_counts_use_the_right_form_of_the_noun() -> None:
    assert [counted(n, "gateway") for n in (0, 1, 2)] == ["0 gateways", "1 gateway",
                                                          "2 gateways"]
    assert counted(1, "company", "companies") == "1 company"
    assert counted(3, "company", "companies") == "3 companies"


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


SMALL = """\
version: 1
organization: tiny-space
currency: EUR
locations:
  main: {name: Main Street}
plans:
  desk: {name: Desk, billing: recurring, price: 100.00}
  day: {name: Day Pass, billing: one_off, price: 20.00}
companies:
  acme: {name: Acme, location: main}
members:
  jane:
    name: Jane
    email: jane@acme.example
    company: acme
    location: main
    fees:
      - {plan: day, date: 2027-01-05}
"""


def test_check_counts_in_the_singular_and_the_plural(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FLEXCTL_API_URL", raising=False)
    monkeypatch.delenv("FLEXCTL_ORG", raising=False)
    (tmp_path / "flexctl.yaml").write_text(SMALL, encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "1 company in the configuration not on the platform: companies.acme" in out
    assert "2 plans in the configuration not on the platform" in out
    assert "found: 0 companies, 0 members, 0 one-off fees" in out
    assert main(["apply", "--auto-approve", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["check", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "found: 1 recurring plan, 1 one-off plan, 0 resource rates" in out
    assert "found: 1 company, 1 member, 1 one-off fee" in out
    assert "(s)" not in out and "(ies)" not in out


def test_apply_and_doctor_count_in_the_singular_and_the_plural(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the real platform's profile, the steps left after apply and doctor's lines count
    their nouns; nothing reads "step(s)"."""
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_TOKEN_URL", "FLEXCTL_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    use_profile(monkeypatch, "officernd")
    (tmp_path / ".flexctl").mkdir()  # the sandbox's directory (the seam does not make it)
    (tmp_path / "flexctl.yaml").write_text(SMALL, encoding="utf-8")
    assert main(["apply", "--auto-approve", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Left to do by hand (3 manual steps; 3 changes wait for them):" in out
    assert main(["doctor", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "locations: 0 objects" in out and "revenue-accounts: 4 objects" in out
    assert "Doctor: 10 ok, 0 warnings, 0 failures, 2 skipped." in out

    (tmp_path / "flexctl.yaml").write_text(
        SMALL.replace("  day: {name: Day Pass, billing: one_off, price: 20.00}\n", "")
        .replace("    fees:\n      - {plan: day, date: 2027-01-05}\n", ""), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:  # the location exists, made in the portal
        use_profile(patch, "full")
        assert main(["apply", "--auto-approve", str(tmp_path)]) == 0
    capsys.readouterr()
    (tmp_path / "flexctl.yaml").write_text(
        SMALL.replace("  day: {name: Day Pass, billing: one_off, price: 20.00}\n", "")
        .replace("    fees:\n      - {plan: day, date: 2027-01-05}\n",
                 "    memberships:\n      - {plan: desk, start: 2027-01-01, price: 90.00}\n")
        .replace("price: 100.00", "price: 110.00"), encoding="utf-8")
    assert main(["apply", "--auto-approve", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "(s)" not in out and "(1 manual step):" in out, out


def test_the_storefront_fix_reads_the_configuration(sandbox: Sandbox) -> None:
    sandbox.seed()  # the configuration says `storefront.enabled: true`
    with sandbox.client() as client:
        client.put_singleton("storefront", {"enabled": False})
    result = sandbox.run("check", "--format", "text")
    assert "fix: run `flexctl apply`" in result.out
    assert "storefront.enabled: true" not in result.out
    sandbox.edit("storefront.yaml", "enabled: true", "enabled: false")
    result = sandbox.run("check", "--format", "text")
    assert "disabled as configured" in result.out


def test_the_storefront_fix_without_a_section_says_what_to_add(sandbox: Sandbox) -> None:
    sandbox.seed()
    with sandbox.client() as client:
        client.put_singleton("storefront", {"enabled": False})
    (sandbox.root / "storefront.yaml").unlink()
    result = sandbox.run("check", "--format", "text")
    assert "fix: add `storefront: {enabled: true, plans: [...], rates: [...]}`" in result.out


@pytest.mark.parametrize(("tty", "term", "rewrites"), [
    (True, "xterm", True), (True, "dumb", False), (False, "xterm", False)])
def test_apply_progress_rewrites_its_line_only_on_a_capable_terminal(
    tty: bool, term: str, rewrites: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", term)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    assert interactive_stderr() is rewrites
