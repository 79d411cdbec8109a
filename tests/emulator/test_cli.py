"""`flexctl emulator serve` and `flexctl emulator account`."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flexctl.cli import main
from flexctl.emulator import create_app


def test_account_flips_the_sandbox_of_a_config_directory(tmp_path: Path) -> None:
    (tmp_path / "flexctl.yaml").write_text("version: 1\norganization: harbor-works\n")
    assert main(["emulator", "account", "--status", "active", str(tmp_path)]) == 0
    app = create_app(str(tmp_path / ".flexctl" / "sandbox.db"), orgs=())
    assert app.store.account_status("harbor-works") == "active"
    assert main(["emulator", "account", "--status", "onboarding",
                 str(tmp_path / "flexctl.yaml")]) == 0
    assert app.store.account_status("harbor-works") == "onboarding"


def test_account_reads_the_files_validate_reads(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ci.yml").write_text("organization: not-this-one\n")
    (tmp_path / "flexctl.yml").write_text("version: 1\norganization: harbor-works\n")
    assert main(["emulator", "account", "--status", "active", str(tmp_path)]) == 0
    app = create_app(str(tmp_path / ".flexctl" / "sandbox.db"), orgs=())
    assert app.store.orgs() == ["harbor-works"]


def test_account_with_explicit_org_and_without_config(tmp_path: Path) -> None:
    assert main(["emulator", "account", "--status", "active", "--org", "x", str(tmp_path)]) == 0
    assert main(["emulator", "account", "--status", "active", str(tmp_path)]) == 1


def test_serve_refuses_a_bad_fault_spec() -> None:
    assert main(["emulator", "serve", "--port", "0", "--faults", "500:7"]) == 64


def test_serve_refuses_a_port_out_of_range() -> None:
    # the socket layer would silently take 99999 modulo 65536
    assert main(["emulator", "serve", "--port", "99999"]) == 64


def test_serve_prints_its_url_and_answers(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "flexctl", "emulator", "serve", "--port", "0", "--org", "a",
         "--org", "b", "--profile", "officernd", "--db", str(tmp_path / "e.db"),
         "--dialect", "fee_update=patch"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert "officernd profile" in lines[0]
        api = lines[1].split()[-1]
        assert api.startswith("http://127.0.0.1:") and api.endswith("/api/v2")
        info = httpx.get(api.replace("/api/v2", "/_emulator/info"), timeout=5).json()
        assert info == {"profile": "officernd", "orgs": ["a", "b"]}
        dialect = httpx.get(api.replace("/api/v2", "/_emulator/dialect"), timeout=5).json()
        assert (dialect["fee_update"], dialect["single_get"]) == ("patch", "absent")
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_serve_on_a_busy_port_is_one_clean_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["emulator", "serve", "--port", str(port)]) == 64
    err = capsys.readouterr().err
    assert err.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1


def test_serve_refuses_an_unusable_database(tmp_path: Path) -> None:
    assert main(["emulator", "serve", "--port", "0", "--db", str(tmp_path / "no" / "x.db")]) == 64


def test_serve_options_seed_client_faults_and_rate_limit(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("shop:\n  companies:\n    - {name: Acme}\n  account: {status: active}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "flexctl", "emulator", "serve", "--port", "0", "--org", "shop",
         "--seed", str(seed), "--client-id", "me", "--client-secret", "s3cret-value",
         "--faults", "429:1,retry_after:7", "--rate-limit", "reads=2/min"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert "s3cret-value" not in "".join(lines)  # a chosen secret is not echoed
        assert "FLEXCTL_CLIENT_ID=me" in lines[3]
        base = lines[1].split()[-1].removesuffix("/api/v2")
        form = {"grant_type": "client_credentials", "client_id": "me"}
        refused = httpx.post(f"{base}/oauth/token", data={**form, "client_secret": "emulator"})
        assert refused.status_code == 401
        token = httpx.post(f"{base}/oauth/token", data={**form, "client_secret": "s3cret-value"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        companies = f"{base}/api/v2/organizations/shop/companies"
        faulted = httpx.get(companies, headers=headers)  # --faults: every request a 429
        assert faulted.status_code == 429 and faulted.headers["Retry-After"] == "7"
        assert httpx.delete(f"{base}/_emulator/faults").status_code == 200
        page = httpx.get(companies, headers=headers)
        assert [c["name"] for c in page.json()["results"]] == ["Acme"]  # --seed
        account = httpx.get(f"{base}/api/v2/organizations/shop/account", headers=headers)
        assert account.json() == {"status": "active"}
        limited = httpx.get(companies, headers=headers)  # --rate-limit: the third read
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    finally:
        process.terminate()
        process.wait(timeout=5)
