"""`flexctl validate`: the summary, the error formats, and the shipped examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flexctl.cli import main
from flexctl.config.lint import PROFILE_WARNINGS, WARNINGS

REPO = Path(__file__).resolve().parents[2]
INVALID = sorted((REPO / "examples" / "invalid").glob("*.yaml"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_example_is_valid_with_a_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert run(capsys, "examples/harbor-works") == (
        0,
        "Valid: 2 locations, 2 tax rates, 5 revenue accounts, 2 gateways, 10 plans, 3 rates, "
        "4 companies, 6 members, 6 memberships, 7 fees.\n",
        "",
    )


def test_path_defaults_to_the_current_directory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO / "examples" / "harbor-works")
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith("Valid: 2 locations")


def test_json_format_when_valid(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run(capsys, "examples/harbor-works", "--format", "json")
    assert (code, json.loads(out)) == (0, [])
    assert err.startswith("Valid: ")  # for people: stderr, so stdout stays pure JSON


@pytest.mark.parametrize("case", INVALID, ids=[path.stem for path in INVALID])
def test_invalid_examples_give_their_expected_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: Path
) -> None:
    monkeypatch.chdir(REPO)
    relative = case.relative_to(REPO).as_posix()
    code, out, err = run(capsys, relative)
    assert (code, out) == (1, "")
    assert err == case.with_suffix(".expected").read_text()


def test_json_format_lists_every_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run(capsys, "examples/invalid/typos.yaml", "--format", "json")
    assert (code, err) == (1, "")
    errors = json.loads(out)
    assert len(errors) == 7
    assert errors[0] == {
        "file": "examples/invalid/typos.yaml",
        "line": 10,
        "column": 3,
        "path": "plans.hot-desk.price",
        "message": "required key 'price' is missing",
        "severity": "error",
        "code": None,
    }
    expected = (REPO / "examples/invalid/typos.expected").read_text().splitlines()
    lines = [f"{e['file']}:{e['line']}:{e['column']}: {e['path']}: {e['message']}" for e in errors]
    assert lines == expected


def test_json_format_for_unreadable_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_bytes(b"\x00\x01")
    code, out, _ = run(capsys, "bad.yaml", "--format", "json")
    assert code == 1
    assert json.loads(out) == [
        {
            "file": "bad.yaml",
            "line": 1,
            "column": 1,
            "path": "",
            "message": "binary content: this is not a YAML text",
            "severity": "error",
            "code": None,
        }
    ]


IMPOSSIBLE_DATES = """\
version: 1
organization: x
currency: EUR
policy: {lock_date: 2027-13-01}
plans:
  hd: {name: HD, billing: recurring, price: 10, pricee: 3}
members:
  a:
    name: A
    email: a@x.example
    start: 2026-02-30
    memberships:
      - {plan: hd, start: 2026-13-01}
      - {plan: hd, start: 2026-13-01}
"""


def test_every_impossible_date_is_reported_with_every_other_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dates").mkdir()
    (tmp_path / "dates" / "c.yaml").write_text(IMPOSSIBLE_DATES)
    expected = [
        "dates/c.yaml:4:21: policy.lock_date: invalid date '2027-13-01': month must be in 1..12",
        "dates/c.yaml:6:49: plans.hd.pricee: unknown key 'pricee' (did you mean 'price'?)",
        "dates/c.yaml:8:3: members.a.location: required key 'location' is missing",
        "dates/c.yaml:11:12: members.a.start: invalid date '2026-02-30': "
        "day is out of range for month",
        "dates/c.yaml:13:27: members.a.memberships[0].start: invalid date '2026-13-01': "
        "month must be in 1..12",
        "dates/c.yaml:14:27: members.a.memberships[1].start: invalid date '2026-13-01': "
        "month must be in 1..12",
    ]
    code, out, err = run(capsys, "dates")
    assert (code, out, err.splitlines()) == (1, "", expected)
    code, out, err = run(capsys, "dates", "--format", "json")
    assert (code, err) == (1, "")
    lines = [f"{e['file']}:{e['line']}:{e['column']}: {e['path']}: {e['message']}"
             for e in json.loads(out)]
    assert lines == expected


def test_paths_outside_the_current_directory_are_absolute(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "conf" / "a.yaml").write_text("version: 2\norganization: x\ncurrency: EUR\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = run(capsys, "../conf")
    assert code == 1
    assert err.startswith(f"{tmp_path / 'conf' / 'a.yaml'}:1:1: version: expected 1, got 2\n")


def test_bad_format_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, ".", "--format", "xml")
    assert code == 64
    assert "xml" in err


NUMBERS_HEAD = """\
version: 1
organization: harbor-works
currency: EUR
locations:
  downtown: {name: Downtown}
plans:
  desk:
    name: Desk
    billing: recurring
    price: PRICE
"""


@pytest.mark.parametrize(
    ("price", "where", "message"),
    [
        ("1e400", "10:5", "1E+400 is too large (the limit is 999999999999)"),
        ("1e1000000", "10:5", "1E+1000000 is too large (the limit is 999999999999)"),
        ("-1e1000000", "10:5", "-1E+1000000 is too large (the limit is 999999999999)"),
        (
            "1e999999999999999999",
            "10:5",
            "1E+999999999999999999 is too large (the limit is 999999999999)",
        ),
        # Past what Decimal can hold: refused where the number is written.
        ("1e9999999999999999999", "10:12", "1e9999999999999999999 is out of range for a number"),
        ("-1e-999999999999999999999", "10:12", "-1e-999999999999999999999 is out of range"),
        ("1e-1000000", "10:5", "1E-1000000 has 1000000 decimal places; EUR amounts allow at most"),
        ("-0", "10:5", "a zero must not have a minus sign, got -0"),
        ("-0.00", "10:5", "a zero must not have a minus sign, got -0.00"),
        ("-0e3", "10:5", "a zero must not have a minus sign, got -0E+3"),
        ("-" + "0" * 200, "10:5", "a zero must not have a minus sign, got -0"),
    ],
)
def test_an_out_of_range_or_negative_zero_amount_is_a_located_error(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    price: str,
    where: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(NUMBERS_HEAD.replace("PRICE", price))
    code, out, err = run(capsys, "config.yaml")
    assert (code, out) == (1, "")
    assert err.startswith(f"config.yaml:{where}: plans.desk.price: {message}"), err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("section", "path", "message"),
    [
        (
            "tax_rates:\n  vat: {name: VAT, rate: -0.0}\n",
            "12:20: tax_rates.vat.rate",
            "a zero must not have a minus sign, got -0.0",
        ),
        (
            "tax_rates:\n  vat: {name: VAT, rate: 1e1000000}\n",
            "12:20: tax_rates.vat.rate",
            "1E+1000000 is too large (the limit is 999999999999)",
        ),
        (
            "policy: {max_change_ratio: -0}\n",
            "11:10: policy.max_change_ratio",
            "a zero must not have a minus sign, got -0",
        ),
        (
            "policy: {max_change_ratio: -1e1000000}\n",
            "11:10: policy.max_change_ratio",
            "-1E+1000000 is too large (the limit is 999999999999)",
        ),
        (
            "members:\n  m:\n    name: M\n    email: m@example.org\n    location: downtown\n"
            "    memberships:\n      - {plan: desk, start: 2026-12-01, price: -0.00}\n",
            "17:41: members.m.memberships[0].price",
            "a zero must not have a minus sign, got -0.00",
        ),
        (
            "members:\n  m:\n    name: M\n    email: m@example.org\n    location: downtown\n"
            "    memberships:\n"
            "      - {plan: desk, start: 2026-12-01, price: -1e-99999999999999999999}\n",
            "17:48: members.m.memberships[0].price",
            "-1e-99999999999999999999 is out of range for a number",
        ),
        (
            "members:\n  m:\n    name: M\n    email: m@example.org\n    location: downtown\n"
            "    fees:\n      - {plan: desk, date: 2026-12-01, quantity: 1e1000000}\n",
            "17:40: members.m.fees[0].quantity",
            "expected an integer, got 1E+1000000",
        ),
        (
            "members:\n  m:\n    name: M\n    email: m@example.org\n    location: downtown\n"
            "    fees:\n      - {plan: desk, date: 2026-12-01, quantity: "
            "1000000000000000000000000000000}\n",
            "17:40: members.m.fees[0].quantity",
            "Input should be less than or equal to 1000000",
        ),
    ],
)
def test_numbers_out_of_range_or_negative_zero_anywhere_are_located_errors(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    section: str,
    path: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(NUMBERS_HEAD.replace("PRICE", "250") + section)
    code, out, err = run(capsys, "config.yaml")
    assert (code, out) == (1, "")
    assert err.startswith(f"config.yaml:{path}: {message}\n"), err


@pytest.mark.parametrize("price", ["0", "0.00", "+0", "0e5", "250.00"])
def test_zero_without_a_sign_is_a_valid_amount(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    price: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(NUMBERS_HEAD.replace("PRICE", price))
    code, out, err = run(capsys, "config.yaml")
    assert (code, err) == (0, "")
    assert out.startswith("Valid: 1 location")


PROFILED = """\
version: 1
organization: harbor-works
currency: EUR
locations:
  downtown: {name: Downtown}
plans:
  desk: {name: Desk, billing: recurring, price: 200}
companies:
  acme:
    name: Acme
    location: downtown
    memberships:
      - {plan: desk, start: 2026-12-01, price: 50}
  dated: {name: Dated, location: downtown, start: 2026-01-01}
members:
  jane: {name: Jane, email: jane@example.org, location: downtown}
"""
ACME_START = ("config.yaml:9:3: companies.acme: warning FX201: no `start`: the platform's admin "
              "portal asks for a company's start date; creating it sends the day of the apply")
ACME_PRICE = ("config.yaml:13:41: companies.acme.memberships[0].price: warning FX104: 50 is "
              "25% of plan 'desk''s price 200: far below it (a missing digit?)")
JANE_START = ("config.yaml:16:3: members.jane: warning FX201: no `start`: the platform's admin "
              "portal asks for a member's start date; creating it sends the day of the apply")


@pytest.fixture
def profiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEXCTL_API_URL", raising=False)
    (tmp_path / "config.yaml").write_text(PROFILED)
    return tmp_path


@pytest.mark.usefixtures("profiled")
def test_profile_warnings_are_warnings_like_the_lint_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "config.yaml", "--profile", "officernd")
    assert code == 0
    assert err.splitlines() == [ACME_START, ACME_PRICE, JANE_START]  # in file order, one format
    assert out.endswith("; 3 warnings.\n"), out
    code, out, err = run(capsys, "config.yaml", "--profile", "full")
    assert (code, err.splitlines()) == (0, [ACME_PRICE])
    assert out.endswith("; 1 warning.\n"), out


@pytest.mark.usefixtures("profiled")
def test_profile_warnings_are_in_the_json_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "config.yaml", "--profile", "officernd", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert [(w["severity"], w["code"], w["path"]) for w in listed] == [
        ("warning", "FX201", "companies.acme"),
        ("warning", "FX104", "companies.acme.memberships[0].price"),
        ("warning", "FX201", "members.jane"),
    ]
    assert {w["code"] for w in listed} <= {*WARNINGS, *PROFILE_WARNINGS}  # documented codes
    assert listed[2] == {
        "file": "config.yaml", "line": 16, "column": 3, "path": "members.jane",
        "message": JANE_START.split("FX201: ")[1], "severity": "warning", "code": "FX201",
    }
    assert err.startswith("Valid: ") and err.endswith("; 3 warnings.\n"), err


def test_strict_fails_on_a_profile_warning(
    capsys: pytest.CaptureFixture[str], profiled: Path
) -> None:
    config = profiled / "config.yaml"
    config.write_text(PROFILED.replace("price: 50}", "price: 150}"))  # no pricing warning
    code, out, err = run(capsys, "config.yaml", "--profile", "officernd", "--strict")
    assert (code, err.splitlines()) == (1, [ACME_START, JANE_START])
    assert out.endswith("; 2 warnings, which --strict does not allow.\n"), out
    started = (PROFILED.replace("price: 50}", "price: 150}")
               .replace("    memberships:", "    start: 2026-01-01\n    memberships:")
               .replace("location: downtown}\n", "location: downtown, start: 2026-01-01}\n"))
    config.write_text(started)
    assert run(capsys, "config.yaml", "--profile", "officernd", "--strict")[:1] == (0,)


def test_the_real_platform_s_url_brings_its_profile_warnings(
    capsys: pytest.CaptureFixture[str], profiled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEXCTL_API_URL", "https://app.officernd.com/api/v2")
    code, _, err = run(capsys, "config.yaml", "--strict")
    assert (code, err.splitlines()) == (1, [ACME_START, ACME_PRICE, JANE_START])
