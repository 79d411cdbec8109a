"""Adding a kind is one module (plus its emulator resource): validate -> plan -> apply ->
plan (empty) -> export -> plan (empty) on the `full` emulator, with no edit to any engine,
table or renderer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flexctl.cli import main
from flexctl.emulator import resources
from flexctl.kinds import registered
from tests.architecture.discounts_kind import RESOURCE, Discounts

CONFIG = """\
version: 1
organization: discount-works
currency: EUR
locations:
  downtown: {name: Downtown}
discounts:
  summer: {name: Summer Sale, code: SUMMER, percent: 12.5, locations: [downtown]}
  staff: {name: Staff, percent: 50}
"""


@pytest.fixture
def discounts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(resources.COLLECTIONS, RESOURCE.path, RESOURCE)
    with registered(Discounts()):
        yield


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_kind_defined_in_one_module_goes_the_whole_way(
        discounts: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "config"
    root.mkdir()
    (root / "flexctl.yaml").write_text(CONFIG, encoding="utf-8")
    sandbox = ("--api-url", f"local:{tmp_path / 'sandbox.db'}")

    code, out, err = run(capsys, "validate", str(root))
    assert code == 0, err
    assert "2 discounts" in out

    code, out, err = run(capsys, "plan", str(root), "--detailed-exitcode", *sandbox)
    assert code == 2, err
    assert "+   discounts.summer" in out and 'name: "Summer Sale"' in out

    code, out, err = run(capsys, "apply", str(root), "--auto-approve", *sandbox)
    assert code == 0, err
    assert "Apply: 3 applied, 0 failed, 0 skipped, 0 manual." in out

    code, out, err = run(capsys, "plan", str(root), "--detailed-exitcode", *sandbox)
    assert code == 0, out + err

    exported = tmp_path / "exported"
    code, out, err = run(capsys, "export", "-o", str(exported), "--org", "discount-works",
                         "--currency", "EUR", *sandbox)
    assert code == 0, err
    assert "2 discounts" in out
    text = (exported / "discounts.yaml").read_text(encoding="utf-8")
    assert "summer-sale:" in text and "percent: 12.5" in text
    assert '"discounts"' in (exported / "flexctl.schema.json").read_text(encoding="utf-8")

    code, out, err = run(capsys, "plan", str(exported), "--detailed-exitcode", *sandbox)
    assert code == 0, out + err


def test_the_new_kind_s_rules_run_in_validate(
        discounts: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = CONFIG.replace("percent: 50", "percent: 150").replace("[downtown]", "[uptown]")
    path = tmp_path / "flexctl.yaml"
    path.write_text(bad, encoding="utf-8")
    code, _, err = run(capsys, "validate", str(path))
    assert code == 1
    assert "discounts.staff.percent: a discount is at most 100 percent" in err
    assert "discounts.summer.locations[0]: unknown location 'uptown'" in err
