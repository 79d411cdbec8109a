"""`flexctl validate`'s pricing lint: each rule warns on a failing config and not on a passing
one, warnings exit 0 (1 with --strict), and each can be silenced on its object or in policy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from flexctl.config.lint import PROFILE_WARNINGS, WARNINGS
from tests.config.cfg_helpers import Run, Write

BASE = """\
version: 1
organization: lint-test
currency: EUR
locations:
  main: {name: Main}
  annex: {name: Annex}
gateways:
  stripe: {provider: stripe, account: acct_1, secret_key: {env: X}, locations: [main]}
plans:
  desk: {name: Desk, billing: recurring, price: 200.00}
  pass: {name: Pass, billing: one_off, price: 20.00, locations: [main]}
rates:
  room: {name: Room, unit: hour, price: 30.00, full_day_price: 200.00}
  hall: {name: Hall, unit: day, price: 500.00, half_day_price: 300.00}
companies:
  acme:
    name: Acme
    location: main
    memberships:
      - {plan: desk, start: 2027-01-01, price: 150.00}
"""
STOREFRONT = "storefront: {enabled: true, plans: [pass], rates: [hall], locations: [main]}\n"

Edits = Sequence[tuple[str, str]]
OFFERED_AT_ANNEX = ("rates: [hall], locations: [main]}", "rates: [hall], locations: [main, annex]}")
FREE_DESK = ("desk: {name: Desk, billing: recurring, price: 200.00}",
             "desk: {name: Desk, billing: recurring, price: 0}")
# code -> (edits making the config fail, edits making it pass, where, message)
CASES: dict[str, tuple[Edits, Edits, str, str]] = {
    "FX101": ([("full_day_price: 200.00", "full_day_price: 250.00")],
              [("full_day_price: 200.00", "full_day_price: 240.00")],
              "cfg.yaml:13:48: rates.room.full_day_price",
              "8 hours at 30.00 cost 240.00, less than the full-day price 250.00: a whole day "
              "is cheaper by the hour"),
    "FX102": ([("half_day_price: 300.00", "half_day_price: 600.00")],
              [("half_day_price: 300.00", "half_day_price: 500.00")],
              "cfg.yaml:14:48: rates.hall.half_day_price",
              "half a day costs 600.00, more than the whole day's price 500.00"),
    "FX103": ([("price: 30.00,", "price: 30.00, off_hours_price: 35.00,")],
              [("price: 30.00,", "price: 30.00, off_hours_price: 30.00, weekend_price: 25.00,")],
              "cfg.yaml:13:48: rates.room.off_hours_price",
              "the off-hours price 35.00 is above the regular price 30.00"),
    "FX104": ([("price: 150.00}", "price: 99.99}")], [("price: 150.00}", "price: 100.00}")],
              "cfg.yaml:20:41: companies.acme.memberships[0].price",
              "99.99 is 49% of plan 'desk''s price 200.00: far below it (a missing digit?)"),
    "FX105": ([OFFERED_AT_ANNEX], [OFFERED_AT_ANNEX, ("locations: [main]}\nplans",
              "locations: [main]}\n  bank: {provider: bank_transfer, account: IE1}\nplans")],
              "cfg.yaml:21:52: storefront.rates[0]",
              "rate 'hall' is offered online at annex, where no payment gateway takes its "
              "payment"),
    # The plan is priced 0: a membership without a price of its own bills nothing.
    "FX106": ([FREE_DESK, (", price: 150.00}", "}")], [FREE_DESK],
              "cfg.yaml:10:42: plans.desk.price",
              "the price is 0 and 1 membership uses it without a price of its own: nothing is "
              "billed"),
}


def config(edits: Edits = (), storefront: str = STOREFRONT) -> str:
    text = BASE + storefront
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def failing(code: str) -> str:
    return config(CASES[code][0])


def passing(code: str) -> str:
    return config(CASES[code][1])


def test_the_base_config_has_no_warning(run: Run, write: Write) -> None:
    write("cfg.yaml", config())
    result = run("validate", "cfg.yaml", "--strict")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith("Valid: 2 locations") and "warning" not in result.out


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_warns_on_its_failing_config(run: Run, write: Write, code: str) -> None:
    write("cfg.yaml", failing(code))
    result = run("validate", "cfg.yaml")
    _, _, where, message = CASES[code]
    assert result.code == 0
    assert result.err == f"{where}: warning {code}: {message}\n"
    assert result.out.endswith("; 1 warning.\n")


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_is_quiet_on_its_passing_config(run: Run, write: Write, code: str) -> None:
    write("cfg.yaml", passing(code))
    result = run("validate", "cfg.yaml", "--strict")
    assert (result.code, result.err) == (0, "")


HALL = "half_day_price: 300.00}"
HALL_LINE = "  hall: {name: Hall, unit: day, price: 500.00, "  # line 14 of the base config


@pytest.mark.parametrize(("components", "warning"), [
    ("half_day_price: 300.00, weekend_half_day_price: 550.00}",
     "FX102: half a weekend day costs 550.00, more than the whole day's price 500.00"),
    ("half_day_price: 300.00, weekend_price: 400.00, weekend_half_day_price: 450.00}",
     "FX102: half a weekend day costs 450.00, more than the whole weekend day's price 400.00"),
    ("half_day_price: 300.00, weekend_half_day_price: 320.00}",
     "FX103: the weekend half-day price 320.00 is above the regular half-day price 300.00"),
    ("half_day_price: 300.00, weekend_half_day_price: 320.00, ignore_warnings: [FX103]}", None),
    ("half_day_price: 300.00, weekend_half_day_price: 250.00}", None),
])
def test_a_weekend_half_day_is_checked_like_a_half_day(
    run: Run, write: Write, components: str, warning: str | None
) -> None:
    write("cfg.yaml", config([(HALL, components)]))
    result = run("validate", "cfg.yaml")
    assert result.code == 0
    if warning is None:
        assert result.err == ""
    else:
        column = len(HALL_LINE) + components.index("weekend_half_day_price") + 1
        assert result.err == (f"cfg.yaml:14:{column}: rates.hall.weekend_half_day_price: "
                              f"warning {warning}\n")


def test_every_code_has_a_rule_and_a_case() -> None:
    assert sorted(CASES) == sorted(WARNINGS)


def test_every_code_is_documented_with_the_lint() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "pricing-lint.md").read_text()
    for code in [*WARNINGS, *PROFILE_WARNINGS]:
        assert f"\n| {code} |" in text, code


def test_strict_fails_on_a_warning(run: Run, write: Write) -> None:
    write("cfg.yaml", failing("FX103"))
    result = run("validate", "cfg.yaml", "--strict")
    assert result.code == 1
    assert "warning FX103" in result.err
    assert result.out.endswith("; 1 warning, which --strict does not allow.\n")


def test_json_carries_the_warnings(run: Run, write: Write) -> None:
    write("cfg.yaml", failing("FX102"))
    result = run("validate", "cfg.yaml", "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == [{
        "file": "cfg.yaml", "line": 14, "column": 48, "path": "rates.hall.half_day_price",
        "message": CASES["FX102"][3], "severity": "warning", "code": "FX102",
    }]
    assert result.err.startswith("Valid: ")


def test_a_warning_is_silenced_on_its_object(run: Run, write: Write) -> None:
    text = failing("FX102").replace("half_day_price: 600.00}",
                                    "half_day_price: 600.00, ignore_warnings: [FX102]}")
    write("cfg.yaml", text)
    result = run("validate", "cfg.yaml", "--strict")
    assert (result.code, result.err) == (0, "")


def test_another_objects_silence_does_not_apply(run: Run, write: Write) -> None:
    text = failing("FX102").replace("full_day_price: 200.00}",
                                    "full_day_price: 200.00, ignore_warnings: [FX102]}")
    write("cfg.yaml", text)
    assert "warning FX102" in run("validate", "cfg.yaml").err


def test_a_code_is_silenced_in_policy(run: Run, write: Write) -> None:
    text = failing("FX104") + "policy:\n  ignore_warnings: [FX104]\n"
    write("cfg.yaml", text)
    result = run("validate", "cfg.yaml", "--strict")
    assert (result.code, result.err) == (0, "")


def test_the_storefront_silences_its_offers(run: Run, write: Write) -> None:
    text = failing("FX105").replace("locations: [main, annex]}",
                                    "locations: [main, annex], ignore_warnings: [FX105]}")
    write("cfg.yaml", text)
    assert run("validate", "cfg.yaml", "--strict").code == 0


def test_an_unknown_code_is_an_error(run: Run, write: Write) -> None:
    write("cfg.yaml", config() + "policy: {ignore_warnings: [FX999]}\n")
    result = run("validate", "cfg.yaml")
    assert result.code == 1
    assert "policy.ignore_warnings[0]: expected 'FX101', " in result.err
    assert "got 'FX999'" in result.err


def test_no_warning_while_the_config_has_errors(run: Run, write: Write) -> None:
    text = failing("FX103").replace("plan: desk", "plan: nope")
    write("cfg.yaml", text)
    result = run("validate", "cfg.yaml")
    assert result.code == 1
    assert "warning" not in result.err and "unknown plan 'nope'" in result.err
