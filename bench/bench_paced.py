"""Benchmark: what the real platform's pace makes of a plan, on a virtual clock (no sleeping).

    .venv/bin/python bench/bench_paced.py [--companies 2000 --members 10000
                                           --memberships 12000 --fees 30000 --invoices 0
                                           --no-in]

The in-process emulator limits reads to 400 a minute and sends the platform's
`x-ratelimit-*` headers; flexctl paces itself by them with the emulator's clock and sleep
injected, so a wait moves the clock instead of sleeping. Reads run one at a time (time is
virtual; at the platform's pace, concurrency changes nothing). For each step it prints the
reads, the seconds the pace costs (the emulator's clock moves only by the waits; this
machine's own time is shown apart), the floor and the ratio to it; the floor is what a budget of 400
reads a minute allows: (ceil(reads / 400) - 1) minute windows waited out. It also prints the
same reads at a steady 400 a minute (reads x 0.15 s), the time without a burst.

1. a full plan (empty cache) of a config with 1% of the objects edited (540 at 1x);
2. `apply PLANFILE`'s check of that plan: the reads before the first write;
3. an incremental plan after 1% of the objects were changed directly on the emulator
   (updates and creates), a day later.

`--invoices N` seeds N invoices, month by month one for every customer, with a line for each
of its memberships (144,000 at 1x: a year of monthly bills): a plan reads only those of the
customers whose changes depend on them (`flexctl.state.history`). `--no-in` adds a full plan
where the platform refuses `company[$in]` on payments (one query per customer; no target).
Targets (1x, also with 144,000 invoices): full <= 1,100 reads and no 429; check <= 20 reads;
incremental <= 300 reads; every paced time within 5% of its floor.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench_plan import change_share
from bench_snapshot import ORG, generate_config_data, org_parser, seed

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import create_app
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import config_model
from flexctl.platform.client import FlexClient
from flexctl.platform.learned import Learned
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from flexctl.reconcile.saved_check import check_data, touched_snapshot
from flexctl.reconcile.saved_plan import planfile_data, stale_reasons
from flexctl.session import make_plan
from flexctl.state.cache import SnapshotCache
from flexctl.state.incremental import CachedReader

BUDGET = 400  # reads a minute
TARGET = {"api_url": "http://emulator.bench/api/v2", "org": ORG}


class OneAtATime:
    """The client with its kinds read one after another (the clock is virtual)."""

    def __init__(self, client: FlexClient) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def map_concurrently(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return [fn(item) for item in items]


def floor(reads: int) -> float:
    return (math.ceil(reads / BUDGET) - 1) * 60.0 if reads else 0.0


def report(name: str, reads: int, waited: float, wall: float, retries: int,
           target: int | None = None) -> bool:
    low = floor(reads)
    ratio = waited / low if low else 1.0
    print(f"{name:<18} {reads:>5} reads  paced {waited:>6.1f} s  floor {low:>5.1f} s  "
          f"ratio {ratio:.3f}  (steady 400/min: {reads * 60 / BUDGET:.0f} s; this machine: "
          f"{wall:.1f} s; 429s: {retries})")
    if target is not None:
        print(f"{'':<18} target <= {target:,} reads: {'met' if reads <= target else 'NOT met'}")
    return (not low or ratio <= 1.05) and retries == 0 and (target is None or reads <= target)


def seed_invoices(app: Any, count: int) -> None:
    """`count` invoices, month by month: each month every customer gets one, billing each of its
    memberships on a line of its own (144,000 at 1x: a year of monthly bills of 12,000
    customers). Those of a customer without memberships bill a day pass."""
    rows = app.store.conn.execute(
        "SELECT id, json_extract(doc, '$.company'), json_extract(doc, '$.member') "
        "FROM objects WHERE org = ? AND kind = 'memberships'", (ORG,))
    billed: dict[tuple[str, str], list[str]] = {}
    for membership, company, member in rows:
        owner = ("company", company) if company else ("member", member)
        billed.setdefault(owner, []).append(membership)
    customers = [(field, str(row[0])) for field, kind in (("company", "companies"),
                                                          ("member", "members"))
                 for row in app.store.conn.execute(
                     "SELECT id FROM objects WHERE org = ? AND kind = ?", (ORG, kind))]
    day = date(2026, 1, 1)
    with app.store.transaction():
        for n in range(count):
            field, customer = customers[n % len(customers)]
            month = n // len(customers)
            lines = [{"description": "Membership", "memberships": [m]}
                     for m in billed.get((field, customer), ())]
            app.store.insert(ORG, "payments", {
                "number": f"INV-{n}", "documentType": "invoice", "status": "paid",
                field: customer,
                "date": date(day.year + month // 12, month % 12 + 1, 1).isoformat(),
                "lines": lines or [{"description": "Day pass", "memberships": []}],
            })


def change_live(client: FlexClient, share: float) -> int:
    """Update and create 1% of the objects directly on the emulator, as people would."""
    step, changed = max(1, round(1 / share)), 0
    location = next(iter(client.list("locations")))["_id"]
    for path, update in (("companies", {"email": "new@changed.example"}),
                         ("members", {"name": "Renamed"}), ("memberships", {"price": 77}),
                         ("fees", {"quantity": 9})):
        docs = list(client.list(path, select=("company", "plan")))
        for i, doc in enumerate(docs):
            if i % step == 0:
                client.update(path, doc["_id"], update)
                changed += 1
            elif i % step == step // 2:
                if path == "companies":
                    client.create(path, {"name": f"New {i}", "location": location})
                elif path == "members":
                    client.create(path, {"name": f"New {i}", "email": f"new{i}@example.com",
                                         "location": location})
                elif path == "fees":
                    client.create(path, {"name": f"New {i}", "issueDate": "2026-12-01",
                                         "location": location, "plan": doc["plan"],
                                         "price": 3, "company": doc["company"]})
                else:
                    continue
                changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = org_parser(__doc__ or "")
    parser.add_argument("--invoices", type=int, default=0)
    parser.add_argument("--no-in", action="store_true",
                        help="also a full plan where payments refuse company[$in] (no target)")
    args = parser.parse_args(argv)

    data = generate_config_data(args.companies, args.members, args.memberships, args.fees)
    app = create_app(None, profile="full", orgs=(ORG,), rate_limit=f"reads={BUDGET}/min")
    app.clock.real_sleep = False
    # Only the waits move the emulator's clock: what the platform's pace costs, nothing else.
    began = time.time()
    app.clock.now = lambda: began + app.clock.offset  # type: ignore[method-assign]
    seed(app, ORG, config_model().model_validate(data, strict=False))
    seed_invoices(app, args.invoices)
    edited = change_share(data, 0.01)
    config = config_model().model_validate(data, strict=False)
    loaded = SimpleNamespace(config=config, digest="sha256:bench")
    secrets = SecretResolver(environ={})
    target = Target(api_url=TARGET["api_url"], org=ORG,
                    token_url="http://emulator.bench/oauth/token", client_id="emulator",
                    client_secret="emulator")
    ok = True
    with (tempfile.TemporaryDirectory() as cache_dir,
          open_client(target, app=app, scopes=profile_scopes(Profile.FULL),
                      clock=app.clock.now, sleep=app.clock.sleep) as raw):
        client = OneAtATime(raw)
        cache = SnapshotCache(Path(cache_dir) / "bench.sqlite")
        app.clock.advance(3600)  # the seeding is long past
        client.profile  # noqa: B018 - the token, outside the measurement

        def step(name: str, fn: Callable[[], Any], target: int | None = None) -> Any:
            nonlocal ok
            reads, retries, began = raw.stats.reads, raw.stats.retries, app.clock.now()
            cpu, wall = time.process_time(), time.perf_counter()
            result = fn()
            ok &= report(name, raw.stats.reads - reads, app.clock.now() - began,
                         time.perf_counter() - wall, raw.stats.retries - retries, target)
            print(f"{'':<18} ({time.process_time() - cpu:.1f} s CPU, emulator included)")
            return result, raw.stats.reads - reads

        (run, _) = step("full plan", lambda: make_plan(
            loaded, client, TARGET, secrets=secrets, reader=CachedReader(client, cache)), 1100)
        print(f"{'':<18} plan: {run.plan.summary} ({edited} objects edited in the config)")
        document = planfile_data(run.plan, config_path=Path("bench.yaml"), binding={},
                                 desired=run.desired,
                                 check=check_data(run.plan, run.snapshot, run.desired))
        saved = SimpleNamespace(config_digest="sha256:bench", target=document["target"],
                                objects=document["objects"], changes=document["changes"])

        def check() -> list[str]:
            partial = touched_snapshot(client, document, run.desired, config.currency, TARGET)
            assert partial is not None, "the saved plan cannot be checked by its objects"
            checked = make_plan(loaded, client, TARGET, secrets=secrets, partial=partial)
            return stale_reasons(saved, checked.plan)  # type: ignore[arg-type]

        (reasons, _) = step("saved-plan check", check, 20)
        print(f"{'':<18} {len(document['objects'])} objects touched; stale: {reasons or 'no'}")
        app.clock.advance(86400)
        changed = change_live(raw, 0.01)
        app.clock.advance(60)
        (later, _) = step("incremental plan", lambda: make_plan(
            loaded, client, TARGET, secrets=secrets, reader=CachedReader(client, cache)), 300)
        print(f"{'':<18} after {changed} objects changed on the emulator; "
              f"{later.plan.summary}")
        cache.close()
        if args.no_in:
            # Where the platform refuses `company[$in]` on payments: one query per customer.
            app.dialect = app.dialect.with_settings("customer_in=reject")
            raw.learned = Learned()
            with tempfile.TemporaryDirectory() as other:
                empty = SnapshotCache(Path(other) / "bench.sqlite")
                step("full plan, no $in", lambda: make_plan(
                    loaded, client, TARGET, secrets=secrets, reader=CachedReader(client, empty)))
                empty.close()
    ok &= not reasons
    print("targets           ", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
