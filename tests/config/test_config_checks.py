"""Semantic rules: each one with a failing config and the exact location of its error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from flexctl.config.rules import decimal_places
from flexctl.errors import ConfigError
from flexctl.kinds.configuration import load_config
from tests.config.cfg_helpers import Write
from tests.config_sections import sections

CATALOGUE = """\
version: 1
organization: harbor-works
currency: {currency}
locations:
  downtown: {{name: Downtown}}
  riverside: {{name: Riverside}}
tax_rates:
  standard: {{name: VAT 23%, rate: 23}}
revenue_accounts:
  memberships: {{name: Membership fees, tax_rate: standard}}
plans:
  hot-desk: {{name: Hot Desk, billing: recurring, price: 250}}
  printing: {{name: Printing, billing: one_off, price: 0.10}}
{plans}rates:
  room: {{name: Room, unit: hour, price: 30, full_day_price: 200}}
"""


def catalogue(currency: str = "EUR", plans: str = "", tail: str = "") -> str:
    """The catalogue, with more plans after `printing` and more sections at the end."""
    return CATALOGUE.format(currency=currency, plans=plans) + tail


def errors(write: Write, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        write(f"conf/{name}", text)
    with pytest.raises(ConfigError) as caught:
        load_config("conf")
    return [str(issue) for issue in caught.value.issues]


def test_valid_catalogue_loads(write: Write) -> None:
    write("conf/a.yaml", catalogue())
    assert sections(load_config("conf").config).rates["room"].full_day_price == 200


def test_references_in_the_second_file_are_located_there(write: Write) -> None:
    customers = """\
companies:
  acme:
    name: Acme
    location: uptown
    memberships:
      - {plan: hot-desk, start: 2026-12-01, location: downtown}
      - plan: hot-dsk
        start: 2026-12-01
        location: midtown
    fees:
      - {plan: printing, date: 2026-12-03, location: harbour}
members:
  jane:
    name: Jane
    email: jane@acme.example
    location: downtown
    company: acme-ltd
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": customers}) == [
        "conf/b.yaml:4:5: companies.acme.location: unknown location 'uptown'",
        "conf/b.yaml:7:9: companies.acme.memberships[1].plan: unknown plan 'hot-dsk' "
        "(did you mean 'hot-desk'?)",
        "conf/b.yaml:9:9: companies.acme.memberships[1].location: unknown location 'midtown' "
        "(did you mean 'downtown'?)",
        "conf/b.yaml:11:44: companies.acme.fees[0].location: unknown location 'harbour'",
        "conf/b.yaml:17:5: members.jane.company: unknown company 'acme-ltd' (did you mean 'acme'?)",
    ]


def test_catalogue_references(write: Write) -> None:
    plans = """\
  day-pass: {name: Day Pass, billing: one_off, price: 25, revenue_account: fees,
             locations: [downtown, uptown, downtown]}
"""
    tail = """\

gateways:
  bank: {provider: bank_transfer, account: IE00, locations: [riverside, docklands]}
storefront:
  enabled: true
  plans: [day-pass, gold]
  rates: [room, hall]
  locations: [riverside, moon]
"""
    text = catalogue(plans=plans, tail=tail).replace("tax_rate: standard", "tax_rate: reduced")
    assert errors(write, {"a.yaml": text}) == [
        "conf/a.yaml:10:40: revenue_accounts.memberships.tax_rate: unknown tax rate 'reduced'",
        "conf/a.yaml:14:59: plans.day-pass.revenue_account: unknown revenue account 'fees'",
        "conf/a.yaml:15:36: plans.day-pass.locations[1]: unknown location 'uptown'",
        "conf/a.yaml:15:44: plans.day-pass.locations[2]: 'downtown' is listed twice",
        "conf/a.yaml:20:73: gateways.bank.locations[1]: unknown location 'docklands'",
        "conf/a.yaml:23:21: storefront.plans[1]: unknown plan 'gold'",
        "conf/a.yaml:24:17: storefront.rates[1]: unknown rate 'hall'",
        "conf/a.yaml:25:26: storefront.locations[1]: unknown location 'moon'",
    ]


def test_plans_used_the_wrong_way_round(write: Write) -> None:
    member = """\
members:
  jane:
    name: Jane
    email: jane@acme.example
    location: downtown
    memberships:
      - {plan: printing, start: 2026-12-01}
    fees:
      - {plan: hot-desk, date: 2026-12-01}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": member}) == [
        "conf/b.yaml:7:10: members.jane.memberships[0].plan: plan 'printing' is one_off; a "
        "membership needs a recurring plan (charge one-off plans as fees)",
        "conf/b.yaml:9:10: members.jane.fees[0].plan: plan 'hot-desk' is recurring; a fee "
        "needs a one_off plan (assign recurring plans as memberships)",
    ]


def test_membership_end_before_start(write: Write) -> None:
    member = """\
members:
  jane:
    name: Jane
    email: jane@acme.example
    location: downtown
    memberships:
      - {plan: hot-desk, start: 2026-12-01, end: 2026-12-01}
      - {plan: hot-desk, start: 2027-01-01, end: 2026-12-31}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": member}) == [
        "conf/b.yaml:8:45: members.jane.memberships[1].end: end 2026-12-31 is before start "
        "2027-01-01",
    ]


def test_duplicate_memberships_and_fees(write: Write) -> None:
    company = """\
companies:
  acme:
    name: Acme
    location: downtown
    memberships:
      - {plan: hot-desk, start: 2026-12-01}
      - {plan: hot-desk, start: 2026-12-01, location: riverside}
      - {plan: hot-desk, start: 2027-01-01}
    fees:
      - {plan: printing, date: 2026-12-03}
      - {plan: printing, date: 2026-12-03, name: Printing (colour)}
      - {plan: printing, date: 2026-12-03, name: Printing}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": company}) == [
        "conf/b.yaml:7:9: companies.acme.memberships[1]: duplicate membership: same plan and "
        "start as memberships[0]",
        "conf/b.yaml:12:9: companies.acme.fees[2]: duplicate fee: same plan, date and name as "
        "fees[0]",
    ]


def test_member_emails_are_unique_ignoring_case(write: Write) -> None:
    members = """\
members:
  jane: {name: Jane, email: jane@acme.example, location: downtown}
  jane-2: {name: Jane, email: Jane@ACME.example, location: downtown}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": members}) == [
        "conf/b.yaml:3:24: members.jane-2.email: email 'Jane@ACME.example' is already used by "
        "member 'jane'",
    ]


def test_one_default_gateway_per_location(write: Write) -> None:
    gateways = """\
gateways:
  stripe: {provider: stripe, account: a, secret_key: {env: K}, default: true}
  bank: {provider: bank_transfer, account: b, locations: [riverside], default: true}
  other: {provider: bank_transfer, account: c, locations: [downtown]}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": gateways}) == [
        "conf/b.yaml:3:71: gateways.bank.default: gateway 'stripe' is already the default for "
        "location 'riverside'",
    ]
    split = gateways.replace(
        "secret_key: {env: K}, default", "secret_key: {env: K}, locations: [downtown], default"
    )
    write("conf/b.yaml", split)
    assert len(sections(load_config("conf").config).gateways) == 3


def test_keys_are_slugs(write: Write) -> None:
    plans = "plans:\n  Hot Desk: {name: Quiet Desk, billing: recurring, price: 1}\n"
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": plans}) == [
        "conf/b.yaml:2:3: plans.Hot Desk: key 'Hot Desk' must be a slug: lowercase letters, "
        "digits, '-' and '_', starting with a letter or digit",
    ]


def test_natural_keys_are_unique_unless_pinned(write: Write) -> None:
    extra = """\
plans:
  desk-a: {name: Desk, billing: recurring, price: 1}
  desk-b: {name: Desk, billing: recurring, price: 2}
  desk-c: {name: Desk, code: D3, billing: recurring, price: 3}
  desk-d: {name: Desk, id: 0123456789abcdef01234567, billing: recurring, price: 4}
companies:
  acme: {name: Acme, location: downtown}
  acme-2: {name: Acme, location: downtown}
gateways:
  s1: {provider: stripe, account: acct_1, secret_key: {env: K}}
  s2: {provider: stripe, account: acct_1, secret_key: {env: K}}
  b1: {provider: bank_transfer, account: acct_1}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": extra}) == [
        "conf/b.yaml:3:12: plans.desk-b.name: plans.desk-a has the same name 'Desk': live "
        "objects are matched by it, so give each its own or pin one with `id:`",
        "conf/b.yaml:8:12: companies.acme-2.name: companies.acme has the same name 'Acme': live "
        "objects are matched by it, so give each its own or pin one with `id:`",
        "conf/b.yaml:11:26: gateways.s2.account: gateways.s1 has the same stripe account "
        "'acct_1': live objects are matched by it, so give each its own or pin one with `id:`",
    ]


def test_rate_components_must_fit_the_unit(write: Write) -> None:
    rates = """\
rates:
  desk: {name: Desk, unit: day, price: 20, week_price: 90, off_hours_price: 10}
  hall: {name: Hall, unit: hour, price: 80, half_day_price: 300, weekend_price: 60}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": rates}) == [
        "conf/b.yaml:2:60: rates.desk.off_hours_price: 'off_hours_price' is not a component of "
        "a per-day rate (allowed: half_day_price, week_price, month_price, weekend_price)",
        "conf/b.yaml:3:45: rates.hall.half_day_price: 'half_day_price' is not a component of "
        "a per-hour rate (allowed: off_hours_price, weekend_price, full_day_price)",
    ]


def test_amounts_fit_the_currency(write: Write) -> None:
    plans = """\
  deposit-plan: {name: Office, billing: recurring, price: 250.005, deposit: 10.001}
  fine-print: {name: Fine print, billing: one_off, price: 0.0125}
  finer-print: {name: Finer print, billing: one_off, price: 0.00125}
"""
    tail = """\
companies:
  acme:
    name: Acme
    location: downtown
    memberships: [{plan: hot-desk, start: 2026-12-01, price: 99.999}]
    fees: [{plan: printing, date: 2026-12-01, price: 0.0001}]
"""
    text = catalogue(plans=plans, tail=tail).replace("price: 30,", "price: 30.505,")
    assert errors(write, {"a.yaml": text}) == [
        "conf/a.yaml:14:52: plans.deposit-plan.price: 250.005 has 3 decimal places; EUR amounts "
        "allow at most 2",
        "conf/a.yaml:14:68: plans.deposit-plan.deposit: 10.001 has 3 decimal places; EUR amounts "
        "allow at most 2",
        "conf/a.yaml:16:54: plans.finer-print.price: 0.00125 has 5 decimal places; unit prices "
        "of one-off plans and fees allow at most 4",
        "conf/a.yaml:18:34: rates.room.price: 30.505 has 3 decimal places; EUR amounts allow at "
        "most 2",
        "conf/a.yaml:23:55: companies.acme.memberships[0].price: 99.999 has 3 decimal places; "
        "EUR amounts allow at most 2",
    ]


@pytest.mark.parametrize(
    ("currency", "price", "ok"),
    [
        ("JPY", "250", True),
        ("JPY", "250.5", False),
        ("KWD", "2.125", True),
        ("KWD", "2.1255", False),
        ("USD", "2.10", True),
        ("USD", "2.100", True),
    ],
)
def test_minor_units_per_currency(write: Write, currency: str, price: str, ok: bool) -> None:
    write("conf/a.yaml", catalogue(currency).replace("price: 250}", f"price: {price}}}"))
    if ok:
        assert sections(load_config("conf").config).plans["hot-desk"].price == Decimal(price)
    else:
        with pytest.raises(ConfigError, match="decimal place"):
            load_config("conf")


def test_tax_rate_is_a_percentage(write: Write) -> None:
    text = catalogue().replace("rate: 23}", "rate: 123}")
    assert errors(write, {"a.yaml": text}) == [
        "conf/a.yaml:8:29: tax_rates.standard.rate: a tax rate is a percentage, at most 100, "
        "got 123",
    ]


def test_every_rule_is_reported_at_once(write: Write) -> None:
    members = """\
members:
  Jane: {name: Jane, email: jane@acme.example, location: nowhere}
  joe: {name: Joe, email: JANE@acme.example, location: downtown, company: none}
"""
    found = errors(write, {"a.yaml": catalogue(), "b.yaml": members})
    assert [line.split(": ")[1] for line in found] == [
        "members.Jane",
        "members.Jane.location",
        "members.joe.email",
        "members.joe.company",
    ]


@pytest.mark.parametrize(
    ("text", "places"),
    [("0.10", 1), ("25", 0), ("25.00", 0), ("1E+2", 0), ("1e-5", 5), ("0.000", 0), ("-1.25", 2)],
)
def test_decimal_places(text: str, places: int) -> None:
    assert decimal_places(Decimal(text)) == places


def test_path_of_errors_outside_any_file(write: Write, workdir: Path) -> None:
    write("conf/a.yaml", "organization: harbor-works\ncurrency: EUR\n")
    assert errors(write, {}) == ["conf/a.yaml:1:1: version: required key 'version' is missing"]


def test_schema_errors_and_rules_are_reported_in_one_run(write: Write) -> None:
    customers = """\
companies:
  acme: {name: Acme, location: downtown, memberships: [{plan: hot-desk, start: someday}]}
  globex: {name: Globex, location: mars}
members:
  jane: {name: Jane, email: jane@acme.example, location: downtown, company: acme}
  joe: {name: Joe, email: joe@acme.example, location: downtown, company: initech}
"""
    assert errors(write, {"a.yaml": catalogue(), "b.yaml": customers}) == [
        "conf/b.yaml:2:73: companies.acme.memberships[0].start: expected a date (YYYY-MM-DD), "
        "got 'someday'",
        "conf/b.yaml:3:26: companies.globex.location: unknown location 'mars'",
        # jane's company is malformed, not unknown: no second message about it
        "conf/b.yaml:6:65: members.joe.company: unknown company 'initech'",
    ]


def test_a_malformed_currency_skips_the_decimals_rule(write: Write) -> None:
    text = catalogue("euro").replace("price: 250}", "price: 250.555}")
    assert errors(write, {"a.yaml": text}) == [
        "conf/a.yaml:3:1: currency: 'euro' must be a three-letter ISO 4217 currency code such "
        "as EUR",
    ]


def test_currency_must_be_an_iso_4217_code(write: Write) -> None:
    assert errors(write, {"a.yaml": catalogue("EUE")}) == [
        "conf/a.yaml:3:1: currency: 'EUE' is not an ISO 4217 currency code",
    ]
    assert errors(write, {"a.yaml": catalogue("XAU")}) == [
        "conf/a.yaml:3:1: currency: 'XAU' is not an ISO 4217 currency code",
    ]


@pytest.mark.parametrize("currency", ["EUR", "USD", "GBP", "CHF", "JPY", "BHD", "AED", "ZAR"])
def test_common_currencies_are_accepted(write: Write, currency: str) -> None:
    write("conf/a.yaml", catalogue(currency).replace("price: 0.10}", "price: 1}"))
    assert load_config("conf").config.currency == currency


def test_an_id_is_pinned_by_one_object_of_a_kind(write: Write) -> None:
    pin = "64b0c0ffee0000000000000a"
    text = catalogue(tail=f"""\
companies:
  acme:
    name: Acme
    id: {pin}
    location: downtown
    memberships:
      - {{plan: hot-desk, start: 2027-01-01, id: {pin}}}
  globex:
    name: Globex
    id: {pin}
    location: downtown
    memberships:
      - {{plan: hot-desk, start: 2027-02-01, id: {pin}}}
""").replace("downtown: {name: Downtown}", f"downtown: {{name: Downtown, id: {pin}}}")
    assert errors(write, {"a.yaml": text}) == [
        # a location and a company may share nothing but the id space of their own kind
        f"conf/a.yaml:25:5: companies.globex.id: id {pin} is already pinned by companies.acme",
        f"conf/a.yaml:28:45: companies.globex.memberships[0].id: id {pin} is already pinned "
        "by companies.acme.memberships[0]",
    ]
