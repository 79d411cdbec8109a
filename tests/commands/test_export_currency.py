"""Where `flexctl export` takes the organization's currency from, never its billing settings:
`--currency`, else a configuration of the organization, else an invoice, else a clear error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from flexctl.cli import main
from flexctl.emulator import create_app
from flexctl.emulator.context import Context
from flexctl.emulator.invoices import create_invoice
from flexctl.emulator.seed import apply_seed
from flexctl.kinds.base import Profile
from flexctl.platform import target as target_module
from flexctl.platform.scopes import profile_scopes
from tests.commands.plan_helpers import use_profile

ORG = "pound-works"
ACME = "650000000000000000000040"
FEE = "650000000000000000000050"


def seed(db: Path, *, invoiced: bool) -> None:
    app = create_app(str(db), orgs=())
    location, plan = "650000000000000000000001", "650000000000000000000010"
    data = {
        # The settings name a currency the platform never shows: flexctl must not read them.
        "billing-settings": {"currency": "JPY"},
        "locations": [{"_id": location, "name": "Pound Works"}],
        "plans": [{"_id": plan, "name": "Day Pass", "price": Decimal(25),
                   "intervalLength": "once"}],
        "companies": [{"_id": ACME, "name": "Acme", "location": location}],
        "fees": [{"_id": FEE, "name": "Day Pass", "plan": plan, "company": ACME,
                  "location": location, "issueDate": "2026-12-01", "price": Decimal(25)}],
    }
    try:
        apply_seed(app, {ORG: data})
        if invoiced:  # an invoice in GBP: what the organization bills in
            app.store.put_singleton(ORG, "billing-settings", {"currency": "GBP"})
            with app.store.transaction():
                create_invoice(Context(app.store, ORG, app.clock, app.dialect), {"fees": [FEE]})
            app.store.put_singleton(ORG, "billing-settings", {"currency": "JPY"})
    finally:
        app.store.close()


def export(capsys: pytest.CaptureFixture[str], db: Path, out: Path, *extra: str
           ) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["export", "-o", str(out), "--org", ORG, "--api-url", f"local:{db}", *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def currency_of(out: Path) -> str:
    return str(yaml.safe_load((out / "organization.yaml").read_text())["currency"])


@pytest.fixture(autouse=True)
def officernd(monkeypatch: pytest.MonkeyPatch) -> None:
    use_profile(monkeypatch, "officernd")
    monkeypatch.chdir(Path(target_module.__file__).parent)  # no configuration here


def test_the_currency_of_an_invoice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(tmp_path / "db", invoiced=True)
    code, text = export(capsys, tmp_path / "db", tmp_path / "out")
    assert code == 0, text
    assert currency_of(tmp_path / "out") == "GBP"


def test_no_invoice_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(tmp_path / "db", invoiced=False)
    code, text = export(capsys, tmp_path / "db", tmp_path / "out")
    assert code == 1
    assert text.strip() == ("Error: cannot tell the organization's currency: no invoice names "
                            "one yet; pass --currency (e.g. --currency EUR)")
    assert not (tmp_path / "out").exists()


def test_the_flag_and_then_the_configuration_win(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(tmp_path / "db", invoiced=True)
    out = tmp_path / "out"
    assert export(capsys, tmp_path / "db", out, "--currency", "usd")[0] == 0
    assert currency_of(out) == "USD"
    code, text = export(capsys, tmp_path / "db", out, "--force")  # re-export: keeps USD
    assert code == 0, text
    assert currency_of(out) == "USD"


def test_a_refused_invoice_read_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(tmp_path / "db", invoiced=True)
    granted = [s for s in profile_scopes(Profile.OFFICERND) if not s.startswith(
        "flex.billing.payments")]
    monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(granted))
    code, text = export(capsys, tmp_path / "db", tmp_path / "out")
    assert code == 1
    assert "cannot tell the organization's currency: reading its invoices failed (GET " in text
    assert "401 Unauthorized access" in text and "pass --currency" in text


def test_a_currency_flag_that_is_no_iso_code_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(tmp_path / "db", invoiced=True)
    code, text = export(capsys, tmp_path / "db", tmp_path / "out", "--currency", "XYZ")
    assert code == 64, text
    assert "--currency must be an ISO 4217 code such as EUR, not 'XYZ'" in text
    assert not (tmp_path / "out").exists()
