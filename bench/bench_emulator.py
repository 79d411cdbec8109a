"""Benchmark: the in-process emulator's round-trip cost per request.

Run: `.venv/bin/python bench/bench_emulator.py [--members 10000]`. Lists every member through
the cursor API (50 per page) over `httpx.WSGITransport`, then times single GETs and POSTs, and
prints the mean cost per request. The target for listing is under 1 ms per request.
"""

from __future__ import annotations

import argparse
import time

import httpx

from flexctl.emulator import create_app

ORG = "/api/v2/organizations/demo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--db", help="SQLite file (default: in memory)")
    args = parser.parse_args()

    app = create_app(args.db)
    with app.store.transaction():
        for i in range(args.members):
            app.store.insert("demo", "members", {
                "name": f"Member {i}", "email": f"member{i}@example.com", "status": "active",
                "company": None, "location": None, "isBillingPerson": False,
                "address": {}, "billingDetails": {}, "tags": [], "properties": {},
            })
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator")
    token = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "client_id": "emulator",
                                              "client_secret": "emulator"}).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"

    started, pages, seen = time.perf_counter(), 0, 0
    params = {"$limit": "50"}
    while True:
        page = client.get(f"{ORG}/members", params=params).json()
        pages += 1
        seen += len(page["results"])
        if "cursorNext" not in page:
            break
        params = {"$limit": "50", "$cursorNext": page["cursorNext"]}
    listing = time.perf_counter() - started
    assert seen == args.members, (seen, args.members)
    _report(f"list {seen} members, 50 per page", listing, pages)

    started, pages = time.perf_counter(), 0
    params = {"$limit": "50", "$select": "name,email,company,location,status,modifiedAt"}
    while True:
        page = client.get(f"{ORG}/members", params=params).json()
        pages += 1
        if "cursorNext" not in page:
            break
        params = {**params, "$cursorNext": page["cursorNext"]}
    _report("the same with $select (as the snapshot reads)", time.perf_counter() - started, pages)

    first = client.get(f"{ORG}/members", params={"$limit": "1"}).json()["results"][0]["_id"]
    _report("GET one member", _time(lambda: client.get(f"{ORG}/members/{first}"), 1000), 1000)
    found = _time(lambda: client.get(f"{ORG}/members", params={"email": "member77@example.com"}),
                  1000)
    _report("GET members?email= (natural-key lookup)", found, 1000)
    counter = iter(range(10**9))
    created = _time(lambda: client.post(f"{ORG}/companies",
                                        json={"name": f"Company {next(counter)}"}), 1000)
    _report("POST a company", created, 1000)


def _time(call: object, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        call()  # type: ignore[operator]
    return time.perf_counter() - started


def _report(what: str, seconds: float, requests: int) -> None:
    print(f"{what:45} {requests:6} requests  {seconds * 1000 / requests:7.3f} ms/request")


if __name__ == "__main__":
    main()
