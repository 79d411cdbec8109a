"""A tiny Flex v2 look-alike for `httpx.MockTransport`: enough dialect to test the client alone.

It issues tokens (with a controllable clock), checks scopes, serves cursor pages of 50, records
every request, and plays scripted faults (an answer or an exception for the next matching
request). The full emulator is tested separately; this fake lets a test see exactly what the
client sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx

SECRET = "s3cr3t-client-value"
ORG = "harbor-works"
API = "https://flex.example.test/api/v2"
TOKEN_URL = "https://flex.example.test/oauth/token"


@dataclass
class Fault:
    method: str
    path: str  # regex on the path after /organizations/{org}/
    status: int | None = None  # an answer with this status ...
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None  # ... or this exception
    after_commit: bool = False  # apply the write first, then fail (a lost answer)
    times: int = 1


class FakeFlex:
    def __init__(self, *, granted: set[str] | None = None, expires_in: int = 3599) -> None:
        self.collections: dict[str, list[dict[str, Any]]] = {}
        self.granted = granted  # None: every scope
        self.expires_in = expires_in
        self.now = 0.0  # the fake clock shared with the client
        self.tokens: dict[str, tuple[float, set[str]]] = {}
        self.faults: list[Fault] = []
        self.requests: list[httpx.Request] = []
        self.token_requests: list[dict[str, list[str]]] = []
        self.profile_header: str | None = None
        self._ids = 0

    # -- test controls --

    def clock(self) -> float:
        return self.now

    def seed(self, collection: str, docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            self.collections.setdefault(collection, []).append({"_id": self._new_id(), **doc})

    def fail(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def api_requests(self, method: str | None = None) -> list[httpx.Request]:
        return [r for r in self.requests if "/organizations/" in r.url.path
                and (method is None or r.method == method)]

    # -- the server --

    def handle(self, request: httpx.Request) -> httpx.Response:
        # A copy: httpx's auth flow re-sends the same Request object with a new header.
        self.requests.append(httpx.Request(request.method, request.url,
                                           headers=request.headers.copy(),
                                           content=request.read(),
                                           extensions=request.extensions))
        if request.url.path == "/oauth/token":
            return self._token(request)
        rel = request.url.path.split(f"/organizations/{ORG}/", 1)[-1]
        fault = self._take_fault(request.method, rel)
        if fault is not None and not fault.after_commit:
            return self._play(fault)
        scope = self._check_token(request, rel)
        if scope is not None:
            return self._json(401, {"statusCode": 401, "message": f"Missing scope {scope}",
                                    "error": "Unauthorized"})
        response = self._serve(request, rel)
        return self._play(fault) if fault is not None else response

    def _take_fault(self, method: str, rel: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and re.fullmatch(fault.path, rel) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _play(self, fault: Fault) -> httpx.Response:
        if fault.error is not None:
            raise fault.error
        assert fault.status is not None
        return self._json(fault.status, fault.body or {"statusCode": fault.status,
                                                       "message": "injected"}, fault.headers)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        self.token_requests.append(form)
        if form.get("client_secret") != [SECRET]:
            return self._json(401, {"statusCode": 401, "message": "invalid client"})
        token = f"tok-{len(self.token_requests)}"
        self.tokens[token] = (self.now + self.expires_in, set(form["scope"][0].split()))
        return self._json(200, {"access_token": token, "token_type": "Bearer",
                                "expires_in": self.expires_in, "scope": form["scope"][0]})

    def _check_token(self, request: httpx.Request, rel: str) -> str | None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ")
        if token not in self.tokens or self.tokens[token][0] <= self.now:
            return "(valid token)"
        action = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}
        needed = f"flex.fake.{rel.split('/')[0]}.{action[request.method]}"
        if self.granted is not None and needed not in self.granted:
            return needed
        return None

    def _serve(self, request: httpx.Request, rel: str) -> httpx.Response:
        name, _, item = rel.partition("/")
        docs = self.collections.setdefault(name, [])
        if request.method == "GET" and not item:
            return self._page(request, docs)
        if request.method == "POST":
            doc = {"_id": self._new_id(), **json.loads(request.content, parse_float=Decimal)}
            docs.append(doc)
            return self._json(201, doc)
        match = [d for d in docs if d["_id"] == item]
        if not match:
            return self._json(404, {"statusCode": 404, "message": f"Item with Id ({item})",
                                    "error": "Not Found"})
        if request.method == "PUT":
            match[0].update(json.loads(request.content, parse_float=Decimal))
        if request.method == "DELETE":
            docs.remove(match[0])
        return self._json(200, match[0])

    def _page(self, request: httpx.Request, docs: list[dict[str, Any]]) -> httpx.Response:
        params = dict(request.url.params)
        limit = int(params.pop("$limit", "50"))
        if limit > 50:
            return self._json(400, {"statusCode": 400, "message": "$limit must not be greater "
                                    "than 50"})
        start = int(params.pop("$cursorNext", "0"))
        params.pop("$select", None)
        selected = [d for d in docs if all(str(d.get(k)) == v for k, v in params.items())]
        page = selected[start : start + limit]
        body: dict[str, Any] = {"results": page, "rangeStart": start + 1,
                                "rangeEnd": start + len(page)}
        if start + limit < len(selected):
            body["cursorNext"] = str(start + limit)
        return self._json(200, body)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None
              ) -> httpx.Response:
        all_headers = dict(headers or {})
        if self.profile_header:
            all_headers["X-Flex-Emulator-Profile"] = self.profile_header
        return httpx.Response(status, content=json.dumps(body, default=str).encode(),
                              headers={"Content-Type": "application/json", **all_headers})

    def _new_id(self) -> str:
        self._ids += 1
        return f"{self._ids:024x}"


class RecordingSleep:
    """An injected `sleep` that records the waits and advances the fake clock instead."""

    def __init__(self, fake: FakeFlex | None = None) -> None:
        self.calls: list[float] = []
        self._fake = fake

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self._fake is not None:
            self._fake.now += seconds
