"""The platform's uncertain behaviours: one setting each, naming the variant the emulator plays.

Where the public API's documentation is silent or its sources disagree, a client must cope
with every variant; the emulator plays whichever one it is told to, so a client can be tested
against each. Settings come from `--dialect name=variant,...`, a seed file's `dialect:`
mapping, `POST /_emulator/dialect` or `create_app(dialect=...)`.

Settings and their variants (the first one is the default):
- membership_price: accept | reject. POST /memberships with `price`, `intervalCount` or
  `deposit`: stored, or 400 `property price should not exist`.
- fee_update: put | patch | none. Which of PUT and PATCH /fees/{id} exists; the others are
  NestJS's 404 `Cannot PUT /api/v2/organizations/<org>/fees/<id>`.
- customer_create: lenient | strict. Strict: POST /members also needs `location`,
  `startDate` and `status`, POST /companies `location` (400 `location must be a string`).
- billing_settings: currency | no-currency | not-found | unauthorized. GET /billing-settings
  answers 200, 200 without `currency`, 404 (no such route), or 401 (scope never granted).
- throttling: retry-after | bare | none. Over a rate limit: 429 with `Retry-After`, 429
  without it, or no 429 at all (the request is served).
- throttle_body: nest | text. The 429's body: NestJS's `ThrottlerException: Too Many
  Requests`, or a plain-text line.
- rate_headers: present | absent. `x-ratelimit-{limit,remaining,reset}-{read|write}-<window>`
  on answers while a rate limit is set.
- no_cursor: absent | null. A first page's `cursorPrev` and a last page's `cursorNext`.
- full_last_page: no-cursor | empty-page. A last page that is exactly full has no
  `cursorNext`, or one that leads to an empty page (`results: []`).
- single_get: absent | null | empty. A single membership GET shows an open-ended `endDate`,
  the non-owner of `company`/`member` and empty `properties` as absent, as `null`, or as lists
  do (`null`, `{}`). `endDate` set to null by a PUT is always shown as `null`.
- customer_in: accept | reject. GET /payments with `company[$in]=a,b,...` or `member[$in]`
  (the reference documents only `company=` and `member=` for payments, `[$in]` for others):
  answered, or 400 `property company[$in] should not exist` like any undocumented filter.
- region: absent | same | elsewhere. GET /organizations/{org} (the v2 document shows none)
  carries no `regionInfo`, or `regionInfo.regionUrl` naming the host asked, or another host
  (the organization lives on a regional host, as v1 answers for some).

The `full` profile plays the table's first variants, except `single_get`, which it plays as
`empty` (the list shape). The `officernd` profile plays, where the platform's behaviour is known
or most likely, that variant (`OFFICERND`): a membership POST rejects `price` (the executed QA
plan lists it as server-managed, "not accepted in request body"); customer creates are strict
(the admin UI requires a location, and a start date and status for members); a fee is updated
with PATCH (the only verb seen used against the platform; no update is documented); the billing
settings answer without a `currency` (the scope exists, but no source shows such a field). The
others are the first variants: NestJS's throttler sends `Retry-After` and its own body, the
rate-limit headers were observed on staging, a missing cursor is absent, as is an empty field
of a single GET (both observed); nothing is known of a full last page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_type_hints

MembershipPrice = Literal["accept", "reject"]
FeeUpdate = Literal["put", "patch", "none"]
CustomerCreate = Literal["lenient", "strict"]
BillingSettings = Literal["currency", "no-currency", "not-found", "unauthorized"]
Throttling = Literal["retry-after", "bare", "none"]
ThrottleBody = Literal["nest", "text"]
RateHeaders = Literal["present", "absent"]
NoCursor = Literal["absent", "null"]
FullLastPage = Literal["no-cursor", "empty-page"]
SingleGet = Literal["absent", "null", "empty"]
Region = Literal["absent", "same", "elsewhere"]
CustomerIn = Literal["accept", "reject"]
# The host `region=elsewhere` names: a regional host of the platform's, not this emulator.
ELSEWHERE = "https://eu1.officernd.example"

# Fields a membership POST may refuse (the platform manages them).
MEMBERSHIP_MANAGED = frozenset({"price", "intervalCount", "deposit"})
# Collections whose customer filters may take `[$in]` (`customer_in`).
CUSTOMER_IN = {"payments": frozenset({"company", "member"})}
# What the admin UI makes mandatory, which the strict variant asks of a POST.
STRICT_REQUIRED = {"members": ("location", "startDate", "status"), "companies": ("location",)}


@dataclass(frozen=True)
class Dialect:
    """One variant per uncertain behaviour (see the module's table)."""

    membership_price: MembershipPrice = "accept"
    fee_update: FeeUpdate = "put"
    customer_create: CustomerCreate = "lenient"
    billing_settings: BillingSettings = "currency"
    throttling: Throttling = "retry-after"
    throttle_body: ThrottleBody = "nest"
    rate_headers: RateHeaders = "present"
    no_cursor: NoCursor = "absent"
    full_last_page: FullLastPage = "no-cursor"
    single_get: SingleGet = "absent"
    region: Region = "absent"
    customer_in: CustomerIn = "accept"

    @classmethod
    def for_profile(cls, profile: str) -> Dialect:
        """The defaults of a profile: `full` shows single GETs like lists; `officernd` plays
        the platform's known or most likely variants (see the module docstring)."""
        return cls(single_get="empty") if profile == "full" else OFFICERND

    @classmethod
    def variants(cls) -> dict[str, tuple[str, ...]]:
        """Each setting's variants, the class default first."""
        hints = get_type_hints(cls)
        return {f.name: get_args(hints[f.name]) for f in dataclasses.fields(cls)}

    def with_settings(self, settings: str | Mapping[str, Any] | None) -> Dialect:
        """This dialect with some settings changed: `"name=variant,..."` or a mapping.

        Raises ValueError naming an unknown setting or variant.
        """
        pairs = _pairs(settings)
        known = self.variants()
        changes: dict[str, Any] = {}  # each value checked against its Literal above
        for raw_name, value in pairs:
            name = raw_name.strip().replace("-", "_")
            if name not in known:
                raise ValueError(
                    f"unknown dialect setting {raw_name!r} (known: {', '.join(known)})"
                )
            if value not in known[name]:
                raise ValueError(
                    f"dialect setting {name} must be one of {', '.join(known[name])}, "
                    f"not {value!r}"
                )
            changes[name] = value
        return dataclasses.replace(self, **changes)

    def describe(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def every_variant(self) -> Iterator[tuple[str, Dialect]]:
        """This dialect with one setting changed at a time, once per other variant, labelled
        `name=variant`: the dialects a client's end-to-end tests should run against."""
        for name, variants in self.variants().items():
            for variant in variants:
                if variant != getattr(self, name):
                    yield f"{name}={variant}", self.with_settings({name: variant})

    # -- what each setting means for the endpoints it concerns ---------------------------------

    def update_methods(self, path: str) -> tuple[str, ...]:
        """The HTTP methods that update an object of this collection."""
        if path != "fees":
            return ("PUT",)
        return {"put": ("PUT",), "patch": ("PATCH",), "none": ()}[self.fee_update]

    def region_url(self, origin: str) -> str | None:
        """The `regionInfo.regionUrl` the organization document carries, if any."""
        return {"absent": None, "same": origin, "elsewhere": ELSEWHERE}[self.region]

    def has_route(self, path: str) -> bool:
        """Whether the platform has this collection or settings path at all."""
        return not (path == "billing-settings" and self.billing_settings == "not-found")

    def in_filters(self, path: str) -> frozenset[str]:
        """Filters of this collection that take `[$in]` beyond the resource's own."""
        return CUSTOMER_IN.get(path, frozenset()) if self.customer_in == "accept" else frozenset()

    def refused_on_create(self, path: str) -> frozenset[str]:
        """Fields a POST to this collection refuses beyond the resource's own rules."""
        if path == "memberships" and self.membership_price == "reject":
            return MEMBERSHIP_MANAGED
        return frozenset()

    def required_on_create(self, path: str) -> tuple[str, ...]:
        """Fields a POST to this collection needs beyond the resource's own required ones."""
        return STRICT_REQUIRED.get(path, ()) if self.customer_create == "strict" else ()


OFFICERND = Dialect(membership_price="reject", customer_create="strict", fee_update="patch",
                    billing_settings="no-currency")


def _pairs(settings: str | Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    if settings is None:
        return []
    if isinstance(settings, Mapping):
        return [(str(k), v) for k, v in settings.items()]
    pairs = []
    for entry in filter(None, (e.strip() for e in settings.split(","))):
        name, sep, value = entry.partition("=")
        if not sep:
            raise ValueError(f"bad dialect setting {entry!r}: use name=variant")
        pairs.append((name, value.strip()))
    return pairs
