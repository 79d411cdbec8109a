"""The v2 list dialect: $limit 50, cursors and envelope, $select, documented filters only."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.emulator.emu_harness import Emu, nest_error

DATE_OPS = ("$gt", "$gte", "$lt", "$lte")


def _companies(emu: Emu, count: int) -> list[str]:
    return [emu.create("companies", {"name": f"Company {i:03d}"})["_id"] for i in range(count)]


def test_limit_above_50_is_400(emu: Emu) -> None:
    body = nest_error(emu.get("plans", params={"$limit": "51"}), 400)
    assert body["message"] == ["$limit must not be greater than 50"]
    assert body["error"] == "Bad Request"


def test_limit_must_be_a_number(emu: Emu) -> None:
    body = nest_error(emu.get("plans", params={"$limit": "ten"}), 400)
    assert body["message"] == ["$limit must be a number conforming to the specified constraints"]


def test_cursor_pages_cover_everything_once(emu: Emu) -> None:
    ids = _companies(emu, 60)
    first = emu.get("companies").json()
    assert len(first["results"]) == 50  # default page size is the maximum
    assert (first["rangeStart"], first["rangeEnd"]) == (1, 50)
    assert "cursorPrev" not in first
    second = emu.get("companies", params={"$cursorNext": first["cursorNext"]}).json()
    assert (second["rangeStart"], second["rangeEnd"]) == (51, 60)
    assert "cursorNext" not in second  # absent, not null, on the last page
    assert [c["_id"] for c in first["results"] + second["results"]] == ids
    back = emu.get("companies", params={"$cursorPrev": second["cursorPrev"]}).json()
    assert back["results"] == first["results"]
    assert (back["rangeStart"], back["rangeEnd"]) == (1, 50)


def test_small_pages_and_single_page_envelope(emu: Emu) -> None:
    _companies(emu, 3)
    page = emu.get("companies", params={"$limit": "2"}).json()
    assert len(page["results"]) == 2 and "cursorNext" in page
    whole = emu.get("companies").json()
    assert set(whole) == {"results", "rangeStart", "rangeEnd"}
    empty = emu.get("fees").json()
    assert empty == {"results": [], "rangeStart": 0, "rangeEnd": 0}


def test_missing_cursors_may_be_null(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="no_cursor=null,customer_create=lenient")
    _companies(emu, 3)
    whole = emu.get("companies").json()
    assert (whole["cursorNext"], whole["cursorPrev"]) == (None, None)
    first = emu.get("companies", params={"$limit": "2"}).json()
    assert first["cursorPrev"] is None and first["cursorNext"]
    last = emu.get("companies", params={"$limit": "2", "$cursorNext": first["cursorNext"]})
    assert last.json()["cursorNext"] is None and last.json()["cursorPrev"]
    assert emu.get("fees").json() == {"results": [], "cursorNext": None, "cursorPrev": None,
                                      "rangeStart": 0, "rangeEnd": 0}


def test_a_full_last_page_has_no_cursor_by_default(emu: Emu) -> None:
    _companies(emu, 4)
    first = emu.get("companies", params={"$limit": "2"}).json()
    last = emu.get("companies", params={"$limit": "2", "$cursorNext": first["cursorNext"]})
    assert len(last.json()["results"]) == 2 and "cursorNext" not in last.json()


def test_a_full_last_page_may_lead_to_an_empty_page(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd",
                   dialect="full_last_page=empty-page,customer_create=lenient")
    ids = _companies(emu, 4)
    params = {"$limit": "2"}
    pages = []
    while True:
        page = emu.get("companies", params=params).json()
        pages.append(page)
        if "cursorNext" not in page:
            break
        params = {"$limit": "2", "$cursorNext": page["cursorNext"]}
    assert [len(p["results"]) for p in pages] == [2, 2, 0]
    assert [c["_id"] for p in pages for c in p["results"]] == ids
    assert pages[-1] == {"results": [], "rangeStart": 0, "rangeEnd": 0}
    emu.create("companies", {"name": "Fifth"})  # no longer exactly full: no empty page
    last = emu.get("companies", params={"$limit": "2", "$cursorNext": pages[1]["cursorNext"]})
    assert [c["name"] for c in last.json()["results"]] == ["Fifth"]
    assert "cursorNext" not in last.json()


def test_both_cursors_at_once_is_400(emu: Emu) -> None:
    _companies(emu, 3)
    cursor = emu.get("companies", params={"$limit": "1"}).json()["cursorNext"]
    response = emu.get("companies", params={"$cursorNext": cursor, "$cursorPrev": cursor})
    nest_error(response, 400)


def test_garbage_cursor_is_500_like_the_real_api(emu: Emu) -> None:
    nest_error(emu.get("companies", params={"$cursorNext": "not-a-cursor"}), 500)


def test_unknown_query_parameter_is_400(emu: Emu) -> None:
    body = nest_error(emu.get("plans", params={"colour": "red"}), 400)
    assert body["message"] == ["property colour should not exist"]


def test_memberships_reject_date_filters_and_sort(emu: Emu) -> None:
    for param in ("createdAt", "modifiedAt", "$sort"):
        body = nest_error(emu.get("memberships", params={param: "2026-01-01"}), 400)
        assert body["message"] == [f"property {param} should not exist"]


def test_equality_and_in_filters(emu: Emu) -> None:
    cat = emu.catalogue()
    other = emu.create("members", {"name": "Bob", "email": "bob@example.com"})
    found = emu.get("members", params={"email": "jane@acme.example"}).json()["results"]
    assert [m["_id"] for m in found] == [cat["member"]["_id"]]
    by_company = emu.get("members", params={"company": cat["company"]["_id"]}).json()["results"]
    assert [m["name"] for m in by_company] == ["Jane"]
    ids = f"{cat['member']['_id']},{other['_id']}"
    both = emu.get("members", params={"_id[$in]": ids}).json()["results"]
    assert len(both) == 2
    assert emu.get("plans", params={"code": "nope"}).json()["results"] == []
    assert len(emu.get("plans", params={"name": "Day Pass"}).json()["results"]) == 1


def test_id_filters_must_be_object_ids(emu: Emu) -> None:
    body = nest_error(emu.get("members", params={"company": "acme"}), 400)
    assert body["message"] == ["company must be a mongodb id"]


def test_date_operators_where_documented(emu: Emu) -> None:
    emu.create("members", {"name": "Old", "email": "old@example.com"})
    emu.app.clock.advance(60)
    cutoff = emu.app.clock.iso_now()
    emu.app.clock.advance(1)
    emu.create("members", {"name": "New", "email": "new@example.com"})
    recent = emu.get("members", params={"createdAt[$gte]": cutoff}).json()["results"]
    assert [m["name"] for m in recent] == ["New"]
    nest_error(emu.get("members", params={"createdAt[$gte]": "yesterday"}), 400)
    nest_error(emu.get("plans", params={"createdAt[$gte]": cutoff}), 400)  # not documented


def test_select_keeps_id(emu: Emu) -> None:
    emu.catalogue()
    page = emu.get("plans", params={"$select": "name,nonsense"}).json()["results"]
    assert all(set(p) == {"_id", "name"} for p in page)
    only_ids = emu.get("members", params={"$select": "_id"}).json()["results"]
    assert len(only_ids) == 1 and set(only_ids[0]) == {"_id"}


def test_status_in_filter(emu: Emu) -> None:
    emu.create("companies", {"name": "A", "status": "lead"})
    emu.create("companies", {"name": "B"})
    found = emu.get("companies", params={"status[$in]": "lead,former"}).json()["results"]
    assert [c["name"] for c in found] == ["A"]


def test_count_endpoint(emu: Emu) -> None:
    _companies(emu, 3)
    assert emu.get("companies/count").json() == {"total": 3, "groups": []}
    emu.create("companies", {"name": "Lead", "status": "lead"})
    assert emu.get("companies/count", params={"status": "lead"}).json()["total"] == 1
    nest_error(emu.get("companies/count", params={"colour": "red"}), 400)


def test_members_count_by(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd", dialect="customer_create=lenient")
    for name, status in (("A", "active"), ("B", "lead"), ("C", "active")):
        emu.create("members", {"name": name, "email": f"{name}@example.com", "status": status})
    counted = emu.get("members/count", params={"$countBy": "status"}).json()
    assert counted == {"total": 3, "groups": [{"key": "active", "count": 2},
                                              {"key": "lead", "count": 1}]}
    filtered = emu.get("members/count", params={"$countBy": "status", "name": "B"}).json()
    assert filtered == {"total": 1, "groups": [{"key": "lead", "count": 1}]}
    body = nest_error(emu.get("members/count", params={"$countBy": "email"}), 400)
    assert body["message"] == ["$countBy must be one of the following values: status, company, "
                               "location"]
    body = nest_error(emu.get("companies/count", params={"$countBy": "status"}), 400)
    assert body["message"] == ["property $countBy should not exist"]


def test_memberships_count_ignores_every_filter(emu: Emu) -> None:
    cat = emu.catalogue()
    emu.membership(cat)
    emu.membership(cat)
    ignored = {"company": "0" * 24, "modifiedAt[$gt]": "2999-01-01", "colour": "red"}
    assert emu.get("memberships/count", params=ignored).json() == {"total": 2, "groups": []}


@pytest.mark.parametrize("kind", ["members", "companies", "fees", "charges", "payments"])
def test_modified_at_filters_where_the_platform_has_them(
    make_emu: Callable[..., Emu], kind: str
) -> None:
    emu = make_emu(profile="officernd")
    for op in DATE_OPS:
        answer = emu.get(kind, params={f"modifiedAt[{op}]": "2026-01-01T00:00:00.000Z"})
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("kind", ["memberships", "plans", "resource-rates", "tax-rates",
                                  "revenue-accounts", "locations", "resource-types"])
def test_no_modified_at_filter_elsewhere(make_emu: Callable[..., Emu], kind: str) -> None:
    emu = make_emu(profile="officernd")
    for op in DATE_OPS:
        body = nest_error(emu.get(kind, params={f"modifiedAt[{op}]": "2026-01-01"}), 400)
        assert body["message"] == ["property modifiedAt should not exist"]


def test_modified_at_finds_what_changed_since(emu: Emu) -> None:
    old = emu.create("members", {"name": "Old", "email": "old@example.com"})
    changed = emu.create("members", {"name": "Changed", "email": "changed@example.com"})
    emu.app.clock.advance(60)
    cutoff = emu.app.clock.iso_now()
    emu.app.clock.advance(1)
    emu.put(f"members/{changed['_id']}", {"name": "Changed again"})
    emu.put(f"members/{old['_id']}", {"name": "Old"})  # no change: modifiedAt stays
    since = emu.get("members", params={"modifiedAt[$gt]": cutoff}).json()["results"]
    assert [m["name"] for m in since] == ["Changed again"]
    before = emu.get("members", params={"modifiedAt[$lte]": cutoff}).json()["results"]
    assert [m["name"] for m in before] == ["Old"]


def test_properties_filter(emu: Emu) -> None:
    emu.create("companies", {"name": "Tagged", "properties": {"flexctl": "companies.acme"}})
    emu.create("companies", {"name": "Plain"})
    found = emu.get("companies", params={"properties[flexctl]": "companies.acme"}).json()
    assert [c["name"] for c in found["results"]] == ["Tagged"]


def test_zero_limit_gives_20_like_staging(emu: Emu) -> None:
    _companies(emu, 25)
    assert len(emu.get("companies", params={"$limit": "0"}).json()["results"]) == 20


def test_membership_lists_carry_calculated_status(emu: Emu) -> None:
    cat = emu.catalogue()
    emu.membership(cat, startDate="2020-01-01", endDate="2020-12-31")
    emu.membership(cat, startDate="2999-01-01")
    found = emu.get("memberships", params={"company": cat["company"]["_id"]}).json()["results"]
    assert [m["calculatedStatus"] for m in found] == ["expired", "not_started"]
    selected = emu.get("memberships", params={"$select": "startDate"}).json()["results"]
    assert set(selected[0]) == {"_id", "startDate"}


def test_filtered_listing_pages_with_cursors(emu: Emu) -> None:
    ids = [emu.create("companies", {"name": "Same"})["_id"] for _ in range(55)]
    emu.create("companies", {"name": "Other"})
    first = emu.get("companies", params={"name": "Same"}).json()
    second = emu.get("companies", params={"name": "Same", "$cursorNext": first["cursorNext"]})
    assert [c["_id"] for c in first["results"] + second.json()["results"]] == ids


def test_in_filter_takes_at_most_50_values(emu: Emu) -> None:
    ids = ",".join(f"{i:024x}" for i in range(51))
    body = nest_error(emu.get("members", params={"_id[$in]": ids}), 400)
    assert body["message"] == ["_id[$in] must contain no more than 50 elements"]


def test_select_on_lists_keeps_exact_numbers_and_nulls(emu: Emu) -> None:
    emu.request("POST", "plans", headers={"Content-Type": "application/json"},
                content=b'{"name": "Printing", "price": 0.10, "intervalLength": "once"}')
    page = emu.get("plans", params={"$select": "price,code,locations,nope,bad\"name"})
    assert b'"price":0.10' in page.content
    (plan,) = page.json()["results"]
    assert set(plan) == {"_id", "price", "code", "locations"}
    assert plan["code"] is None and plan["locations"] == []


def test_payments_filters(make_emu: Callable[..., Emu]) -> None:
    emu = make_emu(profile="officernd")
    cat = emu.catalogue()
    fee = emu.fee(cat)
    invoice = emu.client.post("/_emulator/organizations/demo/invoices",
                              json={"fees": [fee["_id"]]}).json()

    def found(**params: str) -> int:
        return len(emu.get("payments", params=params).json()["results"])

    assert found(number=invoice["number"], documentType="invoice") == 1
    assert found(**{"status[$in]": "paid,voided"}) == 0
    assert found(**{"status[$in]": "awaiting_payment"}, location=cat["location"]["_id"]) == 1
    assert found(company=cat["company"]["_id"], **{"dueDate[$gt]": invoice["date"]}) == 1
    assert found(**{"modifiedAt[$gte]": invoice["modifiedAt"]}) == 1
    body = nest_error(emu.get("payments", params={"fee": fee["_id"]}), 400)
    assert body["message"] == ["property fee should not exist"]


@pytest.mark.parametrize("profile", ["full", "officernd"])
def test_payments_by_customers_in_one_query_unless_refused(
    make_emu: Callable[..., Emu], profile: str
) -> None:
    emu = make_emu(profile=profile)
    org = "demo"
    a, b, c = (emu.app.store.new_id() for _ in range(3))
    for customer in (a, b, c, a):
        emu.app.store.insert(org, "payments", {"company": customer, "documentType": "invoice"})
    found = emu.get("payments", params={"company[$in]": f"{a},{b}"}).json()["results"]
    assert sorted(p["company"] for p in found) == sorted([a, a, b])
    assert emu.get("payments", params={"member[$in]": a}).json()["results"] == []
    refused = make_emu(profile=profile, dialect="customer_in=reject")
    body = nest_error(refused.get("payments", params={"company[$in]": f"{a},{b}"}), 400)
    assert body["message"] == ["property company[$in] should not exist"]
    assert refused.get("payments", params={"company": a}).status_code == 200
    # the filters stay the platform's: no `[$in]` on another customer field, nor `location`
    nest_error(emu.get("payments", params={"location[$in]": a}), 400)
