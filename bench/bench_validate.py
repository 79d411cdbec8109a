"""Benchmark: validate a generated organization of 2,000 companies, 10,000 members,
12,000 memberships and 30,000 fees (split over several files). Prints seconds and peak memory.

    .venv/bin/python bench/bench_validate.py [--profile]

Target: under 10 seconds. Not a test: run it by hand after changing the loader or the checks.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

from flexctl.config.loader import discover
from flexctl.kinds.configuration import load_config

COMPANIES = 2_000
MEMBERS = 10_000
MEMBER_FILES = 5
HEADER = """\
version: 1
organization: bench-works
currency: EUR
locations:
  downtown: {name: Bench Downtown}
  riverside: {name: Bench Riverside}
plans:
  hot-desk: {name: Hot Desk, billing: recurring, price: 250.00}
  office: {name: Private Office, billing: recurring, price: 1850.00, locations: [downtown]}
  printing: {name: Printing, billing: one_off, price: 0.10}
  day-pass: {name: Day Pass, billing: one_off, price: 25.00}
"""


def _company(number: int) -> str:
    location = "downtown" if number % 2 else "riverside"
    fees = "".join(
        f"      - {{plan: printing, date: 2026-12-{day:02d}, quantity: {number % 90 + 1}}}\n"
        for day in range(1, 6)
    )
    return (
        f"  company-{number}:\n"
        f"    name: Company {number} Ltd\n"
        f"    email: billing@company-{number}.example\n"
        f"    location: {location}\n"
        f"    billing_details: {{billing_name: Company {number} Ltd, "
        f"vat_number: IE{number:07d}X}}\n"
        f"    memberships:\n"
        f"      - plan: office\n"
        f"        start: 2026-12-01\n"
        f"        price: 1750.00\n"
        f"        location: downtown\n"
        f"    fees:\n{fees}"
    )


def _member(number: int) -> str:
    return (
        f"  member-{number}:\n"
        f"    name: Member {number}\n"
        f"    email: Member.{number}@example.org\n"
        f"    company: company-{number % COMPANIES}\n"
        f"    location: riverside\n"
        f"    billing_person: {'true' if number % 5 == 0 else 'false'}\n"
        f"    memberships:\n"
        f"      - {{plan: hot-desk, start: 2026-12-01, price: 225.00}}\n"
        f"    fees:\n"
        f"      - plan: day-pass\n"
        f"        date: 2026-12-02\n"
        f"      - {{plan: printing, date: 2026-12-03, quantity: 20, price: 0.0125}}\n"
    )


def generate(directory: Path) -> None:
    """Write the organization as organization.yaml, companies.yaml and members-N.yaml."""
    (directory / "organization.yaml").write_text(HEADER)
    companies = "".join(_company(number) for number in range(COMPANIES))
    (directory / "companies.yaml").write_text("companies:\n" + companies)
    per_file = MEMBERS // MEMBER_FILES
    for part in range(MEMBER_FILES):
        numbers = range(part * per_file, (part + 1) * per_file)
        text = "members:\n" + "".join(_member(number) for number in numbers)
        (directory / f"members-{part}.yaml").write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        generate(directory)
        size = sum(path.stat().st_size for path in discover(directory))
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        loaded = load_config(directory)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    config = loaded.config
    customers = [*config.companies.values(), *config.members.values()]
    memberships = sum(len(customer.memberships) for customer in customers)
    fees = sum(len(customer.fees) for customer in customers)
    # ru_maxrss is in KiB on Linux: the peak of the whole process, generation included.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"validated {len(config.companies)} companies, {len(config.members)} members, "
        f"{memberships} memberships, {fees} fees ({size / 1e6:.1f} MB of YAML in "
        f"{len(loaded.files)} files) in {seconds:.2f} s; peak memory {peak_mib:.0f} MiB"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
