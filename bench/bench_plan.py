"""Benchmark: plan a large generated organization with 1% of its objects changed.

    .venv/bin/python bench/bench_plan.py [--companies 2000 --members 10000
                                          --memberships 12000 --fees 30000 --changed 0.01]

Seeds the in-process emulator with the snapshot benchmark's organization (reusing
`bench_snapshot.generate_config_data` and `seed`), changes a share of the companies, members,
memberships and fees in the config, and plans it. Prints the whole plan's seconds and requests,
peak memory, the time of the diff alone (diff + ordering + digests, no I/O), which must stay
under 1 second, and the CPU of the money computation (each change's money effect, the run-rate
of 12,000 memberships, the summary: `flexctl.reconcile.plan.with_money`) against the plan's own
CPU without it (process CPU minus the emulator's), which it must add less than 10% to.
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

# Run as a script, this directory is on sys.path: reuse the snapshot benchmark's organization.
from bench_snapshot import ORG, TimedApp, connect, generate_config_data, org_parser, seed

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.emulator import create_app
from flexctl.kinds import registry
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import config_model
from flexctl.reconcile.diff import diff
from flexctl.reconcile.money import MoneyOptions
from flexctl.reconcile.plan import SafetyPolicy, build_plan, with_money
from flexctl.reconcile.render import render_json, render_text
from flexctl.session import PlanRun, make_plan


def change_share(data: dict[str, Any], share: float) -> int:
    """Edit every 1/share-th company, member, membership and fee; return how many."""
    step, changed = max(1, round(1 / share)), 0
    companies = list(data["companies"].values())
    for i, company in enumerate(companies):
        if i % step == 0:
            company["email"] = f"accounts{i}@changed.example"
            changed += 1
    for i, member in enumerate(data["members"].values()):
        if i % step == 0:
            member["name"] += " (changed)"
            changed += 1
    n = 0
    for company in companies:
        for membership in company["memberships"]:
            if n % step == 0:
                membership["price"] += Decimal(5)
                changed += 1
            n += 1
    n = 0
    for company in companies:
        for fee in company["fees"]:
            if n % step == 0:
                fee["quantity"] += 1
                changed += 1
            n += 1
    return changed


def time_diff(run: PlanRun, config: ConfigBase, profile: Profile) -> tuple[float, float]:
    """Wall and CPU seconds of the diff alone (diff + order + digests): same inputs, no I/O."""
    began, began_cpu = time.perf_counter(), time.process_time()
    result = diff(run.desired, run.snapshot, registry(), profile=profile,
                  prune=config.policy.prune, today=datetime.now(UTC).date())
    build_plan(result.changes, unmanaged=result.unmanaged, desired=run.desired,
               live=run.snapshot.objects, ranks={k.name: k.rank for k in registry()},
               safety=SafetyPolicy(), target=run.snapshot.target, config_digest="sha256:bench")
    return time.perf_counter() - began, time.process_time() - began_cpu


def time_money(run: PlanRun, currency: str, repeat: int = 3) -> float:
    """CPU seconds of the money computation on the plan's own inputs (the best of `repeat`)."""
    live = run.snapshot.objects
    by_address = {obj.address: obj for objs in live.values() for obj in objs}
    options = MoneyOptions(currency, datetime.now(UTC).date())
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        with_money(run.plan.changes, run.desired, live, by_address, options)
        best = min(best, time.process_time() - began)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = org_parser(__doc__ or "")
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args(argv)

    data = generate_config_data(args.companies, args.members, args.memberships, args.fees)
    app = TimedApp(create_app(None, profile="full", orgs=(ORG,)))
    seed(app.app, ORG, config_model().model_validate(data, strict=False))
    edited = change_share(data, args.changed)
    config = config_model().model_validate(data, strict=False)
    loaded = SimpleNamespace(config=config, digest="sha256:bench")
    target = {"api_url": "http://emulator.bench/api/v2", "org": ORG}
    with connect(app) as client:
        client.profile  # noqa: B018 - fetch the token outside the measurement
        reads_before = client.stats.reads
        wall, cpu, emulator_cpu = time.perf_counter(), time.process_time(), app.cpu
        run = make_plan(loaded, client, target, secrets=SecretResolver(environ={}))
        wall = time.perf_counter() - wall
        plan_cpu = time.process_time() - cpu - (app.cpu - emulator_cpu)  # flexctl's own
        requests = client.stats.reads - reads_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    diff_seconds, diff_cpu = time_diff(run, config, client.profile)
    money_cpu = time_money(run, config.currency)
    money_share = money_cpu / (plan_cpu - money_cpu)
    began = time.perf_counter()
    render_text(run.plan)
    render_json(run.plan)
    render_seconds = time.perf_counter() - began

    objects = sum(len(objs) for objs in run.desired.values())
    print(f"desired objects    {objects:>8}  ({edited} edited in the config)")
    print(f"plan               {run.plan.summary}")
    print(f"plan seconds       {wall:>8.2f}  (snapshot + diff; emulator CPU {app.cpu:.2f} s)")
    print(f"requests           {requests:>8}")
    print(f"peak RSS MB        {peak:>8.0f}  (whole process incl. emulator)")
    print(f"diff seconds       {diff_seconds:>8.3f}  (diff + order + digests, no I/O; target < 1;"
          f" CPU {diff_cpu:.3f} s)")
    print(f"render seconds     {render_seconds:>8.3f}  (text + json)")
    print(f"plan CPU seconds   {plan_cpu:>8.3f}  (flexctl's own: process CPU minus the emulator's)")
    print(f"money CPU seconds  {money_cpu:>8.3f}  ({money_share:.1%} of the plan's CPU without it;"
          " floor: under 10%)")
    ok = (min(diff_seconds, diff_cpu) < 1 and run.plan.summary["update"] == edited
          and money_share < 0.10)
    print("targets           ", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
