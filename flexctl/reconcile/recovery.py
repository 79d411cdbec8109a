"""The writes of `apply`, each made safe to repeat on a platform without idempotency keys.

- A create whose outcome is unknown (a POST answered 5xx, or its connection lost after sending)
  is settled by looking the object up by its natural key (the kind's documented filters, then
  `matches`, which also recognizes the flexctl marker in `properties`) before anything is
  re-sent: found means it was made; only when it is absent is the POST sent again.
- An update whose outcome is unknown is settled by reading the object back and comparing the
  changed fields; a delete by reading it back (404 means done). Both are re-sent when the read
  shows they did not happen.
Every write is sent at most `attempts` times; the HTTP layer below already retries 429s and
transient errors on its own where that is safe.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flexctl.config.secrets import SecretResolver
from flexctl.errors import (
    ApiError,
    ApplyError,
    FlexctlError,
    MalformedAnswerError,
    NotFoundError,
    RateLimitedError,
    TransportError,
)
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.refs import RefMap

DEFAULT_ATTEMPTS = 3


class WriteClient(Protocol):
    """The part of `FlexClient` apply uses."""

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def update(self, path: str, id: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete(self, path: str, id: str) -> None: ...

    def get(self, path: str, id: str, select: Iterable[str] = ()) -> dict[str, Any]: ...

    def get_singleton(self, path: str) -> dict[str, Any]: ...

    def put_singleton(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def find(
        self, path: str, filters: Mapping[str, Any], select: Iterable[str] = ()
    ) -> builtins.list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Done:
    """A write that took effect: the object's id and, when notable, how it was settled."""

    id: str | None
    note: str = ""


def outcome_unknown(error: FlexctlError) -> bool:
    """Whether a failed write may have happened or may succeed when sent again."""
    if isinstance(error, TransportError):
        return True
    if isinstance(error, ApiError):
        return error.outcome_unknown or error.status >= 500 or isinstance(error, RateLimitedError)
    return False


def unsettled(error: FlexctlError, lookup: FlexctlError) -> ApplyError:
    """The outcome stays unknown: the read meant to settle it failed too."""
    failure = ApplyError(
        f"{error}; reading the object back to settle the outcome failed too ({lookup}); "
        "run apply again: re-planning finds the object if it was made"
    )
    failure.__cause__ = error
    return failure


class Writer:
    """Creates, updates and deletes objects of any kind, settling unknown outcomes."""

    def __init__(
        self,
        client: WriteClient,
        refs: RefMap,
        secrets: SecretResolver,
        currency: str,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        self.client = client
        self.refs = refs
        self.secrets = secrets
        self.currency = currency
        self.attempts = max(1, attempts)

    # -- create ---------------------------------------------------------------------------------

    def create(self, kind: Kind, obj: Obj) -> Done:
        """POST `obj`."""
        path = _path(kind)
        body = kind.create_body(obj, self.refs, self.secrets)
        if kind.singleton:  # always exists: "creating" it is writing its fields
            self.client.put_singleton(path, body)
            return Done(None)
        for attempt in range(1, self.attempts + 1):
            try:
                doc = self.client.create(path, body)
                new_id = doc.get("_id")
                if not isinstance(new_id, str) or not new_id:
                    # Created or not, the answer does not say: settle it as a lost answer.
                    raise MalformedAnswerError("POST", path, 201, "the answer has no _id",
                                               outcome_unknown=True)
                note = f"created on attempt {attempt}" if attempt > 1 else ""
                return Done(new_id, note)
            except (ApiError, TransportError) as error:
                if not outcome_unknown(error):
                    raise
                try:
                    found = self.lookup(kind, obj)
                except FlexctlError as lookup_error:
                    raise unsettled(error, lookup_error) from error
                if found is not None:
                    return Done(found, "the answer was lost; found by its natural key, "
                                       "not sent again")
                if attempt == self.attempts:
                    raise
        raise AssertionError("unreachable")

    def lookup(self, kind: Kind, obj: Obj) -> str | None:
        """The id of the live object `obj` describes, found by natural key; None if absent."""
        filters = kind.lookup_filters(obj, self.refs)
        for doc in self.client.find(_path(kind), filters, select=kind.select):
            doc_id = str(doc.get("_id"))
            if kind.matches(obj, doc, self.refs):
                return doc_id
        return None

    # -- update ---------------------------------------------------------------------------------

    def update(self, kind: Kind, obj: Obj, changed: set[str], id: str | None) -> Done:
        """PUT the changed fields of `obj` (the object `id`, or the singleton)."""
        path = _path(kind)
        body = kind.update_body(obj, changed, self.refs, self.secrets)
        if not body:
            return Done(id, "nothing to send")
        for attempt in range(1, self.attempts + 1):
            try:
                if kind.singleton:
                    self.client.put_singleton(path, body)
                else:
                    self.client.update(path, _need(id), body)
                return Done(id, f"updated on attempt {attempt}" if attempt > 1 else "")
            except (ApiError, TransportError) as error:
                if not outcome_unknown(error):
                    raise
                try:
                    current = self._read(kind, id)
                except FlexctlError as read_error:
                    raise unsettled(error, read_error) from error
                if self._has(kind, obj, changed, current):
                    return Done(id, "the answer was lost; read back, it is applied")
                if attempt == self.attempts:
                    raise
        raise AssertionError("unreachable")

    def _read(self, kind: Kind, id: str | None) -> dict[str, Any]:
        if kind.singleton:
            return self.client.get_singleton(_path(kind))
        return self.client.get(_path(kind), _need(id), select=kind.select)

    def _has(self, kind: Kind, obj: Obj, changed: set[str], doc: Mapping[str, Any]) -> bool:
        live = kind.from_api(doc, self.refs, self.currency)
        return all(live.fields.get(name) == obj.fields.get(name) for name in changed)

    # -- delete ---------------------------------------------------------------------------------

    def delete(self, kind: Kind, id: str | None) -> Done:
        """DELETE the object; one that is already gone counts as deleted."""
        path, object_id = _path(kind), _need(id)
        for attempt in range(1, self.attempts + 1):
            try:
                self.client.delete(path, object_id)
                return Done(object_id, f"deleted on attempt {attempt}" if attempt > 1 else "")
            except NotFoundError:
                return Done(object_id, "already gone")
            except (ApiError, TransportError) as error:
                if not outcome_unknown(error):
                    raise
                try:
                    self.client.get(path, object_id, select=kind.select)
                except NotFoundError:
                    return Done(object_id, "the answer was lost; read back, it is gone")
                except FlexctlError as read_error:
                    raise unsettled(error, read_error) from error
                if attempt == self.attempts:
                    raise
        raise AssertionError("unreachable")


def _path(kind: Kind) -> str:
    return kind.api_path or kind.name


def _need(id: str | None) -> str:
    if not id:
        raise ApplyError("the plan has no platform id for this object; make a new plan")
    return id
