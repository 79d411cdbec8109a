"""`Writer` with a scripted client: what is re-sent, what is looked up, what stays unsettled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.errors import (
    ApplyError,
    AuthError,
    NotFoundError,
    ServerError,
    TransportError,
    ValidationError,
)
from flexctl.kinds import get as get_kind
from flexctl.kinds.base import Obj
from flexctl.kinds.refs import RefMap
from flexctl.reconcile.journal import ApiFailure, Entry, entry_line
from flexctl.reconcile.recovery import Writer

PATH = "/api/v2/organizations/acme/companies"
ACME = Obj("companies", "companies.acme", {"name": "Acme Ltd"}, meta={"key": "acme"})


class Scripted:
    """A client whose writes and lookups answer from scripts (an exception or a value)."""

    def __init__(self, **scripts: list[Any]) -> None:
        self.scripts = scripts
        self.calls: list[str] = []

    def _next(self, name: str) -> Any:
        self.calls.append(name)
        answer = self.scripts[name].pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._next("create"))

    def update(self, path: str, id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._next("update"))

    def delete(self, path: str, id: str) -> None:
        self._next("delete")

    def get(self, path: str, id: str, select: Iterable[str] = ()) -> dict[str, Any]:
        return dict(self._next("get"))

    def get_singleton(self, path: str) -> dict[str, Any]:
        return dict(self._next("get_singleton"))

    def put_singleton(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._next("put_singleton"))

    def find(self, path: str, filters: Mapping[str, Any],
             select: Iterable[str] = ()) -> list[dict[str, Any]]:
        return list(self._next("find"))


def writer(client: Scripted) -> Writer:
    return Writer(client, RefMap(), SecretResolver(environ={}), "EUR")


def lost() -> TransportError:
    return TransportError("POST", PATH, "RemoteProtocolError", outcome_unknown=True)


def test_lost_create_found_by_lookup_is_not_resent() -> None:
    client = Scripted(create=[lost()], find=[[{"_id": "a1", "name": "Acme Ltd"}]])
    done = writer(client).create(get_kind("companies"), ACME)
    assert done.id == "a1" and "not sent again" in done.note
    assert client.calls == ["create", "find"]


def test_lost_create_not_found_is_resent_and_bounded() -> None:
    client = Scripted(create=[lost(), lost(), lost()], find=[[], [], []])
    with pytest.raises(TransportError):
        writer(client).create(get_kind("companies"), ACME)
    assert client.calls == ["create", "find"] * 3


def test_a_create_answered_without_an_id_is_settled_by_lookup_not_a_crash() -> None:
    client = Scripted(create=[{"name": "Acme Ltd"}], find=[[{"_id": "a1", "name": "Acme Ltd"}]])
    done = writer(client).create(get_kind("companies"), ACME)
    assert done.id == "a1" and "not sent again" in done.note
    assert client.calls == ["create", "find"]


def test_lookup_ignores_other_objects() -> None:
    other = {"_id": "b1", "name": "Another Ltd"}
    client = Scripted(create=[lost(), {"_id": "n1"}], find=[[other]])
    done = writer(client).create(get_kind("companies"), ACME)
    assert done.id == "n1" and done.note == "created on attempt 2"


def test_rejected_create_is_not_looked_up() -> None:
    client = Scripted(create=[ValidationError("POST", PATH, 400, ["name should not be empty"])])
    with pytest.raises(ValidationError):
        writer(client).create(get_kind("companies"), ACME)
    assert client.calls == ["create"]


def test_unsettled_create_keeps_the_write_error_and_names_the_lookup_failure() -> None:
    lookup = ServerError("GET", PATH, 503, "Service Unavailable")
    client = Scripted(create=[lost()], find=[lookup])
    with pytest.raises(ApplyError) as caught:
        writer(client).create(get_kind("companies"), ACME)
    message = str(caught.value)
    assert message.startswith(f"POST {PATH}: RemoteProtocolError")
    assert "GET /api/v2/organizations/acme/companies: 503 Service Unavailable" in message
    assert "run apply again" in message
    failure = ApiFailure.of(caught.value)
    assert failure is not None and (failure.method, failure.status) == ("POST", None)


def test_update_read_back_shows_it_took() -> None:
    client = Scripted(update=[ServerError("PUT", PATH + "/a1", 500, "boom")],
                      get=[{"_id": "a1", "name": "Acme Ltd"}])
    done = writer(client).update(get_kind("companies"), ACME, {"name"}, "a1")
    assert "read back" in done.note and client.calls == ["update", "get"]


def test_update_read_back_shows_it_did_not_so_it_is_resent() -> None:
    client = Scripted(update=[ServerError("PUT", PATH + "/a1", 500, "boom"), {"_id": "a1"}],
                      get=[{"_id": "a1", "name": "Old name"}])
    done = writer(client).update(get_kind("companies"), ACME, {"name"}, "a1")
    assert done.note == "updated on attempt 2"


def test_a_401_is_not_retried_and_keeps_its_scope_hint() -> None:
    denied = AuthError("PUT", PATH + "/a1", 401, "Unauthorized",
                       "the token may lack the scope flex.community.companies.update")
    client = Scripted(update=[denied])
    with pytest.raises(AuthError):
        writer(client).update(get_kind("companies"), ACME, {"name"}, "a1")
    failure = ApiFailure.of(denied)
    assert failure is not None and "flex.community.companies.update" in failure.message


def test_delete_of_what_is_already_gone_counts_as_done() -> None:
    client = Scripted(delete=[NotFoundError("DELETE", PATH + "/a1", 404, "Not found")])
    assert writer(client).delete(get_kind("companies"), "a1").note == "already gone"


def test_delete_answered_500_then_read_back_404_is_done() -> None:
    client = Scripted(delete=[ServerError("DELETE", PATH + "/a1", 500, "boom")],
                      get=[NotFoundError("GET", PATH + "/a1", 404, "Not found")])
    done = writer(client).delete(get_kind("companies"), "a1")
    assert "it is gone" in done.note and client.calls == ["delete", "get"]


def test_platform_text_in_a_journal_line_cannot_drive_the_terminal() -> None:
    entry = Entry("plans.x", "plans", "create", "failed",
                  "POST /plans: 500 \x1b[2J\x1b]0;owned\x07 gone")
    line = entry_line(entry)
    assert "\x1b" not in line and "\x07" not in line
    assert line.endswith(r"500 \x1b[2J\x1b]0;owned\x07 gone")

