"""The rich money scenario the money tests share: harbor-works seeded, then edited so that one
plan holds every kind of money change.

The rich plan, on examples/harbor-works seeded as configured (automatic payment collection
off), as of 2027-01-15:
- a plan switch without a price override (Quay Studio, virtual office 45.00 -> hot desk at the
  new plan price 275.00) and one with an override (Acme, private office 1750.00 -> dedicated desk
  at 420.00);
- an ended membership (Lighthouse's second desk ends 2027-01-10) and a replaced invoiced line
  (its invoiced first desk ends 2026-12-31; a private office follows from 2027-01-01);
- a retroactive start (Chen Wei, hot desk at 240.00 from 2026-10-01: 4 months);
- fees with quantities and 4-decimal unit prices (Liam's colour printing 40 -> 42 at 0.0125:
  0.50 -> 0.53, half up; Chen's 333 pages at 0.0335 = 11.1555 -> 11.16), a pruned fee (15.00);
- the hot desk plan's price 250.00 -> 275.00 (two live memberships keep their own price): an
  update on `full`, a manual step on `officernd`; a rate price (future bookings);
- automatic payment collection turned on: it moves money now, so on `full` the plan is
  blocked by policy.money.allow_money_movement (false here); `officernd` cannot read it.
"""

from __future__ import annotations

from tests.commands.plan_helpers import Sandbox

AS_OF = ("--as-of", "2027-01-15")


def rich(sandbox: Sandbox) -> None:
    """Seed harbor-works (collection off), invoice Lighthouse's first desk, make the edits."""
    sandbox.edit("invoicing.yaml", "automatic_payment_collection: true",
                 "automatic_payment_collection: false")
    sandbox.seed()
    lighthouse = next(c for c in sandbox.live("companies") if c["name"] == "Lighthouse Labs")
    desk = next(m for m in sandbox.live("memberships") if m["company"] == lighthouse["_id"]
                and m["startDate"].startswith("2026-12-01"))
    sandbox.invoice(memberships=[desk["_id"]])
    edits = [
        ("invoicing.yaml", "automatic_payment_collection: false",
         "automatic_payment_collection: true"),
        ("organization.yaml", "allow_money_movement: true", "allow_money_movement: false"),
        ("services.yaml", "price: 250.00", "price: 275.00"),
        ("rates.yaml", "price: 30.00", "price: 32.00"),
        ("customers/companies.yaml", "- plan: virtual-office", "- plan: hot-desk"),
        ("customers/companies.yaml",
         "- plan: private-office-4\n        start: 2026-12-01\n        price: 1750.00",
         "- plan: dedicated-desk\n        start: 2026-12-01\n        price: 420.00"),
        ("customers/companies.yaml", "- {plan: dedicated-desk, start: 2026-12-01}",
         "- {plan: dedicated-desk, start: 2026-12-01, end: 2026-12-31}\n"
         "      - {plan: private-office-4, start: 2027-01-01, location: downtown}"),
        ("customers/companies.yaml", "start: 2027-01-04, location: downtown}",
         "start: 2027-01-04, end: 2027-01-10, location: downtown}"),
        ("customers/companies.yaml", "      - plan: locker\n        date: 2026-12-01\n"
                                     "        name: Locker 15 (December)\n", ""),
        ("customers/members.yaml", "quantity: 40}", "quantity: 42}"),
        ("customers/members.yaml", "    fees:\n      - {plan: day-pass, date: 2026-12-05",
         "    memberships:\n      - {plan: hot-desk, start: 2026-10-01, price: 240.00}\n"
         "    fees:\n      - {plan: printing, date: 2027-01-20, quantity: 333, price: 0.0335}\n"
         "      - {plan: day-pass, date: 2026-12-05"),
    ]
    for file, old, new in edits:
        sandbox.edit(file, old, new)
