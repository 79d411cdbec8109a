"""`flexctl apply` on a terminal: the `yes` confirmation and the progress line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from flexctl.commands import apply as apply_command
from flexctl.reconcile.journal import Entry
from tests.commands.plan_helpers import Sandbox, make_sandbox


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, capsys, monkeypatch)


def on_terminal(monkeypatch: pytest.MonkeyPatch, answer: str) -> list[str]:
    """Pretend stdin is a terminal on which the user types `answer`; returns the prompts."""
    asked: list[str] = []

    def prompt(text: str, **kwargs: object) -> str:
        asked.append(text)
        return answer

    monkeypatch.setattr("flexctl.commands.apply.sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("flexctl.commands.apply.click.prompt", prompt)
    return asked


def test_yes_applies(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = on_terminal(monkeypatch, "yes")
    result = sandbox.run("apply")
    assert result.code == 0, result.err
    assert asked == [apply_command.PROMPT]
    assert sandbox.run("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize("answer", ["no", "y", ""])
def test_anything_but_yes_cancels(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                  answer: str) -> None:
    on_terminal(monkeypatch, answer)
    result = sandbox.run("apply")
    assert result.code == 1
    assert "Apply cancelled; nothing was changed." in result.err
    assert sandbox.run("plan", "--detailed-exitcode").code == 2


def test_no_prompt_when_there_is_nothing_to_apply(sandbox: Sandbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.seed()
    asked = on_terminal(monkeypatch, "no")
    result = sandbox.run("apply")
    assert result.code == 0 and asked == []
    assert "No changes." in result.out


def test_progress_rewrites_one_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("flexctl.commands.apply.click.echo",
                        lambda text, nl=True, err=False: stream.write(text + ("\n" if nl else "")))
    progress = apply_command.ProgressLine(tty=True)
    progress(Entry("plans.hot-desk", "plans", "create", "applied"), 1, 2)
    progress(Entry("plans.day-pass", "plans", "create", "failed", "boom"), 2, 2)
    text = stream.getvalue()
    assert text.startswith("\r\x1b[K[1/2] ") and "/s applied plans.hot-desk" in text
    assert text.endswith("failed plans.day-pass\n")  # the last update ends the line
    assert text.count("\n") == 1
