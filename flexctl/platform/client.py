"""`FlexClient`: the Flex v2 API as flexctl uses it — lists, single objects, writes, singletons.

Paths are relative to the organization (`plans`, `resource-rates`, `invoicing-settings`).
Lists always ask for the largest page (`$limit=50`) and follow `cursorNext` until it is absent,
null or the page is empty; they send `$select` when given and exactly the filters the caller
gives (the kinds decide which filters the platform documents, since unknown ones are a 400).

A list read is checked as it goes, because what is missing from it is planned as a deletion:
an answer that is not a list envelope, an item that is not an object with a string `_id`, an
`_id` or a cursor seen twice, or more objects than the collection counts ends the read with a
`MalformedAnswerError` (`InconsistentReadError` when the answers contradict each other).
"""

from __future__ import annotations

import builtins
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import date
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from flexctl.errors import InconsistentReadError, MalformedAnswerError, NoRouteError
from flexctl.kinds.base import Profile
from flexctl.platform import scopes
from flexctl.platform.http import HttpSession, RequestStats
from flexctl.platform.learned import Learned
from flexctl.platform.stopping import request_stop
from flexctl.redaction import shown

PAGE_SIZE = 50  # the v2 maximum; larger values are a 400 on the platform
MAX_WORKERS = 4  # concurrent reads: enough to overlap latency, few enough to stay paced
# No collection flexctl reads comes near this: a server that never stops handing out new ids
# is stopped here when the caller did not count the collection first, and a count beyond it
# is a malformed answer (it would let a read run on as long as the pages come).
MAX_LIST_ITEMS = 1_000_000

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


def count_margin(expected: int) -> int:
    """How many objects a read may find beyond the count taken before it (created meanwhile)."""
    return max(5, math.ceil(expected / 100))


class _ListStopped(Exception):
    """A list abandoned because a concurrent read failed; never reaches the user."""


class _ListRead:
    """The checks of one list read, page by page."""

    def __init__(self, path: str, collection: str, expected: int | None) -> None:
        self.path = path  # the request as errors show it: "/api/v2/organizations/acme/plans"
        self.collection = collection
        if expected is not None and expected > MAX_LIST_ITEMS:
            expected = None  # no collection is that large: the read stops where any would
        self.limit = MAX_LIST_ITEMS if expected is None else expected + count_margin(expected)
        self.expected = expected
        self.pages = 0
        self.ids: dict[str, int] = {}  # _id -> the page it came on
        self.cursors: set[str] = set()

    def page(self, answer: Any) -> tuple[builtins.list[dict[str, Any]], str | None]:
        """The page's items and the next cursor (None: the read is complete)."""
        self.pages += 1
        number = self.pages
        if not isinstance(answer, Mapping) or not isinstance(answer.get("results"), list):
            raise self._malformed(f"page {number} is not a list envelope "
                                  "({results, cursorNext})")
        results, cursor = answer["results"], answer.get("cursorNext")
        if cursor is not None and not isinstance(cursor, str):
            raise self._malformed(f"page {number} has a cursorNext that is not a string")
        for index, item in enumerate(results, start=1):
            if not isinstance(item, dict):
                raise self._malformed(f"item {index} of page {number} is not a JSON object")
            item_id = item.get("_id")
            if not isinstance(item_id, str) or not item_id:
                raise self._malformed(f"item {index} of page {number} has no string _id")
            if item_id in self.ids:
                raise self._inconsistent(f"page {number} repeats the _id {shown(item_id)} first "
                                         f"seen on page {self.ids[item_id]}")
            self.ids[item_id] = number
        if len(self.ids) > self.limit:
            raise self._inconsistent(
                f"page {number} brings it to {len(self.ids)} objects, more than the "
                f"{self.expected} counted (and {count_margin(self.expected)} created meanwhile)"
                if self.expected is not None else
                f"page {number} brings it past {MAX_LIST_ITEMS} objects")
        if not cursor or not results:  # the reference: stop on no cursor or an empty page
            return results, None
        if cursor in self.cursors:
            raise self._inconsistent(f"page {number} returns the cursor {shown(cursor)} "
                                     "a second time")
        self.cursors.add(cursor)
        return results, cursor

    def _malformed(self, message: str) -> MalformedAnswerError:
        return MalformedAnswerError("GET", self.path, 200, f"reading {self.collection}: {message}")

    def _inconsistent(self, message: str) -> InconsistentReadError:
        return InconsistentReadError("GET", self.path, 200, message,
                                     collection=self.collection)


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
        # Told of every list page read: (collection, pages so far, pages in all if counted).
        self.on_page: Callable[[str, int, int | None], None] | None = None
        self.learned = Learned()  # the platform's uncertain behaviours, as this run met them

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
    def api_url(self) -> str:
        """The API base requests go to (`https://app.officernd.com/api/v2`)."""
        return self._api_url

    @property
    def scopes(self) -> tuple[str, ...]:
        """The OAuth scopes the client asks for (after any fallback to the public set)."""
        return self._session.scopes

    @property
    def stats(self) -> RequestStats:
        return self._session.stats

    def authenticate(self) -> frozenset[str] | None:
        """Obtain a token now (raises `AuthError`/`TransportError`); the scopes the answer
        says were granted, or None when it does not say."""
        self._session.auth.token()
        return self._session.auth.granted

    @property
    def observed(self) -> dict[str, str]:
        """The last answer's `date` and `x-ratelimit-*` headers (names in lower case)."""
        return dict(self._session.observed)

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
        *,
        expected: int | None = None,
        texts: dict[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every object of a collection, page by page (`$limit=50`, following `cursorNext`).

        `expected` is the collection's count taken just before (`count()`): a read that finds
        more than that, give or take `count_margin`, is an `InconsistentReadError`. The
        objects of a page are yielded once the whole page has passed the checks. `texts`
        receives, by `_id`, each object's JSON text as the platform wrote it (for the snapshot
        cache), where the page could be read that way.
        """
        params = {"$limit": str(PAGE_SIZE)}
        fields = ",".join(select)
        if fields:
            params["$select"] = fields
        params.update({k: _filter_value(v) for k, v in (filters or {}).items()})
        read = _ListRead(self._session.path_of(path), path.strip("/"), expected)
        while True:
            if self._stop_lists.is_set():
                raise _ListStopped(path)
            if texts is None:
                results, cursor = read.page(self._session.send("GET", path, params=params))
            else:
                answer, written = self._session.read_page(path, params)
                results, cursor = read.page(answer)
                if written is not None:
                    texts.update(zip((item["_id"] for item in results), written, strict=True))
            if self.on_page is not None:
                pages = None if expected is None else max(1, math.ceil(expected / PAGE_SIZE))
                self.on_page(read.collection, read.pages, pages)
            yield from results
            if cursor is None:
                return
            params = {**params, "$cursorNext": cursor}

    def count(self, path: str, filters: Mapping[str, FilterValue] | None = None) -> int:
        """How many objects a collection has (`GET /<path>/count`), e.g. for `list(expected=)`.

        Filters are sent as given (the platform's `/memberships/count` ignores them).
        """
        params = {k: _filter_value(v) for k, v in (filters or {}).items()} or None
        answer = self._session.send("GET", f"{path}/count", params=params)
        total = answer.get("total") if isinstance(answer, Mapping) else None
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise MalformedAnswerError(
                "GET", self._session.path_of(f"{path}/count"), 200,
                f"the count of {path.strip('/')} is not a number of objects ({{\"total\": n}})")
        if total > MAX_LIST_ITEMS:
            raise MalformedAnswerError(
                "GET", self._session.path_of(f"{path}/count"), 200,
                f"the count of {path.strip('/')}, {total}, is more than flexctl reads of one "
                f"collection ({MAX_LIST_ITEMS})")
        return total

    def read_complete(self, path: str, select: Iterable[str] = (), *,
                      texts: dict[str, str] | None = None) -> builtins.list[dict[str, Any]]:
        """Every object of a collection, checked against its count: what deletes are planned
        from. A read that finds another number than the platform counts (counted again once,
        in case something changed meanwhile) is an `InconsistentReadError`. `texts`: as for
        `list`."""
        expected = self.count(path)
        docs = list(self.list(path, select=select, expected=expected, texts=texts))
        if len(docs) != expected and len(docs) != self.count(path):
            raise InconsistentReadError(
                "GET", self._session.path_of(path), 200,
                f"it found {len(docs)} objects where the platform counts {expected}; deletes "
                "are planned only from a complete read: run the plan again",
                collection=path.strip("/"),
            )
        return docs

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

    def organization(self) -> dict[str, Any]:
        """The organization's own document (`GET /organizations/{org}`)."""
        return self._object("GET", "")

    def probe(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """One GET exactly as given (no paging, no checks): `doctor` looks at the answer."""
        return self._session.send("GET", path, params=params)

    # -- writes --

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new object. Never re-sent after a lost answer: see `outcome_unknown`."""
        return self._object("POST", path, body=body)

    def update(self, path: str, id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT the fields of `body`; where the platform has no PUT route for the collection
        (a 404 `Cannot PUT …`, or a 405: fees have no documented update), PATCH them, and
        when neither exists raise `NoRouteError`. What worked is learned for the run."""
        fact = f"update:{path.strip('/')}"
        method = self.learned.get(fact) or "PUT"
        target = f"{path}/{quote(id, safe='')}"
        if method == "none":
            raise NoRouteError("PATCH", self._session.path_of(target), 404,
                               f"the platform has no update of {path} (neither PUT nor PATCH)")
        try:
            return self._object(method, target, body=body)
        except NoRouteError as error:
            if method != "PUT":
                self.learned.learn(fact, "none", f"PATCH answered {error.status} too")
                raise
            self.learned.learn(fact, "PATCH", f"PUT answered {error.status} {error}")
        try:
            return self._object("PATCH", target, body=body)
        except NoRouteError as error:
            self.learned.learn(fact, "none", f"PUT and PATCH answered {error.status}")
            raise

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
        except BaseException as exc:
            # A failure or Ctrl-C: the lists still running stop at their next page instead
            # of reading their kind to the end (minutes at the platform's pace); after Ctrl-C
            # no reader waits out its pace either.
            self._stop_lists.set()
            if isinstance(exc, KeyboardInterrupt):
                request_stop()
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
            raise MalformedAnswerError(method, self._session.path_of(path), 200,
                                       "the answer is not a JSON object",
                                       outcome_unknown=method != "GET")
        return answer
