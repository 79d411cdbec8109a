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

Where the platform's behaviour is uncertain, a write adapts to the answer and the run remembers
it (`flexctl.platform.learned`): a POST answered 400 for a field the kind can do without
(`property price should not exist`: `Kind.create_deferrable`) or for a field the kind can supply
(`status must be one of …`: `Kind.create_fallbacks`) wrote nothing and is sent again adjusted;
deferred fields are then set by an update of the new object, as part of the same change (the
create is marked, `Kind.defer`, so that a plan notices one interrupted in between). An update of
a kind the platform has no update route for (neither PUT nor PATCH) deletes the object and
creates it again where the kind allows it (`Kind.replace_unupdatable`).
"""

from __future__ import annotations

import builtins
import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flexctl.config.secrets import SecretResolver
from flexctl.errors import (
    ApiError,
    ApplyError,
    FlexctlError,
    MalformedAnswerError,
    NoRouteError,
    NotFoundError,
    RateLimitedError,
    TransportError,
    ValidationError,
)
from flexctl.kinds.base import Kind, Obj
from flexctl.kinds.refs import RefMap
from flexctl.platform.learned import Learned

DEFAULT_ATTEMPTS = 3
# class-validator's words for a body field: refused, or missing / of the wrong kind.
_REFUSED = re.compile(r"^property (\w+) should not exist$")
_NEEDED = re.compile(r"^(\w+) (?:must|should) ")


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
        if error.method == "POST":  # the HTTP layer knows which 5xx wrote nothing
            return error.outcome_unknown or isinstance(error, RateLimitedError)
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
        known = getattr(client, "learned", None)  # a FlexClient's: shared by the whole run
        self.learned = known if isinstance(known, Learned) else Learned()

    # -- create ---------------------------------------------------------------------------------

    def create(self, kind: Kind, obj: Obj) -> Done:
        """POST `obj`, adapted to what the run learned the platform refuses or needs."""
        path = _path(kind)
        body = kind.create_body(obj, self.refs, self.secrets)
        if kind.singleton:  # always exists: "creating" it is writing its fields
            self.client.put_singleton(path, body)
            return Done(None)
        original = copy.deepcopy(body)  # `_adapt` changes the body (and its properties)
        later = self._adapt(kind, body)
        try:
            done = self._post(kind, obj, path, body)
        except ValidationError as error:
            if not self._learn(kind, path, error):
                raise
            body = copy.deepcopy(original)  # a 400 wrote nothing: the POST may be sent again
            later = self._adapt(kind, body)
            done = self._post(kind, obj, path, body)
        if later:
            return self._finish(path, done, later)
        return done

    def _adapt(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        """Take out of `body` what the platform refuses on POST (returned: set it by an
        update afterwards) and add what it needs; mark the body if anything is deferred."""
        path = _path(kind)
        refused = self.learned.names(f"create-refuses:{path}") & kind.create_deferrable
        later = {name: body.pop(name) for name in sorted(refused) if name in body}
        for name in self.learned.names(f"create-needs:{path}"):
            if name in kind.create_fallbacks:
                body.setdefault(name, kind.create_fallbacks[name])
        later = {name: value for name, value in later.items() if value is not None}
        if later:
            kind.defer(body, later)
        return later

    def _learn(self, kind: Kind, path: str, error: ValidationError) -> bool:
        """From a POST's 400: fields it refuses that can wait, fields it needs that the kind
        can give. True when every message was one of those (the POST can be sent again)."""
        messages = error.platform_message
        refused: set[str] = set()
        needed: set[str] = set()
        for message in messages if isinstance(messages, list) else [messages]:
            if (m := _REFUSED.match(message)) and m.group(1) in kind.create_deferrable:
                refused.add(m.group(1))
            elif (m := _NEEDED.match(message)) and m.group(1) in kind.create_fallbacks:
                needed.add(m.group(1))
            else:
                return False
        if refused:
            self.learned.add_names(f"create-refuses:{path}", frozenset(refused),
                                   f"POST {path} answered 400 {error.platform_message}; "
                                   "creating without them, then updating them")
        if needed:
            self.learned.add_names(f"create-needs:{path}", frozenset(needed),
                                   f"POST {path} answered 400 {error.platform_message}")
        return bool(refused or needed)

    def _finish(self, path: str, done: Done, later: Mapping[str, Any]) -> Done:
        """Set what the POST could not take; a failure says the object exists without it."""
        names = ", ".join(later)
        try:
            self.client.update(path, _need(done.id), dict(later))
        except FlexctlError as error:
            failure = ApplyError(
                f"created {done.id} without its {names} (the platform refuses them on create); "
                f"setting them failed: {error}; run apply again: the next plan shows the "
                f"{names} to set")
            raise failure from error
        note = f"the platform refuses {names} on create: created, then updated"
        return Done(done.id, f"{done.note}; {note}" if done.note else note)

    def _post(self, kind: Kind, obj: Obj, path: str, body: Mapping[str, Any]) -> Done:
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
        """PUT the changed fields of `obj` (the object `id`, or the singleton); where the
        platform has no update for the kind at all, replace the object if the kind allows."""
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
            except NoRouteError:
                if kind.singleton or not kind.replace_unupdatable(obj):
                    raise
                return self._replace_instead(kind, obj, _need(id))
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

    def _replace_instead(self, kind: Kind, obj: Obj, id: str) -> Done:
        """The platform cannot update this kind: delete the old object, create the new one
        (the plan made sure nothing billed refers to it)."""
        self.delete(kind, id)
        try:
            created = self.create(kind, obj)
        except FlexctlError as error:
            failure = ApplyError(f"the platform has no update of {kind.plural}, so the old one "
                                 f"was deleted; creating the new one failed: {error}; run "
                                 "apply again to create it")
            raise failure from error
        note = (f"the platform has no update of {kind.plural} (neither PUT nor PATCH): "
                "deleted and created again")
        return Done(created.id, note)

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
            except NoRouteError:
                raise  # no DELETE route at all: not "already gone"
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
