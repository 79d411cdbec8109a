"""`flexctl export` end to end on the in-process emulator: the export validates, re-plans empty,
is byte-identical when repeated, never holds a secret, and is written atomically."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from flexctl import session as session_module
from flexctl.cli import main
from flexctl.config.types import EnvSecret
from flexctl.export.build import Export, build_export, export_slug
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import load_config
from flexctl.kinds.gateways import StripeGateway
from flexctl.platform.scopes import profile_scopes
from flexctl.state.snapshot import Snapshot
from tests.commands.export_seed import ORG, SECRET, oid, organization, seed
from tests.commands.plan_helpers import use_profile
from tests.config_sections import sections


@dataclass
class Run:
    code: int
    out: str
    err: str


class Cli(Protocol):
    def __call__(self, *args: str) -> Run: ...


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FLEXCTL_READ_RATE", "100000/s")
    monkeypatch.setenv("FLEXCTL_WRITE_RATE", "100000/s")
    for name in ("FLEXCTL_API_URL", "FLEXCTL_ORG", "FLEXCTL_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "sandbox.db"
    seed(path)
    return path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def export(cli: Cli, db: Path, out: Path, *extra: str) -> Run:
    # The seed has no invoice to tell the currency: the tests of that are in test_export_currency.
    currency = () if "--currency" in extra else ("--currency", "EUR")
    return cli("export", "-o", str(out), "--api-url", f"local:{db}", "--org", ORG, *currency,
               *extra)


def files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*")) if p.is_file() and ".flexctl" not in p.parts
    }


def test_export_validates_and_plan_against_the_same_target_is_empty(
    cli: Cli, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "config"
    result = export(cli, db, out)
    assert result.code == 0, result.err
    assert sorted(files(out)) == [
        "customers/companies.yaml", "customers/members.yaml", "flexctl.schema.json",
        "gateways.yaml", "invoicing.yaml", "organization.yaml", "rates.yaml", "services.yaml",
        "storefront.yaml",
    ]
    config = sections(load_config(out).config)
    assert config.organization == ORG and config.currency == "EUR"
    customers = [*config.companies.values(), *config.members.values()]
    memberships = sum(len(c.memberships) for c in customers)
    fees = sum(len(c.fees) for c in customers)
    assert memberships and fees
    assert f"members, {memberships} memberships, {fees} fees, invoicing settings, storefront " \
        "settings." in result.out
    assert cli("validate", str(out)).code == 0
    plan = cli("plan", str(out), "--api-url", f"local:{db}", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out


def test_export_twice_gives_identical_files(cli: Cli, db: Path, tmp_path: Path) -> None:
    assert export(cli, db, tmp_path / "a").code == 0
    assert export(cli, db, tmp_path / "b").code == 0
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_keys_amounts_memberships_and_modelines(cli: Cli, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "config"
    assert export(cli, db, out).code == 0
    config = sections(load_config(out).config)
    assert set(config.locations) == {"cafe-zurich", "harbor-downtown"}
    # Duplicate names: -2 for the later _id, in both customers and plans.
    assert config.companies["acme-ltd"].id == oid(40)
    assert config.companies["acme-ltd-2"].id == oid(41)
    assert config.plans["hot-desk-2"].id == oid(11)
    assert "aero-design-studio-1" in config.companies
    assert config.members["jurgen-gross"].name == "Jürgen Groß"
    text = files(out)
    assert "price: 0.10" in text["services.yaml"]
    assert "price: 1234.50" in text["services.yaml"]
    assert str(config.plans["printing"].price) == "0.10"
    acme = config.companies["acme-ltd"]
    assert [m.end for m in acme.memberships] == [None]  # open-ended
    (ended,) = config.members["jurgen-gross"].memberships
    assert (str(ended.start), str(ended.end), str(ended.price)) == (
        "2025-01-01", "2025-06-30", "1234.50"
    )
    assert sorted((f.name, f.quantity) for f in acme.fees) == [
        ("Colour prints", 10), ("Printing", 120)
    ]
    assert config.members["jane-doe"].company == "acme-ltd"
    assert text["organization.yaml"].startswith(
        "# yaml-language-server: $schema=flexctl.schema.json\n"
    )
    assert text["customers/members.yaml"].startswith(
        "# yaml-language-server: $schema=../flexctl.schema.json\n"
    )


def test_secrets_become_env_references_and_never_appear(
    cli: Cli, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "config"
    result = export(cli, db, out)
    everything = "".join(files(out).values()) + result.out + result.err
    assert SECRET not in everything and SECRET[-4:] not in everything
    gateway = sections(load_config(out).config).gateways["stripe-acct-1atelier"]
    # a Stripe gateway's secret, exported as an environment reference
    assert isinstance(gateway, StripeGateway) and isinstance(gateway.secret_key, EnvSecret)
    assert gateway.secret_key.env == "FLEXCTL_STRIPE_ACCT_1ATELIER_SECRET"
    assert "# not exported: the platform never reveals it" in files(out)["gateways.yaml"]


def test_refuses_a_non_empty_directory_without_force(
    cli: Cli, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "config"
    out.mkdir()
    (out / "old.yaml").write_text("version: 1\n", encoding="utf-8")
    refused = export(cli, db, out)
    assert refused.code == 64 and "--force" in refused.err
    assert files(out) == {"old.yaml": "version: 1\n"}
    forced = export(cli, db, out, "--force")
    assert forced.code == 0, forced.err
    assert "old.yaml" not in files(out)  # a stale file would be merged into the config
    assert load_config(out).config.organization == ORG


def test_hidden_entries_do_not_make_a_directory_non_empty(
    cli: Cli, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "repo"
    (out / ".git").mkdir(parents=True)
    assert export(cli, db, out).code == 0
    assert (out / ".git").is_dir() and (out / "organization.yaml").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".repo")]  # no staging left


def test_kinds_limits_the_export_to_those_kinds_and_their_references(
    cli: Cli, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "config"
    assert export(cli, db, out, "--kinds", "plans").code == 0
    assert sorted(files(out)) == ["flexctl.schema.json", "organization.yaml", "services.yaml"]
    config = sections(load_config(out).config)
    assert set(config.plans) >= {"hot-desk", "printing"} and not config.companies
    assert config.revenue_accounts  # referenced by a plan: exported too
    bad = export(cli, db, tmp_path / "x", "--kinds", "plans,nope")
    assert bad.code == 64 and "--kinds: unknown kind 'nope'" in bad.err


def test_export_on_the_officernd_profile_comments_what_it_cannot_read(
    cli: Cli, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_profile(monkeypatch, "officernd")
    monkeypatch.setenv("FLEXCTL_SCOPES", " ".join(profile_scopes(Profile.OFFICERND)))
    out = tmp_path / "config"
    result = export(cli, db, out)
    assert result.code == 0, result.err
    organization_yaml = files(out)["organization.yaml"]
    assert (
        "# gateways: the OfficeRnD public API does not expose payment gateways; add them by "
        "hand (Settings > Integrations > Payment Gateways)" in organization_yaml
    )
    assert ("# invoicing: the OfficeRnD public API does not expose the invoicing automation "
            "settings; add it by hand (Settings > Billing > Invoicing)") in organization_yaml
    assert "gateways.yaml" not in files(out) and "storefront.yaml" not in files(out)
    plan = cli("plan", str(out), "--api-url", f"local:{db}", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err


def test_what_cannot_be_represented_is_left_out_with_a_comment(
    cli: Cli, tmp_path: Path
) -> None:
    data = organization()
    data["companies"].append({"_id": oid(43), "name": "Nowhere Inc"})  # no location
    data["fees"].append(  # a booking fee on a resource rate: not a config fee
        {"name": "Meeting Room", "plan": oid(20), "company": oid(40), "location": oid(2),
         "issueDate": "2026-02-04T00:00:00.000Z", "price": 30})
    data["fees"].append(  # a second identical day pass: the config cannot tell the two apart
        {"name": "Day Pass", "plan": oid(13), "member": oid(51), "isPersonal": True,
         "location": oid(1), "issueDate": "2026-03-01T00:00:00.000Z", "price": 25})
    db = tmp_path / "sandbox.db"
    seed(db, data)
    out = tmp_path / "config"
    result = export(cli, db, out)
    assert result.code == 0, result.err
    members = files(out)["customers/members.yaml"]
    assert "not exported: fees id" in members and "same plan, date and name" in members
    assert len(sections(load_config(out).config).members["jane-doe-2"].fees) == 1
    companies = files(out)["customers/companies.yaml"]
    assert "# not exported: companies nowhere-inc" in companies
    assert "no location" in companies
    assert "is not an exported billing plan" in companies
    assert "Not exported: companies nowhere-inc" in result.err
    plan = cli("plan", str(out), "--api-url", f"local:{db}", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # left out = unmanaged, never a change


def test_many_customers_are_split_into_files_of_500(cli: Cli, tmp_path: Path) -> None:
    data = organization()
    data["members"] += [
        {"name": f"Member {n:04d}", "email": f"m{n}@example.com", "location": oid(1)}
        for n in range(600)
    ]
    db = tmp_path / "sandbox.db"
    seed(db, data)
    out = tmp_path / "config"
    assert export(cli, db, out).code == 0
    names = sorted(files(out))
    assert "customers/members-001.yaml" in names and "customers/members-002.yaml" in names
    assert "customers/members.yaml" not in names
    assert len(sections(load_config(out).config).members) == 603


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Café Zürich", "cafe-zurich"), ("Jürgen Groß", "jurgen-gross"), ("Ærø", "aero"),
     ("Łódź — Hub", "lodz-hub"), ("東京", "item")],
)
def test_export_slug_transliterates(name: str, slug: str) -> None:
    assert export_slug(name) == slug


def test_an_unwritable_directory_is_one_clean_error(cli: Cli, db: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    result = export(cli, db, blocker / "config")
    assert result.code == 1
    assert result.err.startswith(f"Error: cannot write the export to {blocker / 'config'}: ")
    assert "Internal error" not in result.err and len(result.err.splitlines()) == 1
    assert blocker.read_text(encoding="utf-8") == "not a directory\n"


def test_an_export_that_does_not_validate_writes_nothing(
    cli: Cli, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(
        snapshot: Snapshot, org: str, currency: str, kinds: Iterable[str] | None = None
    ) -> Export:
        built = build_export(snapshot, org, currency, kinds)
        built.files["services.yaml"] += "  broken: {name: Broken, billing: weekly}\n"
        return built

    monkeypatch.setattr(session_module, "build_export", broken)
    out = tmp_path / "config"
    result = export(cli, db, out)
    assert result.code == 1 and "the export does not validate (nothing written)" in result.err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["sandbox.db"]

