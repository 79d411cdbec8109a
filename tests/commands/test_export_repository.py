"""`flexctl export` fits a repository: it reads the organization of the configuration it stands
in, never writes where another configuration would merge the files, and its next step names the
very target it read (a sandbox file or a served platform), so that plan finds no changes."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from flexctl.cli import main
from flexctl.emulator import create_app
from flexctl.emulator.serve import serve_background
from tests.commands.export_seed import ORG, seed

CONFIG = f"version: 1\norganization: {ORG}\ncurrency: EUR\n"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FLEXCTL_READ_RATE", "100000/s")
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "sandbox.db"
    seed(path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def next_plan(err: str) -> list[str]:
    """The `flexctl plan ...` command of export's `Next:` hint, as arguments."""
    (line,) = [x for x in err.splitlines() if x.startswith("Next: ")]
    command = line.removeprefix("Next: ").split(" && ")[1].removesuffix(" (expect no changes).")
    words = shlex.split(command)
    assert words[:2] == ["flexctl", "plan"]
    return words[1:]


def test_export_reads_the_organization_of_the_configuration_it_stands_in(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "organization.yaml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(config)
    code, out, err = run(capsys, "export", "--force", "--api-url", f"local:{db}")
    assert code == 0, err
    assert out.startswith(f"Exported {ORG} to .: ")
    assert "1 gateway" not in out and "2 gateways" in out  # the plural, right
    code, _, err = run(capsys, *next_plan(err), "--detailed-exitcode")
    assert code == 0, err


def test_without_a_configuration_export_still_asks_for_the_organization(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "export", "-o", "out", "--api-url", f"local:{db}")
    assert code == 1
    assert "no organization" in err and "--org" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("inside", ["exported", "customers/exported", "customers"])
def test_export_refuses_to_write_inside_another_configuration(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, inside: str,
) -> None:
    config = tmp_path / "config"
    (config / "customers").mkdir(parents=True)
    (config / "organization.yaml").write_text(CONFIG, encoding="utf-8")
    (config / "customers" / "companies.yaml").write_text("companies: {}\n", encoding="utf-8")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = config / inside
    code, _, err = run(capsys, "export", "-o", str(out), "--force", "--api-url", f"local:{db}",
                       "--org", ORG)
    assert code == 64, err
    assert f"is inside the configuration at {config}" in err
    assert "Export to a directory outside it" in err and err.count("\n") == 1
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    code, _, err = run(capsys, "validate", str(config))
    assert code == 0, err


def test_a_hidden_directory_of_a_configuration_is_not_part_of_it(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path,
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "organization.yaml").write_text(CONFIG, encoding="utf-8")
    out = config / ".exports" / "today"
    code, _, err = run(capsys, "export", "-o", str(out), "--api-url", f"local:{db}",
                       "--org", ORG, "--currency", "EUR")
    assert code == 0, err
    assert (out / "organization.yaml").is_file()
    assert run(capsys, "validate", str(config))[0] == 0  # hidden: never merged into it


def test_the_next_step_plans_the_same_sandbox_and_finds_no_changes(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "export", "-o", "config", "--api-url", f"local:{db}",
                       "--org", ORG, "--currency", "EUR")
    assert code == 0, err
    args = next_plan(err)
    assert args[:2] == ["plan", "config"] and args[2:] == ["--api-url", "local:sandbox.db"]
    code, out, err = run(capsys, *args, "--detailed-exitcode")
    assert code == 0, out + err
    assert not (tmp_path / "config" / ".flexctl").exists()  # no new, empty sandbox


def test_the_next_step_names_a_served_target(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLEXCTL_CLIENT_ID", "emulator")
    monkeypatch.setenv("FLEXCTL_CLIENT_SECRET", "emulator")
    app = create_app(str(db), profile="full", orgs=(ORG,))
    try:
        with serve_background(app) as base:
            api = f"{base}/api/v2"
            code, _, err = run(capsys, "export", "-o", "config", "--api-url", api,
                               "--org", ORG, "--currency", "EUR")
            assert code == 0, err
            args = next_plan(err)
            assert args == ["plan", "config", "--api-url", api]
            code, out, err = run(capsys, *args, "--detailed-exitcode")
            assert code == 0, out + err
    finally:
        app.store.close()


def test_a_missing_sandbox_directory_is_an_error_and_is_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "organization.yaml").write_text(CONFIG, encoding="utf-8")
    typo = tmp_path / "typo" / "dir" / "x.db"
    for command in (["plan", str(config)], ["export", "-o", str(tmp_path / "out"), "--org", ORG],
                    ["emulator", "account", "--status", "active", str(config)]):
        code, _, err = run(capsys, *command, "--api-url", f"local:{typo}")
        assert code == 1, (command, err)
        assert err == (f"Error: the directory of the sandbox database {typo} does not exist; "
                       f"create {typo.parent} first, or fix the path in --api-url "
                       "local:FILE\n")
    assert not (tmp_path / "typo").exists() and not (tmp_path / "out").exists()
    code, _, err = run(capsys, "plan", str(config))  # the default sandbox: .flexctl/ is made
    assert code == 0, err
    assert (config / ".flexctl" / "sandbox.db").is_file()
