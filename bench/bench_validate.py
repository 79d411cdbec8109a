"""Benchmark: validate a generated organization of 2,000 companies, 10,000 members,
12,000 memberships and 30,000 fees (split over several files), written twice: once plain, and
once with CRLF line endings, a backslash escape in a double-quoted string and a block scalar in
every file. Prints seconds, CPU seconds and MB/s of each, and how they compare.

    .venv/bin/python bench/bench_validate.py [--repeat N] [--plain-only] [--profile]

Targets: plain files under 10 seconds; the special files cost at most 1.5x per megabyte what
the plain files cost (a file outside a fast subset must not fall to a slow reader); plain
validate no slower than before the single C-speed reader. Not a test: run it by hand after
changing the loader or the checks.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flexctl.config.loader import discover
from flexctl.kinds.configuration import LoadedConfig, load_config

COMPANIES = 2_000
MEMBERS = 10_000
MEMBER_FILES = 5
# Most per megabyte the special files may cost, relative to the plain ones.
SPECIAL_LIMIT = 1.5
# Plain validate CPU seconds with the subset reader and ruamel fallback (commit 44b3b44, the
# last before the single reader), best of 3 on the shared 2-core development machine under
# light load. CPU seconds grow with the machine's load: when it is busy, run that commit's
# flexctl alongside rather than trusting this figure.
BEFORE_CPU_SECONDS = 1.85
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
# The special variant writes one plan in block style, so that its file can hold a block scalar.
HOT_DESK_BLOCK = """\
  hot-desk:
    name: Hot Desk
    billing: recurring
    price: 250.00
"""
_FIRST_NAME = re.compile(r"^    name: (\S+) (.*)$", re.MULTILINE)


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


def _special(text: str) -> str:
    """The first block-style `name:` of the file written with an escape (the same value),
    followed by a literal block scalar."""
    text = text.replace(HEADER.splitlines()[7] + "\n", HOT_DESK_BLOCK)

    def escaped(match: re.Match[str]) -> str:
        first, rest = match.groups()
        return (
            f'    name: "{first}\\x20{rest}"\n'
            "    description: |\n"
            "      Written as a literal block scalar, kept line by line.\n"
            "      A second line.\n"
        )

    special, count = _FIRST_NAME.subn(escaped, text, count=1)
    assert count == 1, "every file has a block-style name to rewrite"
    return special


def generate(directory: Path, special: bool = False) -> None:
    """Write the organization as organization.yaml, companies.yaml and members-N.yaml;
    `special` writes CRLF line endings, an escape and a block scalar in every file."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "organization.yaml": HEADER,
        "companies.yaml": "companies:\n" + "".join(_company(n) for n in range(COMPANIES)),
    }
    per_file = MEMBERS // MEMBER_FILES
    for part in range(MEMBER_FILES):
        numbers = range(part * per_file, (part + 1) * per_file)
        files[f"members-{part}.yaml"] = "members:\n" + "".join(_member(n) for n in numbers)
    for name, text in files.items():
        if special:
            (directory / name).write_text(_special(text), newline="\r\n")
        else:
            (directory / name).write_text(text)


@dataclass
class Run:
    """The best of N validations of one directory."""

    loaded: LoadedConfig
    megabytes: float
    seconds: float
    cpu_seconds: float
    peak_mib: float  # of the whole process after the first validation, generation included

    @property
    def cpu_per_megabyte(self) -> float:
        return self.cpu_seconds / self.megabytes

    def line(self, label: str) -> str:
        return (
            f"{label:8} {self.megabytes:4.1f} MB  {self.seconds:6.2f} s  "
            f"{self.cpu_seconds:6.2f} s CPU  {self.megabytes / self.cpu_seconds:5.2f} MB/s (CPU)"
        )


def validate(directory: Path, repeat: int, profiler: cProfile.Profile | None = None) -> Run:
    megabytes = sum(path.stat().st_size for path in discover(directory)) / 1e6
    best: Run | None = None
    peak_mib = 0.0
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        # The loader itself: no entry of the loaded-configuration cache is read or written
        # (a second repeat would read the first one's back).
        loaded = load_config(directory, cache=False)
        if profiler:
            profiler.disable()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        # ru_maxrss is in KiB on Linux; later runs would also count the best run's config.
        peak_mib = peak_mib or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        run = Run(loaded, megabytes, seconds, cpu_seconds, peak_mib)
        if best is None or run.cpu_seconds < best.cpu_seconds:
            best = run
    assert best is not None
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="validate N times, keep the best")
    parser.add_argument("--plain-only", action="store_true", help="skip the special files")
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp, "plain"))
        plain = validate(Path(tmp, "plain"), args.repeat, profiler)
        special = None
        if not args.plain_only:
            generate(Path(tmp, "special"), special=True)
            special = validate(Path(tmp, "special"), args.repeat)
    config = plain.loaded.config
    customers = [*config.companies.values(), *config.members.values()]
    memberships = sum(len(customer.memberships) for customer in customers)
    fees = sum(len(customer.fees) for customer in customers)
    print(
        f"validated {len(config.companies)} companies, {len(config.members)} members, "
        f"{memberships} memberships, {fees} fees in {len(plain.loaded.files)} files "
        f"(best of {args.repeat}); peak memory {plain.peak_mib:.0f} MiB"
    )
    print(plain.line("plain"))
    verdict = (
        "ok"
        if plain.cpu_seconds <= BEFORE_CPU_SECONDS
        else "ABOVE: slower, or a busy machine (run commit 44b3b44 alongside to tell)"
    )
    print(f"         plain before the single reader: {BEFORE_CPU_SECONDS:.2f} s CPU: {verdict}")
    if special is not None:
        print(special.line("special"))
        ratio = special.cpu_per_megabyte / plain.cpu_per_megabyte
        verdict = "ok" if ratio <= SPECIAL_LIMIT else "OVER THE LIMIT"
        print(
            f"         special/plain: {ratio:.2f}x CPU per MB (limit {SPECIAL_LIMIT}x): {verdict}; "
            f"{special.cpu_seconds / plain.cpu_seconds:.2f}x in total"
        )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
