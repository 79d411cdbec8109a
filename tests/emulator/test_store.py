"""Storage: 10k members through the cursor while another thread inserts, persistence, seeds,
and no partial writes."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from flexctl.emulator import Emulator, create_app
from flexctl.emulator.seed import SeedError
from flexctl.emulator.store import Store

ORG = "/api/v2/organizations/demo"


def _stored(store: Store, org: str, kind: str, object_id: str) -> dict[str, Any]:
    """An object that must be there (`Store.get` answers None for a missing one)."""
    doc = store.get(org, kind, object_id)
    assert doc is not None, f"{kind} {object_id} is not stored"
    return doc


def _client(app: Emulator) -> httpx.Client:
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator")
    token = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "client_id": "emulator",
                                              "client_secret": "emulator"}).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"
    return client


def test_listing_10k_members_while_another_thread_inserts() -> None:
    app = create_app()
    with app.store.transaction():
        seeded = [
            app.store.insert("demo", "members", {"name": f"M{i}", "email": f"m{i}@x.io"})["_id"]
            for i in range(10_000)
        ]
    reader, writer = _client(app), _client(app)
    stop = threading.Event()
    inserted: list[str] = []

    def insert_forever() -> None:
        n = 0
        while not stop.is_set():
            body = {"name": f"New {n}", "email": f"new{n}@x.io"}
            inserted.append(writer.post(f"{ORG}/members", json=body).json()["_id"])
            n += 1

    thread = threading.Thread(target=insert_forever)
    thread.start()
    seen: list[str] = []
    params: dict[str, str] = {"$limit": "50"}
    try:
        while True:
            page = reader.get(f"{ORG}/members", params=params).json()
            seen.extend(m["_id"] for m in page["results"])
            if "cursorNext" not in page or len(seen) > 10_000 + 500:
                break
            params = {"$limit": "50", "$cursorNext": page["cursorNext"]}
    finally:
        stop.set()
        thread.join()
    assert inserted, "the writer thread inserted nothing during the listing"
    assert len(seen) == len(set(seen)), "duplicates in the listing"
    assert seen[:10_000] == seeded, "gaps or reordering among the existing members"
    assert seen == sorted(seen)
    new = seen[10_000:]
    assert new, "the listing saw none of the members inserted while it ran"
    assert new == inserted[: len(new)], "gaps among the members inserted during the listing"


def test_file_database_persists_and_uses_wal(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    app = create_app(db, orgs=("harbor",))
    client = _client(app)
    created = client.post("/api/v2/organizations/harbor/companies", json={"name": "Acme"}).json()
    app.store.set_account_status("harbor", "active")
    app.store.close()
    again = create_app(db, orgs=("harbor",))
    assert again.store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert _stored(again.store, "harbor", "companies", created["_id"])["name"] == "Acme"
    assert again.store.account_status("harbor") == "active"
    assert again.store.count("harbor", "revenue-accounts") == 4  # not re-created
    newer = again.store.new_id()
    assert newer > created["_id"]


def test_two_processes_on_one_database_never_reuse_an_id(tmp_path: Path) -> None:
    # e.g. `flexctl emulator serve --db .flexctl/sandbox.db` while `flexctl apply` uses the
    # same sandbox in-process: each has its own Store, and ids must still only grow.
    from flexctl.emulator.clock import Clock
    from flexctl.emulator.store import Store

    db = str(tmp_path / "sandbox.db")
    first, second = Store(db, Clock()), Store(db, Clock())
    first.ensure_org("x")
    ids = [store.insert("x", "companies", {"name": str(n)})["_id"]
           for n, store in enumerate([first, second, first, second, second, first])]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_failing_request_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app()
    client = _client(app)
    loc = client.post(f"{ORG}/locations", json={"name": "L"}).json()
    plan = client.post(f"{ORG}/plans", json={"name": "P", "price": 1, "intervalLength": "once"})
    company = client.post(f"{ORG}/companies", json={"name": "C"}).json()
    fee = client.post(f"{ORG}/fees", json={
        "name": "F", "issueDate": "2026-12-01", "price": 1, "location": loc["_id"],
        "plan": plan.json()["_id"], "company": company["_id"]}).json()

    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.store, "mark_invoiced", broken)
    response = client.post("/_emulator/organizations/demo/invoices", json={"fees": [fee["_id"]]})
    assert response.status_code == 500
    assert app.store.count("demo", "payments") == 0  # the payment insert was rolled back
    assert "payment" not in _stored(app.store, "demo", "fees", fee["_id"])


def test_seed_file_json_and_yaml(tmp_path: Path) -> None:
    loc_id = "64b000000000000000000001"
    seed = {"harbor": {
        "locations": [{"_id": loc_id, "name": "Downtown"}],
        "plans": [{"name": "Hot Desk", "price": 250.00, "intervalLength": "month",
                   "locations": [loc_id]}],
        "account": {"status": "active"},
        "billing-settings": {"currency": "GBP"},
    }}
    json_file = tmp_path / "seed.json"
    json_file.write_text(json.dumps(seed))
    app = create_app(seed=json_file, orgs=())
    assert app.store.orgs() == ["harbor"]
    assert _stored(app.store, "harbor", "locations", loc_id)["name"] == "Downtown"
    assert app.store.account_status("harbor") == "active"
    assert app.store.get_singleton("harbor", "billing-settings")["currency"] == "GBP"
    yaml_file = tmp_path / "seed.yaml"
    yaml_file.write_text("demo:\n  companies:\n    - name: Acme\n  plans:\n"
                         "    - {name: Printing, price: 0.10, intervalLength: once}\n")
    app = create_app(seed=yaml_file)
    plans = app.store.find("demo", "plans", "name", "Printing")
    assert str(plans[0]["price"]) == "0.10"


def test_seed_is_applied_once_per_database(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"demo": {"companies": [{"name": "Acme"}]}}))
    db = str(tmp_path / "x.db")
    create_app(db, seed=seed).store.close()
    app = create_app(db, seed=seed)
    assert app.store.count("demo", "companies") == 1


def test_bad_seed_names_the_object(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"demo": {"plans": [{"name": "x"}]}}))
    with pytest.raises(SeedError, match=r"plans\[0\]: price must be a number conforming to"):
        create_app(seed=seed)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("s.json", '{"demo": {"billing-settings": 5}}', "demo: billing-settings must be a mapping"),
        ("s.json", '{"demo": {"account": "active"}}', "demo: account must be a mapping"),
        ("s.json", '{"demo": {"account": {"status": "open"}}}',
         "demo: account: account status must be one of onboarding, active"),
        ("s.json", '{"demo": {"plans": {"name": "x"}}}', "demo: plans must be a list"),
        ("s.json", '{"demo": {"invoices": 5}}', "demo: invoices must be a list"),
        ("s.json", '{"demo": {"invoices": [5]}}', "demo: invoices[0]: must be an object"),
        ("s.json", '{"demo": {"invoices": [{}]}}',
         "demo: invoices[0]: memberships or fees should not be empty"),
        ("s.json", b"\xff{}", "seed file s.json is not valid: not UTF-8 text"),
        ("s.yaml", "demo: {companies: [], companies: []}\n",
         "seed file s.yaml is not valid: found duplicate key \"companies\""),
        ("s.yaml", "demo: [\n", "seed file s.yaml is not valid: "),
        ("s.yaml", "123: {}\n", "seed file s.yaml must map organization slugs to objects by kind"),
        ("s.yaml", "demo: {1: [], plans: []}\n", "seed: demo: unknown kinds: 1"),
    ],
)
def test_bad_seeds_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str | bytes,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    seed = Path(name)
    if isinstance(content, bytes):
        seed.write_bytes(content)
    else:
        seed.write_text(content)
    with pytest.raises(SeedError) as caught:
        create_app(seed=seed)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_yaml_seed_dates_are_api_date_strings(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "demo:\n"
        "  locations: [{_id: '64b000000000000000000001', name: D}]\n"
        "  plans: [{_id: '64b000000000000000000002', name: H, price: 250, intervalLength: month}]\n"
        "  companies: [{_id: '64b000000000000000000003', name: A}]\n"
        "  memberships:\n"
        "    - {name: H, startDate: 2026-12-01, location: '64b000000000000000000001',\n"
        "       plan: '64b000000000000000000002', company: '64b000000000000000000003'}\n"
    )
    app = create_app(seed=seed)
    (membership,) = app.store.find("demo", "memberships", "name", "H")
    assert membership["startDate"] == "2026-12-01T00:00:00.000Z"


def test_threaded_server_handles_concurrent_writers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from flexctl.emulator.serve import serve_background

    app = create_app()
    with serve_background(app) as url:
        token = httpx.post(f"{url}/oauth/token", data={
            "grant_type": "client_credentials", "client_id": "emulator",
            "client_secret": "emulator"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def write(worker: int) -> list[str]:
            with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
                return [client.post(f"{ORG}/companies", json={"name": f"W{worker}-{i}"}
                                    ).json()["_id"] for i in range(20)]

        with ThreadPoolExecutor(4) as pool:
            ids = [i for batch in pool.map(write, range(4)) for i in batch]
    assert len(set(ids)) == 80
    assert app.store.count("demo", "companies") == 80


def _answers(sock: Any, count: int) -> list[bytes]:
    """`count` whole HTTP answers read from `sock` (each by its Content-Length)."""
    data = b""
    out: list[bytes] = []
    while len(out) < count:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")))
            if len(rest) >= length:
                out.append(head + sep + rest[:length])
                data = rest[length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection after {len(out)} answers"
        data += chunk
    return out


def test_served_emulator_keeps_connections_alive_whatever_a_request_body_holds() -> None:
    import socket

    from flexctl.emulator.serve import serve_background

    app = create_app()
    with serve_background(app) as url:
        host, port = url.removeprefix("http://").split(":")
        form = b"grant_type=client_credentials&client_id=emulator&client_secret=emulator"
        unread = b'{"name": "never read: the route does not exist"}'
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            # A token request, a POST whose body no route reads, then a read: one connection.
            sock.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(form), form))
            (token_answer,) = _answers(sock, 1)
            token = json.loads(token_answer.partition(b"\r\n\r\n")[2])["access_token"]
            auth = f"Authorization: Bearer {token}\r\n".encode()
            sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(unread), unread)
                         + b"GET " + ORG.encode() + b"/companies HTTP/1.1\r\nHost: x\r\n"
                         + auth + b"\r\n")
            missing, companies = _answers(sock, 2)
        assert token_answer.startswith(b"HTTP/1.1 200")
        assert missing.startswith(b"HTTP/1.1 404")
        assert companies.startswith(b"HTTP/1.1 200")
        assert b"connection: close" not in companies.lower()
        # A chunked body is left to werkzeug's runner, which closes the connection.
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         b"\r\n2\r\n{}\r\n0\r\n\r\n")
            (closed,) = _answers(sock, 1)
            assert b"connection: close" in closed.lower()
            assert sock.recv(10) == b""
