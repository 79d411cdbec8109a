"""Resource-rate components as the platform holds them: a weekend half day (two flags in one
component) round-trips through export and plan, and survives, with the components flexctl does
not model, an update of another field of the rate."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from flexctl.cli import main
from flexctl.emulator import create_app
from flexctl.emulator.seed import apply_seed

ORG = "weekend-works"
DESK = "650000000000000000000100"
COMPONENTS: list[dict[str, Any]] = [
    {"price": Decimal(150), "intervalLength": "hour", "intervalCount": 4,
     "isWeekendRate": True, "isHalfDayRate": True},  # the platform's own example
    {"price": Decimal(700), "intervalLength": "week", "intervalCount": 1},
    {"price": Decimal(10), "intervalLength": "day", "intervalCount": 1, "isPeakRate": True},
]


def seed(db: Path) -> None:
    app = create_app(str(db), profile="full", orgs=())
    try:
        apply_seed(app, {ORG: {
            "locations": [{"name": "Weekend Works"}],
            "resource-rates": [{"_id": DESK, "name": "Flex Desk", "price": Decimal(35),
                                "intervalLength": "day", "type": "desk",
                                "rates": COMPONENTS}],
        }})
    finally:
        app.store.close()


def components(db: Path) -> list[dict[str, Any]]:
    """The rate's components as stored, without their ids."""
    app = create_app(str(db), profile="full", orgs=(ORG,))
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://e") as http:
            token = http.post("/oauth/token", data={
                "grant_type": "client_credentials", "client_id": "emulator",
                "client_secret": "emulator"}).json()["access_token"]
            doc = http.get(f"/api/v2/organizations/{ORG}/resource-rates/{DESK}",
                           headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        app.store.close()
    return [{k: v for k, v in c.items() if k != "_id"} for c in doc["rates"]]


def flexctl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_weekend_half_day_round_trips_and_survives_an_update(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    db, out = tmp_path / "sandbox.db", tmp_path / "exported"
    seed(db)
    target = ("--api-url", f"local:{db}")
    code, text = flexctl(capsys, "export", "-o", str(out), "--currency", "EUR", "--org", ORG,
                         *target)
    assert code == 0, text
    rates = (out / "rates.yaml").read_text(encoding="utf-8")
    assert "weekend_half_day_price: 150.00" in rates and "week_price: 700.00" in rates
    assert "weekend_price" not in rates.replace("weekend_half_day_price", "")
    code, text = flexctl(capsys, "plan", str(out), "--detailed-exitcode", *target)
    assert code == 0, text

    (out / "rates.yaml").write_text(rates.replace("price: 35.00", "price: 38.00"),
                                    encoding="utf-8")
    code, text = flexctl(capsys, "apply", str(out), "--auto-approve", *target)
    assert code == 0, text
    assert "price: 35.00 -> 38.00" in text, text
    assert components(db) == [{k: v for k, v in c.items()} for c in COMPONENTS]
    code, text = flexctl(capsys, "plan", str(out), "--detailed-exitcode", *target)
    assert code == 0, text


def test_changing_a_modelled_component_keeps_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, out = tmp_path / "sandbox.db", tmp_path / "exported"
    seed(db)
    target = ("--api-url", f"local:{db}")
    assert flexctl(capsys, "export", "-o", str(out), "--currency", "EUR", "--org", ORG,
                   *target)[0] == 0
    rates = (out / "rates.yaml").read_text(encoding="utf-8")
    (out / "rates.yaml").write_text(
        rates.replace("weekend_half_day_price: 150.00", "weekend_half_day_price: 160.00"),
        encoding="utf-8")
    code, text = flexctl(capsys, "apply", str(out), "--auto-approve", *target)
    assert code == 0, text
    stored = components(db)
    assert stored[0]["price"] == Decimal(160) and stored[0]["isWeekendRate"] is True
    assert stored[0]["isHalfDayRate"] is True and stored[0]["isOffRate"] is False
    assert COMPONENTS[1] in [{k: v for k, v in c.items() if not k.startswith("is")}
                             for c in stored]
    assert COMPONENTS[2] in stored  # the unknown component, exactly as it was
    assert flexctl(capsys, "plan", str(out), "--detailed-exitcode", *target)[0] == 0
