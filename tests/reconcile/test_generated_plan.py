"""The whole plan of a generated organization, pinned: golden files that the engines' speed-ups
(desired state, match, diff, plan build, money) must leave unchanged, byte for byte.

The organization is seeded in the in-process emulator, then the configuration edits, adds,
drops and re-plans some of everything: updates, creates, prunes, replaces, a lock date that
blocks, periods from `changes:` and a repricing campaign, so every engine pass has work."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flexctl.config.secrets import SecretResolver
from flexctl.emulator import create_app
from flexctl.kinds import registry
from flexctl.kinds._values import date_to_api
from flexctl.kinds.base import Profile
from flexctl.kinds.configuration import config_model
from flexctl.kinds.refs import RefMap
from flexctl.platform.scopes import profile_scopes
from flexctl.platform.target import Target, open_client
from flexctl.reconcile.render import render_json, render_text
from flexctl.session import make_plan
from flexctl.state.desired import desired_state
from tests.reconcile.test_render import check_golden

ORG = "generated-works"
TODAY = date(2026, 12, 2)
RECURRING = ("hot-desk", "fixed-desk", "office-s")
ONE_OFF = ("day-pass", "printing", "locker")


def generated(companies: int = 24, members: int = 60) -> dict[str, Any]:
    """Customers with memberships and fees, as the benchmarks generate them (smaller)."""
    start = date(2026, 1, 1)
    plans: dict[str, Any] = {
        key: {"name": key.replace("-", " ").title(), "billing": "recurring",
              "price": Decimal(100 + 50 * i)} for i, key in enumerate(RECURRING)}
    plans.update({
        key: {"name": key.replace("-", " ").title(), "billing": "one_off",
              "price": Decimal(5 + i) / 2} for i, key in enumerate(ONE_OFF)})
    data: dict[str, Any] = {
        "version": 1, "organization": ORG, "currency": "EUR",
        "locations": {"downtown": {"name": "Downtown"}, "riverside": {"name": "Riverside"}},
        "plans": plans, "companies": {}, "members": {},
    }
    for c in range(companies):
        data["companies"][f"company-{c}"] = {
            "name": f"Company {c}", "email": f"billing@company{c}.example",
            "location": "downtown" if c % 2 else "riverside",
            "memberships": [{"plan": RECURRING[n % 3], "price": Decimal(90 + c % 40 + n),
                             "start": start + timedelta(days=c + 31 * n)} for n in range(2)],
            "fees": [{"plan": ONE_OFF[n % 3], "date": start + timedelta(days=c + n),
                      "quantity": 1 + (c + n) % 7} for n in range(3)],
        }
    for m in range(members):
        data["members"][f"member-{m}"] = {
            "name": f"Member {m}", "email": f"member{m}@example.com",
            "company": f"company-{m % companies}", "location": "downtown",
            "memberships": [{"plan": "hot-desk", "start": start}] if m % 4 == 0 else [],
        }
    return data


def edited(data: dict[str, Any]) -> dict[str, Any]:
    """Some of everything changed: the plan then holds every action the engines produce."""
    data["policy"] = {"prune": ["memberships", "fees", "companies", "members"],
                      "max_change_ratio": 1, "lock_date": date(2026, 1, 10)}
    data["repricing"] = {"desks-2027": {"plan": "fixed-desk", "from": date(2027, 2, 1),
                                        "increase": "8%", "except": ["companies.company-4"]}}
    for i, company in enumerate(data["companies"].values()):
        if i % 3 == 0:
            company["email"] = f"accounts{i}@changed.example"
        if i % 4 == 0:
            company["memberships"][0]["price"] += Decimal(5)
        if i % 5 == 0:
            company["memberships"].pop()
        if i % 6 == 0:
            company["fees"][0]["quantity"] += 1
        if i % 7 == 0:
            company["fees"][1]["plan"] = "locker" if company["fees"][1]["plan"] != "locker" \
                else "day-pass"
        if i % 8 == 0:
            company["fees"][2]["name"] = "Special"
        if i % 9 == 0:
            company["memberships"][0]["end"] = date(2027, 6, 30)
        if i % 10 == 0:
            company["memberships"][0]["changes"] = [{"from": date(2027, 3, 1),
                                                     "price": Decimal(150)}]
        if i % 11 == 0:
            company["memberships"].append({"plan": "office-s", "start": date(2027, 1, 1)})
    for j, key in enumerate(list(data["members"])):
        if j % 9 == 0:
            del data["members"][key]
        elif j % 5 == 0:
            data["members"][key]["name"] += " (changed)"
    data["companies"]["newcomer"] = {
        "name": "Newcomer", "location": "downtown", "fees": [],
        "memberships": [{"plan": "hot-desk", "start": date(2026, 12, 15)}],
    }
    return data


def seeded(data: dict[str, Any]) -> Any:
    app = create_app(None, profile="full", orgs=(ORG,))
    secrets = SecretResolver(environ={})
    config = config_model().model_validate(data, strict=False)
    desired = desired_state(SimpleNamespace(config=config), secrets)
    refs, serial = RefMap(), 0x6000000000000000000000
    app.store.ensure_org(ORG)
    with app.store.transaction():
        for kind in registry():
            for obj in desired.get(kind.name, ()):
                serial += 1
                body = kind.create_body(obj, refs, secrets)
                if "startDate" in body and obj.fields.get("start") is None:
                    # A customer without `start` is created on the day of the apply: pin it.
                    body["startDate"] = date_to_api(TODAY)
                app.store.insert(ORG, kind.api_path or kind.name, {"_id": f"{serial:024x}", **body})
                if not kind.owned:
                    refs.add(kind.name, str(obj.meta["key"]), f"{serial:024x}")
    return app


def planned() -> Any:
    app = seeded(generated())
    config = config_model().model_validate(edited(generated()), strict=False)
    target = Target(api_url="http://emulator.test/api/v2", org=ORG,
                    token_url="http://emulator.test/oauth/token",
                    client_id="emulator", client_secret="emulator")
    with open_client(target, app=app, scopes=profile_scopes(Profile.FULL),
                     read_rate="1000000/min", write_rate="1000000/min") as client:
        run = make_plan(SimpleNamespace(config=config, digest="sha256:" + "c" * 64), client,
                        {"api_url": target.api_url, "org": ORG},
                        secrets=SecretResolver(environ={}), today=TODAY, as_of=TODAY)
    return run.plan


def test_generated_plan_is_pinned() -> None:
    plan = planned()
    assert {a for a, n in plan.summary.items() if n} >= {"create", "update", "delete", "blocked"}
    check_golden("generated-plan.txt", render_text(plan))
    # The live digest holds the emulator's modifiedAt (the time of seeding): pin it.
    data = json.loads(render_json(plan))
    data["live_digest"] = "sha256:live"
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    check_golden("generated-plan.json", re.sub(r"[ \t]+\n", "\n", text))
