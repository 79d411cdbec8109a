"""Benchmark: `flexctl apply` of 1,000 creates against an emulator with 50 ms per request.

Run: `.venv/bin/python bench/bench_apply.py [--companies 333] [--latency-ms 50]
[--parallelism 8]`. Serves the emulator on loopback with the latency injected into every
request, raises the client's rate limits out of the way (so concurrency is what is measured),
and applies a generated configuration: a location, a plan, and per company a member and a
membership (1,001 creates for 333 companies; members wait for their company, memberships for
it too). Prints seconds, requests, and the ratio to the floor, requests x latency / parallelism
(every request takes the latency; `--parallelism` requests can be in flight). Target: < 1.5.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from flexctl.cli import main as flexctl
from flexctl.emulator import create_app
from flexctl.emulator.serve import serve_background

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=333)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()

    os.environ.update(FLEXCTL_CLIENT_ID="emulator", FLEXCTL_CLIENT_SECRET="emulator")
    app = create_app(None, profile="full", orgs=(ORG,))
    app.faults.configure([{"fault": "latency", "latency_ms": args.latency_ms}])
    with tempfile.TemporaryDirectory() as tmp, serve_background(app) as url:
        root = Path(tmp)
        (root / "flexctl.yaml").write_text(config_yaml(args.companies), encoding="utf-8")
        api = ["--api-url", f"{url}/api/v2", "--read-rate", "1000000/min",
               "--write-rate", "1000000/min", "--parallelism", str(args.parallelism)]
        started = time.perf_counter()
        with open(os.devnull, "w") as null, redirect_stdout(null), redirect_stderr(null):
            code = flexctl(["apply", str(root), "--auto-approve", *api])
        seconds = time.perf_counter() - started
        stats = app.stats.as_dict()
    if code != 0:
        raise SystemExit(f"apply failed with exit code {code}")
    requests = stats["requests"]
    floor = requests * args.latency_ms / 1000 / args.parallelism
    creates = stats["writes"]
    print(f"apply of {creates} creates, {args.latency_ms} ms per request, "
          f"parallelism {args.parallelism}")
    print(f"  seconds   {seconds:.2f}")
    print(f"  requests  {requests} ({stats['reads']} reads, {creates} writes, "
          f"{stats['tokens']} token)")
    print(f"  floor     {floor:.2f} s = requests x latency / parallelism")
    print(f"  ratio     {seconds / floor:.2f} (target < 1.5)")


if __name__ == "__main__":
    main()
