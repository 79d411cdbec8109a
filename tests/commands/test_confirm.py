"""`flexctl confirm`: what it records, what it refuses (exit 64, nothing written), and how plan,
check, validate and export live with the confirmations file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flexctl.cli import main
from flexctl.kinds.base import Profile
from flexctl.platform.scopes import profile_scopes
from tests.commands.plan_helpers import Sandbox, make_sandbox

UNREADABLE = ["gateways.bank-transfer", "gateways.stripe-main", "invoicing", "storefront"]


@pytest.fixture
def sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(profile_scopes(Profile.OFFICERND)))
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Jane Doe\n\temail = jane@example.com\n",
                         encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    sandbox = make_sandbox(tmp_path, capsys, monkeypatch, profile="officernd")
    sandbox.seed()
    return sandbox


def confirm(sandbox: Sandbox, *args: str) -> tuple[int, str, str]:
    sandbox.capsys.readouterr()
    code = main(["confirm", *args, "--config", str(sandbox.root)])
    out, err = sandbox.capsys.readouterr()
    return code, out, err


def confirmed(sandbox: Sandbox) -> list[str]:
    result = sandbox.run("plan", "--format", "json")
    assert result.code == 0, result.err
    return [c["address"] for c in json.loads(result.out)["confirmed"]]


def test_confirming_one_step_leaves_the_others(sandbox: Sandbox) -> None:
    code, out, _ = confirm(sandbox, "invoicing", "--note", "set by Ann in the portal")
    assert code == 0
    assert out.startswith('invoicing: confirmed by Jane Doe <jane@example.com> on ')
    assert '("set by Ann in the portal")' in out.splitlines()[0]
    assert confirmed(sandbox) == ["invoicing"]
    result = sandbox.run("plan", "--detailed-exitcode")
    assert result.code == 2
    assert "0 to replace, 3 manual, 0 blocked." in result.out
    assert "invoicing: confirmed by Jane Doe <jane@example.com> on " in result.out


def test_confirming_again_changes_nothing_unless_something_changed(sandbox: Sandbox) -> None:
    assert confirm(sandbox, "--all")[0] == 0
    file = sandbox.root / "confirmations.yaml"
    before = file.read_text(encoding="utf-8")
    code, out, _ = confirm(sandbox, "storefront")
    assert code == 0 and "(already: nothing changed)" in out and "Recorded" not in out
    assert file.read_text(encoding="utf-8") == before
    sandbox.edit("storefront.yaml", "plans: [day-pass, hot-desk]", "plans: [day-pass]")
    code, out, _ = confirm(sandbox, "storefront")
    assert "(again: its configuration or the note changed)" in out
    assert confirmed(sandbox) == UNREADABLE


@pytest.mark.parametrize(("args", "message"), [
    (("invoicing", "plans.hot-desk"), "plans.hot-desk: the platform's API reads plans; "
                                      "flexctl verifies them by reading, there is nothing to "
                                      "confirm"),
    (("gateways.nope",), "gateways.nope is not in the configuration"),
    (("--all", "invoicing"), "give addresses or --all, not both"),
    ((), "name the addresses to confirm"),
    (("invoicing", "--note", " "), "--note must not be empty"),
])
def test_refusals_are_usage_errors_and_write_nothing(
    sandbox: Sandbox, args: tuple[str, ...], message: str
) -> None:
    code, _, err = confirm(sandbox, *args)
    assert code == 64
    assert message in err
    assert not (sandbox.root / "confirmations.yaml").exists()


def test_a_refusal_names_what_can_be_confirmed(sandbox: Sandbox) -> None:
    _, _, err = confirm(sandbox, "members.jane-doe")
    assert err.strip().endswith("nothing was confirmed (confirmable: gateways.stripe-main, "
                                "gateways.bank-transfer, invoicing, storefront)")


def test_a_broken_confirmations_file_stops_plan_but_not_validate(sandbox: Sandbox) -> None:
    (sandbox.root / "confirmations.yaml").write_text("version: 1\nconfirmed: [x]\n",
                                                     encoding="utf-8")
    result = sandbox.run("plan")
    assert result.code == 1
    assert "confirmations.yaml:2:1: confirmed: must be a mapping of addresses" in result.err
    assert "Traceback" not in result.err
    sandbox.capsys.readouterr()
    assert main(["validate", str(sandbox.root)]) == 0
    assert confirm(sandbox, "--all")[0] == 1


def test_export_keeps_the_confirmations(sandbox: Sandbox) -> None:
    assert confirm(sandbox, "--all")[0] == 0
    before = (sandbox.root / "confirmations.yaml").read_text(encoding="utf-8")
    sandbox.capsys.readouterr()
    code = main(["export", "-o", str(sandbox.root), "--force", "--currency", "EUR",
                 "--api-url", sandbox.api_url, "--org", "harbor-works"])
    assert code == 0, sandbox.capsys.readouterr().err
    assert (sandbox.root / "confirmations.yaml").read_text(encoding="utf-8") == before


def test_check_without_every_gateway_confirmed_cannot_verify_them(sandbox: Sandbox) -> None:
    assert confirm(sandbox, "gateways.stripe-main", "invoicing")[0] == 0
    result = sandbox.run("check", "--format", "json")
    steps = {s["name"]: s for s in json.loads(result.out)["steps"]}
    assert steps["gateway"]["status"] == "cannot_verify"
    assert steps["gateway"]["found"][0].startswith(
        "gateways.stripe-main confirmed by Jane Doe <jane@example.com> on ")
    assert steps["bill_run"]["status"] == "ready"  # configured off, confirmed off
    assert steps["storefront"]["status"] == "cannot_verify"


def test_apply_exits_0_with_detailed_exitcode_only_when_nothing_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    full = make_sandbox(tmp_path / "full", capsys, monkeypatch)
    result = full.run("apply", "--auto-approve", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert "Left to do by hand" not in result.out
