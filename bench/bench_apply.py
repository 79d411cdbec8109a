"""Benchmark: `flexctl apply` of 1,000 creates, and of 4,000, against an emulator with 50 ms per
request served from another process.

Run: `.venv/bin/python bench/bench_apply.py [--companies 333] [--scale 4] [--latency-ms 50]
[--parallelism 8]`. Serves the emulator on loopback (in a child process, so that the CPU
measured here is flexctl's alone) with the latency injected into every request, raises the
client's rate limits out of the way (so concurrency is what is measured), and applies a
generated configuration: a location, a plan, and per company a member and a membership (1,001
creates for 333 companies; members wait for their company, memberships for it too); then the
same with `--scale` times the companies. For each it prints seconds, requests, the ratio to the
floor, requests x latency / parallelism (every request takes the latency; `--parallelism`
requests can be in flight; target < 1.5), and flexctl's CPU seconds; then the CPU at the
larger scale over the CPU at 1x, whose floor is the scale itself (linear) and target
at most 1.1 x scale (4.4 at 4x).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

# Run as a script, this directory is on sys.path.
from served import served

from flexctl.cli import main as flexctl
from flexctl.emulator.app import Emulator
from flexctl.kinds.configuration import config_model

ORG = "bench-works"


def config_yaml(companies: int) -> str:
    lines = [
        "version: 1", f"organization: {ORG}", "currency: EUR",
        "locations:", "  hq: {name: Bench HQ}",
        "plans:", "  desk: {name: Bench Desk, billing: recurring, price: 200.00}",
        "companies:",
    ]
    for i in range(companies):
        lines += [f"  c{i:04d}:", f"    name: Company {i:04d}", "    location: hq",
                  "    memberships:", f"      - {{plan: desk, start: 2026-12-{1 + i % 28:02d}}}"]
    lines.append("members:")
    lines += [f"  m{i:04d}: {{name: Member {i:04d}, email: m{i:04d}@example.test, "
              f"company: c{i:04d}, location: hq}}" for i in range(companies)]
    return "\n".join(lines) + "\n"


def run(companies: int, latency_ms: int, parallelism: int) -> float:
    """Apply the generated configuration; print its figures; return flexctl's CPU seconds."""

    def setup(app: Emulator) -> None:
        app.faults.configure([{"fault": "latency", "latency_ms": latency_ms}])

    with tempfile.TemporaryDirectory() as tmp, served((ORG,), setup) as emulator:
        root = Path(tmp)
        (root / "flexctl.yaml").write_text(config_yaml(companies), encoding="utf-8")
        api = ["--api-url", f"{emulator.url}/api/v2", "--read-rate", "1000000/min",
               "--write-rate", "1000000/min", "--parallelism", str(parallelism)]
        started, cpu = time.perf_counter(), time.process_time()
        with open(os.devnull, "w") as null, redirect_stdout(null), redirect_stderr(null):
            code = flexctl(["apply", str(root), "--auto-approve", *api])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if code != 0:
        raise SystemExit(f"apply failed with exit code {code}")
    stats = emulator.stats
    requests, creates = stats["requests"], stats["writes"]
    floor = requests * latency_ms / 1000 / parallelism
    print(f"apply of {creates} creates, {latency_ms} ms per request, parallelism {parallelism}")
    print(f"  seconds      {seconds:.2f}")
    print(f"  requests     {requests} ({stats['reads']} reads, {creates} writes, "
          f"{stats['tokens']} token)")
    print(f"  floor        {floor:.2f} s = requests x latency / parallelism")
    print(f"  ratio        {seconds / floor:.2f} (target < 1.5)")
    print(f"  flexctl CPU  {cpu:.2f} s (emulator: {emulator.cpu:.2f} s, another process)")
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--companies", type=int, default=333)
    parser.add_argument("--scale", type=int, default=4, help="the larger run's multiple")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()

    os.environ.update(FLEXCTL_CLIENT_ID="emulator", FLEXCTL_CLIENT_SECRET="emulator")
    import flexctl.commands.apply  # noqa: F401 - imports and model building outside the figures

    config_model()
    small = run(args.companies, args.latency_ms, args.parallelism)
    large = run(args.companies * args.scale, args.latency_ms, args.parallelism)
    ratio, target = large / small, 1.1 * args.scale
    print(f"CPU at {args.scale}x over 1x: {ratio:.2f} (floor {args.scale:.1f}: linear; "
          f"target at most {target:.1f})")
    return 0 if ratio <= target else 1


if __name__ == "__main__":
    sys.exit(main())
