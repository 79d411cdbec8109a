"""The repricing configuration: a membership line's `changes`, `repricing` campaigns and
`policy.lock_date`, each rule with a failing config and the exact location of its error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flexctl.kinds.configuration import load_config
from flexctl.kinds.repricing import campaigns, increase_price
from tests.config.cfg_helpers import Write
from tests.config.test_config_checks import catalogue, errors

CUSTOMERS = """\
companies:
  acme:
    name: Acme
    location: downtown
    memberships:
      - plan: hot-desk
        start: 2025-03-01
        price: 250.00
{changes}members:
  sofia:
    name: Sofia Rossi
    email: sofia@example.com
    location: downtown
"""

GOOD = """\
        changes:
          - {from: 2026-07-01, location: riverside}
          - {from: 2027-01-01, price: 270.00}
"""

CAMPAIGN = """\
repricing:
  hot-desk-2027:
    plan: hot-desk
    from: 2027-01-01
    increase: 8%
    notice_days: 30
    except: [companies.acme, members.sofia]
"""


def config(changes: str = GOOD, tail: str = "") -> str:
    return catalogue(tail=CUSTOMERS.format(changes=changes) + tail)


def test_changes_campaign_and_lock_date_load(write: Write) -> None:
    write("conf/a.yaml", config(tail=CAMPAIGN + "policy: {lock_date: 2026-10-31}\n"))
    loaded = load_config("conf").config
    line = loaded.section("companies")["acme"].memberships[0]
    assert [(c.from_, c.price, c.location) for c in line.changes] == [
        (date(2026, 7, 1), None, "riverside"), (date(2027, 1, 1), Decimal("270.00"), None)]
    campaign = campaigns(loaded)["hot-desk-2027"]
    assert (campaign.plan, campaign.from_, campaign.increase, campaign.notice_days) == (
        "hot-desk", date(2027, 1, 1), "8%", 30)
    assert campaign.except_ == ["companies.acme", "members.sofia"]
    assert loaded.policy.lock_date == date(2026, 10, 31)


def test_change_rules_are_located(write: Write) -> None:
    empty = "        changes:\n          - {from: 2027-08-01}\n"
    assert errors(write, {"a.yaml": config(empty)}) == [
        "conf/a.yaml:25:13: companies.acme.memberships[0].changes[0]: a change needs at least "
        "one of `price`, `plan` or `location`",
    ]
    bad = """\
        end: 2027-06-30
        changes:
          - {from: 2025-03-01, price: 260.00}
          - {from: 2026-01-01, plan: nope, location: nowhere}
          - {from: 2025-12-31, price: 1.005}
          - {from: 2027-07-01, price: 280.00}
"""
    assert errors(write, {"a.yaml": config(bad)}) == [
        "conf/a.yaml:26:14: companies.acme.memberships[0].changes[0].from: from 2025-03-01 "
        "must be after the line's start (2025-03-01)",
        "conf/a.yaml:27:32: companies.acme.memberships[0].changes[1].plan: unknown plan 'nope'",
        "conf/a.yaml:27:44: companies.acme.memberships[0].changes[1].location: unknown "
        "location 'nowhere'",
        "conf/a.yaml:28:14: companies.acme.memberships[0].changes[2].from: from 2025-12-31 "
        "must be after the previous change (2026-01-01)",
        "conf/a.yaml:28:32: companies.acme.memberships[0].changes[2].price: 1.005 has 3 "
        "decimal places; EUR amounts allow at most 2",
        "conf/a.yaml:29:14: companies.acme.memberships[0].changes[3].from: from 2027-07-01 "
        "is after the line's end 2027-06-30",
    ]


def test_change_to_a_one_off_plan_is_refused(write: Write) -> None:
    found = errors(write, {"a.yaml": config("        changes: [{from: 2026-01-01, "
                                            "plan: printing}]\n")})
    assert found == ["conf/a.yaml:24:38: companies.acme.memberships[0].changes[0].plan: plan "
                     "'printing' is one_off; a membership needs a recurring plan"]


def test_campaign_needs_exactly_one_of_price_or_increase(write: Write) -> None:
    for body in ("price: 1, increase: 2%", "notice_days: 3"):
        found = errors(write, {"a.yaml": config(tail="repricing:\n  c: {plan: hot-desk, "
                                                f"from: 2027-01-01, {body}}}\n")})
        assert found == ["conf/a.yaml:33:3: repricing.c: give exactly one of `price` or "
                         "`increase`"]
    found = errors(write, {"a.yaml": config(tail="repricing:\n  c: {plan: hot-desk, "
                                            "from: 2027-01-01, increase: eight}\n")})
    assert found == ["conf/a.yaml:33:41: repricing.c.increase: expected a percentage such as "
                     "\"8%\", got 'eight'"]
    found = errors(write, {"a.yaml": config(tail="repricing:\n  c: {plan: hot-desk, "
                                            "from: 2027-01-01, increase: -5%}\n")})
    assert found == ["conf/a.yaml:33:41: repricing.c.increase: expected a percentage such as "
                     "\"8%\", got '-5%' (a decrease: give the new `price` instead)"]


def test_campaign_rules_are_located(write: Write) -> None:
    bad = """\
repricing:
  a:
    plan: printing
    from: 2027-01-01
    price: 1.001
    except: [companies.acme, companies.acme, members.nobody, acme]
  b: {plan: printing, from: 2027-01-01, increase: 5%}
"""
    assert errors(write, {"a.yaml": config(tail=bad)}) == [
        "conf/a.yaml:34:5: repricing.a.plan: plan 'printing' is one_off; a campaign "
        "reprices memberships, which need a recurring plan",
        "conf/a.yaml:36:5: repricing.a.price: 1.001 has 3 decimal places; EUR amounts allow "
        "at most 2",
        "conf/a.yaml:37:30: repricing.a.except[1]: 'companies.acme' is listed twice",
        "conf/a.yaml:37:46: repricing.a.except[2]: unknown member 'nobody'",
        "conf/a.yaml:37:62: repricing.a.except[3]: 'acme' is not a customer address: write "
        "companies.KEY or members.KEY",
        "conf/a.yaml:38:7: repricing.b.plan: plan 'printing' is one_off; a campaign "
        "reprices memberships, which need a recurring plan",
        "conf/a.yaml:38:23: repricing.b.from: campaign 'a' already changes plan 'printing' "
        "from 2027-01-01",
    ]


def test_campaign_key_must_be_a_slug(write: Write) -> None:
    found = errors(write, {"a.yaml": config(tail="repricing:\n  Bad: {plan: hot-desk, "
                                            "from: 2027-01-01, price: 270}\n")})
    assert found == ["conf/a.yaml:33:3: repricing.Bad: key 'Bad' must be a slug: lowercase "
                     "letters, digits, '-' and '_', starting with a letter or digit"]


def test_increase_rounds_half_up_to_the_currency() -> None:
    assert increase_price(Decimal("250.00"), "8%", 2) == Decimal("270.00")
    assert increase_price(Decimal("12.35"), "10%", 2) == Decimal("13.59")  # 13.585
    assert increase_price(Decimal("45.50"), "8%", 2) == Decimal("49.14")  # 49.140
    assert increase_price(Decimal("1000"), "2.5%", 0) == Decimal("1025")
    assert increase_price(Decimal("999"), "0.05%", 0) == Decimal("999")  # 999.4995
    assert increase_price(Decimal("10"), "5%", 0) == Decimal("11")  # 10.5
