"""`FlexClient`: the Flex v2 API as flexctl uses it — lists, single objects, writes, singletons.

Paths are relative to the organization (`plans`, `resource-rates`, `invoicing-settings`).
Lists always ask for the largest page (`$limit=50`) and follow `cursorNext` until it is absent
or null; they send `$select` when given and exactly the filters the caller gives (the kinds
decide which filters the platform documents, since unknown ones are a 400).
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import date
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from flexctl.errors import ApiError
from flexctl.kinds.base import Profile
from flexctl.platform import scopes
from flexctl.platform.http import HttpSession, RequestStats

PAGE_SIZE = 50  # the v2 maximum; larger values are a 400 on the platform
MAX_WORKERS = 4  # concurrent reads: enough to overlap latency, few enough to stay paced

T = TypeVar("T")
R = TypeVar("R")
FilterValue = str | int | bool | date | Sequence[str]


def profile_for_url(api_url: str) -> Profile | None:
    """The profile known from the URL alone: the real platform is `officernd`."""
    host = (urlsplit(api_url).hostname or "").lower()
    if host == "officernd.com" or host.endswith(".officernd.com"):
        return Profile.OFFICERND
    return None


def _filter_value(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int):
        return str(value)
    # `field[$in]=a,b,c` is the platform's list syntax (reference §2.1).
    return ",".join(str(v) for v in value)


class _ListStopped(Exception):
    """A list abandoned because a concurrent read failed; never reaches the user."""


class FlexClient:
    """One organization on one target. Thread-safe; use as a context manager or `close()`."""

    def __init__(
        self,
        session: HttpSession,
        *,
        api_url: str,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._session = session
        self._api_url = api_url
        self._on_close = on_close
        self._profile: Profile | None = None
        self._profile_lock = threading.Lock()
        self._stop_lists = threading.Event()  # set while `map_concurrently` unwinds

    # -- lifecycle --

    def close(self) -> None:
        self._session.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> FlexClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what the target is --

    @property
    def profile(self) -> Profile:
        """The target's profile: announced by the emulator, else known from the URL.

        Asked before any request, it fetches a token (the emulator announces itself on every
        answer, the token endpoint included). A server that does not announce itself is
        treated as the real platform, the safe assumption: it can do the least.
        """
        with self._profile_lock:
            if self._profile is None:
                self._profile = self._detect_profile()
            return self._profile

    def _detect_profile(self) -> Profile:
        known = profile_for_url(self._api_url)
        if known is not None:
            return known
        if self._session.announced_profile is None:
            self._session.auth.token()
        announced = self._session.announced_profile
        try:
            return Profile(announced) if announced else Profile.OFFICERND
        except ValueError:
            return Profile.OFFICERND

    @property
    def scopes(self) -> tuple[str, ...]:
        """The OAuth scopes the client asks for (after any fallback to the public set)."""
        return self._session.scopes

    @property
    def stats(self) -> RequestStats:
        return self._session.stats

    @staticmethod
    def scope_for(method: str, path: str) -> str | None:
        """The OAuth scope a request needs, e.g. `("GET", "plans")` -> flex.billing.plans.read."""
        return scopes.scope_for(method, path)

    # -- reads --

    def list(
        self,
        path: str,
        select: Iterable[str] = (),
        filters: Mapping[str, FilterValue] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every object of a collection, page by page (`$limit=50`, following `cursorNext`)."""
        params = {"$limit": str(PAGE_SIZE)}
        fields = ",".join(select)
        if fields:
            params["$select"] = fields
        params.update({k: _filter_value(v) for k, v in (filters or {}).items()})
        seen: set[str] = set()
        while True:
            if self._stop_lists.is_set():
                raise _ListStopped(path)
            page = self._session.send("GET", path, params=params)
            if not isinstance(page, Mapping) or not isinstance(page.get("results"), list):
                raise ApiError("GET", self._session.path_of(path), 200,
                               "the answer is not a list envelope ({results, cursorNext})")
            yield from page["results"]
            cursor = page.get("cursorNext")
            if not cursor:
                return
            if cursor in seen:  # a server bug would otherwise loop forever
                raise ApiError("GET", self._session.path_of(path), 200,
                               f"the cursor {cursor!r} was returned twice")
            seen.add(cursor)
            params = {**params, "$cursorNext": str(cursor)}

    def find(
        self,
        path: str,
        filters: Mapping[str, FilterValue],
        select: Iterable[str] = (),
    ) -> builtins.list[dict[str, Any]]:
        """The objects matching documented equality filters: natural-key lookups."""
        return list(self.list(path, select=select, filters=filters))

    def get(self, path: str, id: str, select: Iterable[str] = ()) -> dict[str, Any]:
        fields = ",".join(select)
        params = {"$select": fields} if fields else None
        return self._object("GET", f"{path}/{quote(id, safe='')}", params=params)

    def get_singleton(self, path: str) -> dict[str, Any]:
        """A settings document (`invoicing-settings`, `storefront`, `account`)."""
        return self._object("GET", path)

    # -- writes --

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new object. Never re-sent after a lost answer: see `outcome_unknown`."""
        return self._object("POST", path, body=body)

    def update(self, path: str, id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("PUT", f"{path}/{quote(id, safe='')}", body=body)

    def delete(self, path: str, id: str) -> None:
        self._session.send("DELETE", f"{path}/{quote(id, safe='')}")

    def put_singleton(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("PUT", path, body=body)

    # -- concurrency --

    def map_concurrently(
        self, fn: Callable[[T], R], items: Iterable[T], max_workers: int = MAX_WORKERS
    ) -> builtins.list[R]:
        """`[fn(item) for item in items]`, run on a few threads (reads of independent kinds).

        Pacing and the token are shared, so the limits hold across threads. When one fails,
        the lists still running stop at their next page; the first failure in item order is
        raised.
        """
        work = list(items)
        if len(work) <= 1 or max_workers <= 1:
            return [fn(item) for item in work]
        pool = ThreadPoolExecutor(max_workers=min(max_workers, len(work)),
                                  thread_name_prefix="flexctl-read")
        try:
            futures = [pool.submit(fn, item) for item in work]
            wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.done() and f.exception() is not None for f in futures):
                self._stop_lists.set()
                wait(futures)
                raise next(e for f in futures if (e := f.exception()) is not None
                           and not isinstance(e, _ListStopped))
            return [future.result() for future in futures]
        except BaseException:
            # A failure or Ctrl-C: the lists still running stop at their next page instead
            # of reading their kind to the end (minutes at the platform's pace).
            self._stop_lists.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._stop_lists.clear()

    # -- internals --

    def _object(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        answer = self._session.send(method, path, params=params, body=body)
        if not isinstance(answer, dict):
            raise ApiError(method, self._session.path_of(path), 200,
                           "the answer is not a JSON object")
        return answer
