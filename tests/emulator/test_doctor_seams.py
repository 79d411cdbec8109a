"""What `flexctl doctor` reads and how the emulator makes each of its checks fail: the
organization document (and its regional host), the Date header by the emulator's clock, and
the faults that bend list answers or refuse one query."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime

import pytest

from tests.emulator.emu_harness import ORG, Emu, nest_error


def test_the_organization_with_or_without_a_regional_host(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    for path in (ORG, f"{ORG}/"):  # Express routes a trailing slash the same
        found = emu.get(path)
        assert found.status_code == 200, found.text
        assert found.json()["slug"] == "demo" and "regionInfo" not in found.json()
    emu.client.post("/_emulator/dialect", json={"region": "elsewhere"})
    assert emu.get(ORG).json()["regionInfo"] == {"regionUrl": "https://eu1.officernd.example"}
    emu.client.post("/_emulator/dialect", json={"region": "same"})
    assert emu.get(ORG).json()["regionInfo"]["regionUrl"] == str(emu.client.base_url).rstrip("/")
    nest_error(emu.get("/api/v2/organizations/nobody"), 500)


def test_the_date_header_follows_the_emulators_clock(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu()
    before = parsedate_to_datetime(emu.get("plans").headers["date"])
    emu.app.clock.advance(3600)
    answer = emu.get("plans")
    assert answer.headers.get_list("date") == [answer.headers["date"]]  # one, not two
    assert (parsedate_to_datetime(answer.headers["date"]) - before).total_seconds() >= 3600


def test_shaping_faults_bend_list_answers(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu()
    for i in range(30):
        emu.create("companies", {"name": f"C{i:02d}"})
    emu.client.post("/_emulator/faults", json=[
        {"fault": "short_page", "path": "/companies$"},
        {"fault": "ignore_select", "path": "/companies$"},
        {"fault": "omit_field", "field": "email", "path": "/companies$"},
    ])
    page = emu.get("companies", params={"$limit": "50", "$select": "_id,name"}).json()
    assert len(page["results"]) == 20 and page["cursorNext"]
    assert "status" in page["results"][0]  # $select ignored ...
    assert "email" not in page["results"][0]  # ... but the omitted field is gone
    emu.client.post("/_emulator/faults", json=[{"fault": "repeat_page", "path": "/companies$"}])
    first = emu.get("companies", params={"$limit": "10"}).json()
    again = emu.get("companies", params={"$limit": "10", "$cursorNext": first["cursorNext"]})
    assert [c["_id"] for c in again.json()["results"]] == [c["_id"] for c in first["results"]]


def test_a_fault_may_match_the_query_and_answer_4xx(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu()
    emu.client.post("/_emulator/faults", json=[{"fault": "400", "query": "modifiedAt"}])
    assert emu.get("members").status_code == 200
    body = nest_error(emu.get("members", params={"modifiedAt[$gte]": "2026-01-01"}), 400)
    assert body["message"] == "Refused (injected fault)"


@pytest.mark.parametrize(("rule", "message"), [
    ({"fault": "omit_field"}, "omit_field needs a \"field\""),
    ({"fault": "500", "field": "x"}, "omit_field needs a \"field\""),
    ({"fault": "302"}, "unknown fault '302'"),
    ({"fault": "500", "query": "("}, "bad query regex"),
])
def test_bad_shaping_rules_are_refused(
    make_emu: Callable[..., Emu], rule: dict[str, str], message: str
) -> None:
    emu = make_emu()
    body = nest_error(emu.client.post("/_emulator/faults", json=[rule]), 400)
    assert message in str(body["message"])
