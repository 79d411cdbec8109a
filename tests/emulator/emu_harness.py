"""Helpers for the emulator contract suite: a client bound to an emulator, NestJS body checks."""

from __future__ import annotations

from typing import Any

import httpx

from flexctl.emulator import Emulator
from flexctl.emulator.seed import apply_seed

ORG = "/api/v2/organizations/demo"


class Emu:
    """An emulator plus a client that speaks to it, with small helpers for tests."""

    def __init__(self, app: Emulator, client: httpx.Client, transport: str) -> None:
        self.app = app
        self.client = client
        self.transport = transport
        self.app.clock.real_sleep = False  # injected latency moves the clock instead
        self._token: str | None = None

    def token(self, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials", "client_id": "emulator",
                "client_secret": "emulator"}
        if scope is not None:
            form["scope"] = scope
        response = self.client.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def request(self, method: str, path: str, *, token: str | None = None,
                **kwargs: Any) -> httpx.Response:
        if token is None:
            self._token = self._token or self.token()
            token = self._token
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        url = path if path.startswith("/") else f"{ORG}/{path}"
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(kind, body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def catalogue(self) -> dict[str, dict[str, Any]]:
        """A location, a recurring plan, a one-off plan, a company and a member.

        On the `officernd` profile the catalogue is read-only: it is seeded instead."""
        catalogue = (
            ("locations", {"name": "Downtown"}),
            ("plans", {"name": "Hot Desk", "price": 250, "intervalLength": "month"}),
            ("plans", {"name": "Day Pass", "price": 25, "intervalLength": "once"}),
        )
        if self.app.profile == "full":
            loc, plan, day = (self.create(kind, body) for kind, body in catalogue)
        else:
            loc, plan, day = (self._seeded(kind, body) for kind, body in catalogue)
        company = self.create("companies", {"name": "Acme", "location": loc["_id"]})
        # What the admin UI asks of a member (the officernd profile's strict creates).
        member = self.create("members", {"name": "Jane", "email": "jane@acme.example",
                                         "company": company["_id"], "location": loc["_id"],
                                         "startDate": "2026-12-01", "status": "active"})
        return {"location": loc, "plan": plan, "day": day, "company": company, "member": member}

    def _seeded(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        object_id = self.app.store.new_id()
        apply_seed(self.app, {"demo": {kind: [{"_id": object_id, **body}]}}, only_new=False)
        return dict(self.get(f"{kind}/{object_id}").json())

    def membership_body(self, cat: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"name": "Hot Desk", "startDate": "2026-12-01",
                "location": cat["location"]["_id"], "plan": cat["plan"]["_id"],
                "company": cat["company"]["_id"], **extra}

    def membership(self, cat: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return self.create("memberships", self.membership_body(cat, **extra))

    def fee(self, cat: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
        body = {"name": "Day Pass", "issueDate": "2026-12-03", "location": cat["location"]["_id"],
                "plan": cat["day"]["_id"], "price": 25, "company": cat["company"]["_id"], **extra}
        return self.create("fees", body)


def nest_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert a NestJS error body with this status; return it."""
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["statusCode"] == status
    assert {"message", "timestamp", "path"} <= set(body)
    assert "Traceback" not in response.text
    return body
