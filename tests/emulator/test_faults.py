"""Injected faults, rate limits and harness endpoints."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from flexctl.emulator import EmulatorDroppedConnection
from flexctl.emulator.clock import Clock
from flexctl.emulator.faults import Faults
from tests.emulator.emu_harness import Emu, nest_error


def test_rule_injects_500_a_counted_number_of_times(emu: Emu) -> None:
    response = emu.client.post("/_emulator/faults", json=[
        {"fault": "500", "method": "GET", "path": "/plans$", "count": 1}])
    assert response.status_code == 200
    nest_error(emu.get("plans"), 500)
    assert emu.get("plans").status_code == 200
    assert emu.get("companies").status_code == 200


def test_429_carries_retry_after(emu: Emu) -> None:
    emu.client.post("/_emulator/faults", json={"spec": "429:1.0,retry_after:0"})
    response = emu.get("plans")
    nest_error(response, 429)
    assert response.headers["Retry-After"] == "0"
    emu.client.delete("/_emulator/faults")
    assert emu.get("plans").status_code == 200


def test_drop_commits_the_write_then_drops_the_connection(emu: Emu) -> None:
    emu.app.faults.configure([{"fault": "drop", "method": "POST", "count": 1}])
    with pytest.raises(httpx.TransportError) as caught:
        emu.post("companies", {"name": "Acme"})
    if emu.transport == "wsgi":
        assert isinstance(caught.value, EmulatorDroppedConnection)
    else:
        assert isinstance(caught.value, httpx.RemoteProtocolError)
    names = [c["name"] for c in emu.get("companies").json()["results"]]
    assert names == ["Acme"]  # the write was committed before the drop


def test_latency_uses_the_clock(emu: Emu) -> None:
    emu.app.faults.configure("latency:250ms")
    emu.get("plans")
    emu.get("plans")
    assert emu.app.clock.slept == pytest.approx(0.5)


def test_rate_limit_per_token(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(rate_limit="reads=2/min,writes=1/min")
    assert emu.get("plans").status_code == 200
    assert emu.get("plans").status_code == 200
    limited = emu.get("plans")
    nest_error(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert emu.create("companies", {"name": "A"})
    nest_error(emu.post("companies", {"name": "B"}), 429)
    assert emu.get("plans", token=emu.token()).status_code == 200  # another token, own window
    emu.app.clock.advance(61)
    assert emu.get("plans").status_code == 200


def test_seeded_rates_are_reproducible() -> None:
    def outcomes(seed: int) -> list[bool]:
        faults = Faults(Clock())
        faults.configure(f"500:0.5,seed:{seed}")
        results = []
        for _ in range(20):
            try:
                faults.before("GET", "/x")
                results.append(True)
            except Exception:
                results.append(False)
        return results

    assert outcomes(7) == outcomes(7)
    assert outcomes(7) != outcomes(8)
    assert 0 < sum(outcomes(7)) < 20


@pytest.mark.parametrize("spec", ["500:2", "boom:0.1", "latency:fast", "seed:x"])
def test_bad_fault_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        Faults(Clock()).configure(spec)


def test_bad_fault_rules_are_400(emu: Emu) -> None:
    nest_error(emu.client.post("/_emulator/faults", json=[{"fault": "500", "colour": 1}]), 400)
    nest_error(emu.client.post("/_emulator/faults", json=[{"fault": "500", "path": "("}]), 400)


def test_json_rules_take_fractional_rates_and_latencies(emu: Emu) -> None:
    # JSON numbers with a fraction reach the emulator as exact decimals
    response = emu.client.post("/_emulator/faults", json={
        "rules": [{"fault": "500", "rate": 0.5, "method": "GET"},
                  {"fault": "latency", "latency_ms": 12.5}], "seed": 7, "retry_after": 0})
    assert response.status_code == 200, response.text
    rules = response.json()["rules"]
    assert (rules[0]["rate"], rules[1]["latency_ms"]) == (0.5, 12.5)
    statuses = [emu.get("plans").status_code for _ in range(20)]
    assert 200 in statuses and 500 in statuses
    assert emu.app.clock.slept == pytest.approx(20 * 0.0125)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"rules": [{"fault": "latency", "latency_ms": -5}]},
         "latency_ms must be a number from 0 to 60000, not -5"),
        ({"rules": [{"fault": "latency", "latency_ms": "1s"}]},
         "latency_ms must be a number from 0 to 60000, not '1s'"),
        ({"rules": [{"fault": "500", "method": 5}]}, "method must be a string, not 5"),
        ({"rules": [], "retry_after": -1}, "retry_after must be a whole number >= 0, not -1"),
        ({"rules": [], "seed": "x"}, "seed must be a whole number >= 0, not 'x'"),
    ],
)
def test_bad_fault_settings_are_400_naming_the_setting(
    emu: Emu, settings: dict[str, object], message: str
) -> None:
    body = nest_error(emu.client.post("/_emulator/faults", json=settings), 400)
    assert body["message"] == [message]


def test_huge_latency_is_400(emu: Emu) -> None:
    response = emu.client.post("/_emulator/faults", content=b'[{"fault": "latency", '
                               b'"latency_ms": 1e400}]')
    nest_error(response, 400)


def test_reset_and_stats(emu: Emu) -> None:
    emu.create("companies", {"name": "A"})
    emu.get("companies")
    stats = emu.client.get("/_emulator/stats").json()
    assert (stats["reads"], stats["writes"]) == (1, 1)
    assert emu.client.post("/_emulator/stats/reset").json()["requests"] == 0
    assert emu.client.post("/_emulator/reset").status_code == 200
    assert emu.get("companies").json()["results"] == []
    assert len(emu.get("revenue-accounts").json()["results"]) == 4


def test_bug_inside_a_handler_is_a_500_body_not_a_traceback(
    emu: Emu, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flexctl.emulator import rules

    def explode(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(rules, "create", explode)
    body = nest_error(emu.post("companies", {"name": "A"}), 500)
    assert body["message"] == "Internal server error"


def test_account_harness_validates_status(emu: Emu) -> None:
    response = emu.client.put("/_emulator/organizations/demo/account", json={"status": "gone"})
    assert nest_error(response, 400)["message"] == [
        "status must be one of the following values: onboarding, active"]


def test_an_in_process_bug_prints_no_traceback() -> None:
    # The embedded sandbox runs inside flexctl: an emulator bug must reach the user as the
    # API's 500, not as a traceback from Python's last-resort log handler.
    import subprocess
    import sys

    script = (
        "import httpx\n"
        "from flexctl.emulator import create_app, rules\n"
        "def explode(*args): raise RuntimeError('bug')\n"
        "rules.create = explode\n"
        "app = create_app()\n"
        "client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url='http://e')\n"
        "form = {'grant_type': 'client_credentials', 'client_id': 'emulator',"
        " 'client_secret': 'emulator'}\n"
        "token = client.post('/oauth/token', data=form).json()['access_token']\n"
        "answer = client.post('/api/v2/organizations/demo/companies', json={'name': 'A'},"
        " headers={'Authorization': 'Bearer ' + token})\n"
        "print(answer.status_code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=30)
    assert result.stdout.strip() == "500"
    assert result.stderr == ""


def test_json_rules_given_as_text_work_as_the_command_line_gives_them() -> None:
    faults = Faults(Clock())
    faults.configure('[{"fault": "500", "rate": 1, "method": "POST", "path": "/members$"}]')
    assert [r.describe()["fault"] for r in faults.rules] == ["500"]
    faults.configure('{"spec": "429:0.5", "seed": 7}')
    assert [r.describe()["fault"] for r in faults.rules] == ["429"]
    with pytest.raises(ValueError, match="bad fault rules: not JSON"):
        faults.configure('[{"fault": "500",')
