"""What a target's answers tell `flexctl doctor`: rate-limit budgets, clock skew, and which
variant of each uncertain platform behaviour it shows, as far as reading tells.

The public API's sources disagree or are silent on a few behaviours (how a missing cursor is
written, whether a full last page leads to an empty one, what a single GET leaves out, what the
billing settings hold); flexctl copes with every variant, and `flexctl doctor` reports the ones
a read can tell. What only a write tells (whether a membership POST takes `price`, which verb
updates a fee, what a member create needs) apply learns on its first such write.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from flexctl.errors import AuthError, FlexctlError, NotFoundError, ValidationError
from flexctl.platform.client import PAGE_SIZE, FlexClient
from flexctl.readiness.doctor import BILLING_SETTINGS, OK, SKIP, WARN, Check, Doctor, Sample

SKEW_WARNING = 60.0  # seconds: dates computed for "today" and timestamps start to disagree
LOW_BUDGET = 0.1  # a rate-limit budget with less than this share left is worth a warning

WRITES = ("a membership POST with its price, the verb that updates a fee and what a member or "
          "company create needs: only a write tells; apply learns them on its first one")
# Fields a single GET of a membership may leave out when empty (the platform's QA saw that).
EMPTY_FIELDS = ("endDate", "properties")
NO_ID = "0" * 24  # an id no object has: a filter's shape is checked, nothing is found


def variants(doctor: Doctor) -> Check:
    check = Check("variants", "The platform's uncertain behaviours, as far as reading tells")
    client = doctor.client
    if client is None:
        check.details.append("no token with read scopes")
        return check.set(SKIP)
    samples = doctor.samples.values()
    check.details += [_cursors(samples), _full_last_page(client, samples),
                      _single_get(client, doctor.samples.get("memberships")),
                      _customers_at_once(client, doctor.samples.get("companies")),
                      _billing_settings(client)]
    limits = any(k.startswith("x-ratelimit-") for k in client.observed)
    check.details.append(f"rate-limit headers: {'present' if limits else 'absent'}")
    check.details.append(WRITES)
    return check.set(OK)


def rate_limits(doctor: Doctor) -> Check:
    check = Check("rate_limits", "Rate-limit headers")
    client = doctor.reader(check)
    if client is None:
        return check
    seen = {k: v for k, v in client.observed.items() if k.startswith("x-ratelimit-")}
    budgets: dict[str, dict[str, str]] = {}
    for name, value in seen.items():
        part, _, window = name.removeprefix("x-ratelimit-").partition("-")
        budgets.setdefault(window, {})[part] = value
    if not budgets:
        check.details.append("none seen: flexctl paces itself at --read-rate and "
                             "--write-rate (default 400/min and 100/min)")
        return check
    for window, values in sorted(budgets.items()):
        limit, left = values.get("limit", "?"), values.get("remaining", "?")
        check.details.append(f"{window}: {left} of {limit} left")
        if limit.isdigit() and left.isdigit() and int(left) < LOW_BUDGET * int(limit):
            check.set(WARN, f"wait for the {window} budget to reset "
                      f"({values.get('reset', '?')} s) before a large plan or apply")
    return check


def clock(doctor: Doctor) -> Check:
    check = Check("clock", "This machine's clock agrees with the platform's")
    client = doctor.reader(check)
    if client is None:
        return check
    stamp = client.observed.get("date")
    if not stamp:
        check.details.append("the platform sent no Date header")
        return check.set(SKIP)
    try:
        theirs = parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        check.details.append(f"an unreadable Date header: {stamp!r}")
        return check.set(SKIP)
    skew = (datetime.now(UTC) - theirs).total_seconds()
    check.details.append(f"this machine is {abs(skew):.0f} s "
                         f"{'ahead of' if skew >= 0 else 'behind'} the platform")
    if abs(skew) > SKEW_WARNING:
        check.set(WARN, "set this machine's clock (NTP): 'today' decides when memberships "
                  "end, and a skewed clock may pick another day")
    return check


def _cursors(samples: Collection[Sample]) -> str:
    for sample in samples:
        if sample.docs and "cursorPrev" in sample.envelope:
            written = "null" if sample.envelope["cursorPrev"] is None else "a cursor (?)"
            return f"a first page's missing cursorPrev: {written}"
        if sample.docs:
            return "a first page's missing cursorPrev: absent"
    return "missing cursors: cannot tell (no collection has objects)"


def _full_last_page(client: FlexClient, samples: Collection[Sample]) -> str:
    """Read a collection of exactly 50 objects: is there a cursor to an empty page?"""
    full = next((s for s in samples if s.count == PAGE_SIZE and len(s.docs) == PAGE_SIZE),
                None)
    if full is None:
        return f"a full last page: cannot tell (no collection of exactly {PAGE_SIZE} objects)"
    cursor = full.envelope.get("cursorNext")
    if not cursor:
        return "a full last page: no cursorNext"
    try:
        after = client.probe(full.path, {"$limit": str(PAGE_SIZE), "$cursorNext": cursor})
    except FlexctlError as error:
        return f"a full last page: its cursorNext leads to an error ({error})"
    found = len(after.get("results") or ()) if isinstance(after, Mapping) else "?"
    return f"a full last page: a cursorNext to a page of {found} (flexctl stops at an empty one)"


def _single_get(client: FlexClient, sample: Sample | None) -> str:
    """How a single membership GET shows an empty end date and properties."""
    open_ended = [d for d in sample.docs if not d.get("endDate")] if sample else []
    open_ended.sort(key=lambda d: bool(d.get("properties")))  # flexctl's marks say nothing
    if not open_ended:
        return "a single GET's empty fields: cannot tell (no open-ended membership)"
    try:
        doc = client.get("memberships", str(open_ended[0]["_id"]))
    except FlexctlError as error:
        return f"a single GET's empty fields: cannot tell ({error})"
    shown = []
    for name in EMPTY_FIELDS:
        if name not in doc:
            shown.append(f"{name} absent")
        elif doc[name] in (None, {}, ""):
            shown.append(f"{name} {json.dumps(doc[name])}")  # as the platform wrote it
        else:
            shown.append(f"{name} cannot tell (not empty on this one)")
    return f"a single GET's empty fields: {', '.join(shown)} (flexctl reads them alike)"


def _customers_at_once(client: FlexClient, sample: Sample | None) -> str:
    """Whether payments take `company[$in]`: a plan then asks for 50 customers' invoices at
    once, else one customer at a time (the reference documents only `company=`)."""
    ids = [str(d["_id"]) for d in (sample.docs if sample else ()) if d.get("_id")][:2]
    ids += [NO_ID] * (2 - len(ids))
    try:
        client.probe("payments", {"$limit": "1", "$select": "_id",
                                  "company[$in]": ",".join(ids)})
    except ValidationError:
        return ("invoices by customer: one customer a request (payments refuse company[$in]; "
                "a plan's invoice reads take longer)")
    except FlexctlError as error:
        return f"invoices by customer: cannot tell ({error})"
    return "invoices by customer: 50 customers a request (payments take company[$in])"


def _billing_settings(client: FlexClient) -> str:
    try:
        settings = client.get_singleton(BILLING_SETTINGS)
    except AuthError:
        return "billing settings: not readable with these scopes (flexctl never needs them)"
    except NotFoundError:
        return "billing settings: no such route (flexctl never needs them)"
    except FlexctlError as error:
        return f"billing settings: {error} (flexctl never needs them)"
    currency = "with" if "currency" in settings else "without"
    return f"billing settings: readable, {currency} a currency (flexctl never needs them)"
