"""Benchmark: snapshot a large generated organization from the in-process emulator.

    .venv/bin/python bench/bench_snapshot.py [--companies 2000 --members 10000
                                              --memberships 12000 --fees 30000]

Prints the requests made, the minimum possible (sum of ceil(n/50) per kind read), wall seconds,
flexctl's own CPU seconds (process CPU minus the CPU spent inside the emulator's WSGI app), and
peak memory (RSS of the whole process, emulator and generated config included). Targets:
requests = minimum + a small constant; flexctl CPU < 5 s; peak memory < 500 MB.

`generate_config_data()` and `seed()` are reusable by other benchmarks (plan, apply).
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.emulator import create_app
from flexctl.kinds import registry
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import config_model
from flexctl.kinds.refs import RefMap
from flexctl.platform.client import FlexClient
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from flexctl.state.desired import desired_state
from flexctl.state.snapshot import read_snapshot

ORG = "bench-works"
RECURRING = ("hot-desk", "fixed-desk", "office-s", "office-m", "office-l")
ONE_OFF = ("day-pass", "printing", "locker", "coffee", "parking")


def generate_config_data(
    companies: int = 2000, members: int = 10000, memberships: int = 12000, fees: int = 30000
) -> dict[str, Any]:
    """A config with that many customers; memberships and fees spread over the companies."""
    start = date(2026, 1, 1)
    plans: dict[str, Any] = {
        key: {"name": key.replace("-", " ").title(), "billing": "recurring",
              "price": Decimal(100 + 50 * i)}
        for i, key in enumerate(RECURRING)
    }
    plans.update({
        key: {"name": key.replace("-", " ").title(), "billing": "one_off",
              "price": Decimal(5 + i) / 2}
        for i, key in enumerate(ONE_OFF)
    })
    data: dict[str, Any] = {
        "version": 1, "organization": ORG, "currency": "EUR",
        "locations": {"downtown": {"name": "Downtown"}, "riverside": {"name": "Riverside"}},
        "plans": plans, "companies": {}, "members": {},
    }
    for c in range(companies):
        data["companies"][f"company-{c}"] = {
            "name": f"Company {c}", "email": f"billing@company{c}.example",
            "location": "downtown" if c % 2 else "riverside", "memberships": [], "fees": [],
        }
    for m in range(members):
        data["members"][f"member-{m}"] = {
            "name": f"Member {m}", "email": f"member{m}@example.com",
            "company": f"company-{m % companies}", "location": "downtown", "memberships": [],
        }
    owners = [data["companies"][f"company-{c}"] for c in range(companies)]
    for n in range(memberships):  # per owner: distinct (plan, start)
        owners[n % companies]["memberships"].append({
            "plan": RECURRING[(n // companies) % len(RECURRING)],
            "start": start + timedelta(days=n // (companies * len(RECURRING))),
            "price": Decimal(90 + n % 40),
        })
    for n in range(fees):  # per owner: distinct (plan, date)
        owners[n % companies]["fees"].append({
            "plan": ONE_OFF[(n // companies) % len(ONE_OFF)],
            "date": start + timedelta(days=n // (companies * len(ONE_OFF))),
            "quantity": 1 + n % 7,
        })
    return data


def seed(app: Any, org: str, config: ConfigBase) -> dict[str, int]:
    """Store the config's objects in the emulator directly (no HTTP), as the API would."""
    secrets = SecretResolver(environ={})
    desired = desired_state(SimpleNamespace(config=config), secrets)
    refs, serial = RefMap(), 0x6000000000000000000000
    counts: dict[str, int] = {}
    app.store.ensure_org(org)
    with app.store.transaction():
        for kind in registry():
            for obj in desired.get(kind.name, ()):
                serial += 1
                object_id = f"{serial:024x}"
                body = kind.create_body(obj, refs, secrets)
                app.store.insert(org, kind.api_path, {"_id": object_id, **body})
                if not kind.owned:
                    refs.add(kind.name, str(obj.meta["key"]), object_id)
                counts[kind.name] = counts.get(kind.name, 0) + 1
    return counts


class TimedApp:
    """Wraps the WSGI app to add up the CPU time the emulator spends, per thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.store = app.store
        self.cpu = 0.0
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Callable[..., Any]) -> Iterable[bytes]:
        began = time.thread_time()
        body = list(self.app(environ, start_response))  # the app's work happens here
        spent = time.thread_time() - began
        with self._lock:
            self.cpu += spent
        return body


def org_parser(doc: str) -> argparse.ArgumentParser:
    """The options every benchmark of the generated organization takes: its size."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--memberships", type=int, default=12000)
    parser.add_argument("--fees", type=int, default=30000)
    return parser


def connect(app: Any) -> FlexClient:
    """An unpaced client on the in-process emulator `app`, with every scope."""
    target = Target(api_url="http://emulator.bench/api/v2", org=ORG,
                    token_url="http://emulator.bench/oauth/token",
                    client_id="emulator", client_secret="emulator")
    return open_client(target, app=app, scopes=profile_scopes(Profile.FULL),
                       read_rate="1000000/min", write_rate="1000000/min")


def main(argv: list[str] | None = None) -> int:
    args = org_parser(__doc__ or "").parse_args(argv)

    config = config_model().model_validate(
        generate_config_data(args.companies, args.members, args.memberships, args.fees),
        strict=False,
    )
    app = TimedApp(create_app(None, profile="full", orgs=(ORG,)))
    counts = seed(app.app, ORG, config)
    secrets = SecretResolver(environ={})
    desired = desired_state(SimpleNamespace(config=config), secrets)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with connect(app) as client:
        client.profile  # noqa: B018 - fetch the token outside the measurement
        app.cpu, reads_before = 0.0, client.stats.reads
        wall, cpu = time.perf_counter(), time.process_time()
        snap = read_snapshot(client, desired, config.currency)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        requests = client.stats.reads - reads_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    sizes = {name: len(objs) for name, objs in snap.objects.items()}  # every kind read
    minimum = sum(max(1, math.ceil(n / 50)) for n in sizes.values())
    unmanaged = sum(1 for objs in snap.objects.values() for _ in objs) - sum(counts.values())
    print(f"objects seeded     {sum(counts.values()):>8}  {counts}")
    print(f"objects read       {sum(sizes.values()):>8}  ({unmanaged} live objects the config "
          "does not declare, e.g. built-in revenue accounts)")
    print(f"requests           {requests:>8}  (minimum {minimum} + "
          f"{requests - minimum}: the account status)")
    print(f"wall seconds       {wall:>8.2f}")
    print(f"flexctl CPU s      {cpu - app.cpu:>8.2f}  (emulator CPU {app.cpu:.2f} s excluded)")
    print(f"peak RSS MB        {peak:>8.0f}  (before the snapshot {rss_before:.0f} MB; whole "
          "process incl. emulator and generated config)")
    ok = requests - minimum <= 3 and cpu - app.cpu < 5 and peak < 500
    print("targets           ", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
