"""`flexctl doctor`: what flexctl needs of a target, checked by reading only.

Token and scopes (per command), the organization (and a regional host), each kind's list and
count, paging by 50 with cursors, `$select`, the fields of each kind, `modifiedAt` filters and
the account status; `variants.py` adds what the answers' headers and shapes tell. Each check is
ok, a warning, a failure, or skipped (it could not run, or there was nothing to look at).
Nothing is ever written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flexctl.errors import (
    ApiError,
    AuthError,
    FlexctlError,
    NotFoundError,
    TransportError,
    ValidationError,
)
from flexctl.kinds import registry
from flexctl.kinds.base import Kind, Profile
from flexctl.platform.client import PAGE_SIZE, FlexClient
from flexctl.platform.scopes import ORGANIZATION_READ, command_scopes
from flexctl.wording import counted

OK, WARN, FAIL, SKIP = "ok", "warning", "failure", "skipped"
INVOICES = "payments"  # read for history and export's currency, besides the kinds
SINCE = "2000-01-01T00:00:00.000Z"  # a modifiedAt filter that keeps everything
BILLING_SETTINGS = "billing-settings"
ACCOUNT = "account"
FIND_ORG = ("check the slug: the part after app.officernd.com/admin/ in the admin portal's "
            "address (--org, FLEXCTL_ORG)")

ClientFactory = Callable[[Sequence[str]], FlexClient]  # a client asking for these scopes


@dataclass
class Check:
    name: str  # stable, for JSON consumers: "token", "scopes", ...
    title: str
    status: str = OK
    details: list[str] = field(default_factory=list)
    fix: str | None = None

    def set(self, status: str, fix: str | None = None) -> Check:
        """Worsen the status (never improve it); keep the first fix given."""
        order = (OK, SKIP, WARN, FAIL)
        if order.index(status) > order.index(self.status):
            self.status = status
        self.fix = self.fix or fix
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Diagnosis:
    target: Mapping[str, Any]
    checks: list[Check]

    def exit_code(self) -> int:
        """0 all good, 2 warnings, 1 a failure."""
        statuses = {c.status for c in self.checks}
        return 1 if FAIL in statuses else 2 if WARN in statuses else 0


@dataclass(frozen=True)
class Attempt:
    """One token request: its error (None: granted) and the profile the answer announced."""

    error: FlexctlError | None
    profile: Profile | None  # None: no answer told it

    @property
    def status(self) -> int | None:
        return self.error.status if isinstance(self.error, ApiError) else None


def _announced(client: FlexClient) -> Profile | None:
    """The profile a server's answers told (the token's, even refused; one that answers and
    says nothing is the real platform's: it can do the least), or None when nothing answered
    that tells it."""
    try:
        return client.profile
    except FlexctlError:
        return None


def _token_fix(error: FlexctlError) -> str:
    """What to check when no token came, by what happened to the request."""
    if isinstance(error, TransportError):
        return ("nothing answered: check --token-url (FLEXCTL_TOKEN_URL), this machine's "
                "network and any proxy (HTTPS_PROXY, NO_PROXY)")
    if isinstance(error, ApiError) and error.status in (400, 401, 403):
        return ("check FLEXCTL_CLIENT_ID and FLEXCTL_CLIENT_SECRET, and --token-url "
                "(FLEXCTL_TOKEN_URL)")
    return "check --token-url (FLEXCTL_TOKEN_URL): see the error"


@dataclass
class Sample:
    """What the first page of one collection showed."""

    path: str
    docs: list[dict[str, Any]]
    envelope: Mapping[str, Any]
    count: int | None = None


class Doctor:
    """Runs the checks over clients from `open_client` (one per set of scopes to try)."""

    def __init__(self, open_client: ClientFactory, org: str, profile: Profile | None) -> None:
        self.open_client = open_client
        self.org = org
        self.profile = profile  # known from the URL, else told by the first answer
        self.told = profile is not None  # whether a URL or an answer told the profile
        self.client: FlexClient | None = None  # reads with the scopes granted
        self.samples: dict[str, Sample] = {}

    # --- token and scopes --------------------------------------------------------------------

    def token(self) -> tuple[Check, Check]:
        token = Check("token", "A token is obtained with the client credentials")
        scopes = Check("scopes", "The application is granted the scopes each command needs")
        # A server of unknown kind is asked for everything the emulator's `full` profile has;
        # its answer tells the profile, whose own set is then asked for if it differs.
        asked = command_scopes(self.profile or Profile.FULL)["apply"]
        first = self._try(asked)
        self.told = self.told or first.profile is not None
        self.profile = self.profile or first.profile or Profile.OFFICERND
        needs = command_scopes(self.profile)
        if needs["apply"] != asked and first.status in (None, 400):
            first = self._try(needs["apply"])
        if first.error is not None and first.status != 400:  # 400: a scope, not the client
            token.details.append(str(first.error))
            token.set(FAIL, _token_fix(first.error))
            scopes.set(SKIP).details.append("no token")
            return token, scopes
        granted = set(needs["apply"]) if first.error is None else self._granted(needs)
        if not granted:
            token.details.append(f"no token for any scope flexctl asks for ({first.error})")
            token.set(FAIL, "grant the application the read scopes at least")
            scopes.set(SKIP).details.append("no token")
            return token, scopes
        token.details.append(f"profile {self.profile.value}")
        self._judge_scopes(scopes, granted)
        readable = [s for s in granted if s.endswith(".read")]
        self.client = self.open_client(sorted(readable)) if readable else None
        return token, scopes

    def _try(self, scopes: Iterable[str]) -> Attempt:
        """Ask for a token with exactly these scopes; what happened, and who answered."""
        asked = sorted(scopes)
        client = self.open_client(asked)
        try:
            granted = client.authenticate()
            error: FlexctlError | None = None
            if granted is not None and not set(asked) <= granted:
                error = AuthError("POST", "token", 400, "fewer scopes granted than asked for")
        except FlexctlError as failure:
            error = failure
        finally:
            client.close()
        told = self.profile or _announced(client)
        return Attempt(error, told)

    def _granted(self, needs: Mapping[str, Sequence[str]]) -> set[str]:
        """The scopes the application is granted when not every one asked for is (a scope not
        granted fails a whole token request): the reads at once, else one by one; then each
        write scope."""
        every, reads = set(needs["apply"]), set(needs["plan"])
        if self._try(reads).error is None:
            granted = set(reads)
        else:
            granted = {s for s in sorted(reads) if self._try([s]).error is None}
        return granted | {s for s in sorted(every - reads) if self._try([s]).error is None}

    def _judge_scopes(self, check: Check, granted: set[str]) -> None:
        assert self.profile is not None
        for command, needed in command_scopes(self.profile).items():
            missing = sorted(set(needed) - granted)
            if not missing:
                check.details.append(f"{command}: all {len(needed)} granted")
                continue
            check.details.append(f"{command}: not granted {', '.join(missing)}")
            reads = command != "apply" or any(s.endswith(".read") for s in missing)
            check.set(FAIL if reads else WARN, "grant them to the application in OfficeRnD "
                      "(Settings > Data & Extensibility > Developer Tools > Applications); a "
                      "read-only application needs only the read scopes")

    # --- the organization --------------------------------------------------------------------

    def organization(self) -> Check:
        check = Check("organization", f"The organization {self.org} is found")
        client = self.reader(check)
        if client is None:
            return check
        own = self.open_client([ORGANIZATION_READ])  # a scope no command asks for
        try:
            document: dict[str, Any] | None = own.organization()
        except AuthError:  # not granted: any list of the organization's tells it exists
            document = None
        except FlexctlError as error:
            check.details.append(str(error))
            return self._lost(check, error)
        finally:
            own.close()
        if document is None:
            return self._found_by_a_list(check, client)
        check.details.append(f"name: {document.get('name')}")
        region = (document.get("regionInfo") or {}).get("regionUrl")
        if isinstance(region, str) and region:
            here = urlsplit(client.api_url).hostname
            if urlsplit(region).hostname != here:
                check.details.append(f"it lives on {region}, not {here}")
                check.set(WARN, f"use --api-url {region.rstrip('/')}/api/v2")
            else:
                check.details.append(f"regional host {region}: the one used")
        return check

    def _lost(self, check: Check, error: FlexctlError) -> Check:
        """No organization: nothing of it can be read, so the reading checks are skipped. The
        slug is blamed only when the platform said the organization is not there."""
        self.close()
        self.client = None
        missing = isinstance(error, NotFoundError) or (
            isinstance(error, ApiError) and "Organization not found" in str(error.platform_message))
        return check.set(FAIL, FIND_ORG if missing else "see the error")

    def _found_by_a_list(self, check: Check, client: FlexClient) -> Check:
        path = next((k.api_path for k in self.readable() if not k.singleton), INVOICES)
        try:
            client.probe(path or INVOICES, {"$limit": "1"})
        except FlexctlError as error:
            check.details.append(str(error))
            return self._lost(check, error)
        check.details.append(f"its {path} answer (its own document needs {ORGANIZATION_READ}, "
                             "not granted: a regional host cannot be told)")
        return check

    # --- collections -------------------------------------------------------------------------

    def readable(self) -> list[Kind]:
        assert self.profile is not None
        return [k for k in registry() if k.capability(self.profile).read and k.api_path]

    def lists(self) -> Check:
        check = Check("lists", "Each kind's list (and count) answers")
        client = self.reader(check)
        if client is None:
            return check
        paths = [(k.api_path or k.name, k.singleton) for k in self.readable()]
        for path, singleton in [*paths, (INVOICES, False)]:
            try:
                if singleton:
                    doc = client.get_singleton(path)
                    self.samples[path] = Sample(path, [doc], {}, None)
                    check.details.append(f"{path}: answers")
                    continue
                envelope = client.probe(path, {"$limit": str(PAGE_SIZE)})
                docs = [d for d in envelope.get("results") or () if isinstance(d, dict)]
                count = client.count(path)
            except FlexctlError as error:
                check.details.append(f"{path}: {error}")
                check.set(FAIL, "flexctl reads every kind it manages: see the error")
                continue
            self.samples[path] = Sample(path, docs, envelope, count)
            check.details.append(f"{path}: {counted(count, 'object')}")
        return check

    def paging(self) -> Check:
        check = Check("paging", f"Pages of {PAGE_SIZE} and their cursors work")
        counted = [s for s in self.samples.values() if s.count and s.count > PAGE_SIZE]
        client = self.client
        if not counted or client is None:
            check.details.append(f"no collection has more than {PAGE_SIZE} objects to page")
            return check.set(SKIP)
        largest = max(counted, key=lambda s: s.count or 0)
        first = largest.envelope
        ids = [d.get("_id") for d in largest.docs]
        check.details.append(f"{largest.path}: {largest.count} objects")
        cursor = first.get("cursorNext")
        if len(ids) < PAGE_SIZE:
            check.details.append(f"a page of $limit={PAGE_SIZE} holds {len(ids)}")
            check.set(WARN, "reads take more requests than they should; nothing else is wrong")
        if not isinstance(cursor, str) or not cursor:
            check.details.append("the first page has no cursorNext")
            return check.set(FAIL, "flexctl cannot read past the first page of this target")
        try:
            second = client.probe(largest.path, {"$limit": str(PAGE_SIZE), "$cursorNext": cursor})
        except FlexctlError as error:
            check.details.append(f"the second page: {error}")
            return check.set(FAIL, "flexctl cannot read past the first page of this target")
        more = [d.get("_id") for d in second.get("results") or () if isinstance(d, dict)]
        if not more or set(more) & set(ids):
            check.details.append("the second page repeats the first, or is empty")
            return check.set(FAIL, "flexctl cannot read past the first page of this target")
        check.details.append(f"the second page holds {len(more)} other objects")
        return check

    def select(self) -> Check:
        check = Check("select", "$select is honoured")
        found = next((s for s in self.samples.values() if s.docs and s.count), None)
        client = self.client
        if found is None or client is None:
            check.details.append("no object to look at")
            return check.set(SKIP)
        try:
            answer = client.probe(found.path, {"$limit": "1", "$select": "_id"})
        except FlexctlError as error:
            check.details.append(f"{found.path}: {error}")
            return check.set(WARN, "flexctl sends $select on every list; see the error")
        docs = [d for d in answer.get("results") or () if isinstance(d, dict)]
        extra = sorted({k for d in docs for k in d} - {"_id"})
        if extra:
            check.details.append(f"{found.path}?$select=_id answered {', '.join(extra[:5])}...")
            return check.set(WARN, "reads carry whole objects: slower, still correct")
        check.details.append(f"{found.path}?$select=_id answered only _id")
        return check

    def fields(self) -> Check:
        check = Check("fields", "Each kind's objects carry the fields flexctl expects")
        for kind in self.readable():
            sample = self.samples.get(kind.api_path or kind.name)
            if sample is None or not sample.docs:
                continue
            keys = {k for doc in sample.docs for k in doc}
            missing = sorted(kind.expected_fields - keys)
            ignored = sorted(keys - set(kind.select) - {"_id"})
            line = f"{kind.name}: {len(sample.docs)} looked at"
            if ignored:
                line += f"; ignored {counted(len(ignored), 'field')} ({', '.join(ignored[:4])}...)"
            check.details.append(line)
            if missing:
                check.details.append(f"{kind.name}: none has {', '.join(missing)}")
                check.set(WARN, "flexctl reads a missing field as empty: plans may show "
                          "changes that are not there")
        if not check.details:
            check.details.append("no object to look at")
            check.set(SKIP)
        return check

    def modified_filters(self) -> Check:
        check = Check("modified_filters", "Which kinds can be read by modifiedAt")
        client = self.client
        if client is None:
            return check.set(SKIP)
        accepted, refused = [], []
        for kind in self.readable():
            if kind.singleton:
                continue
            path = kind.api_path or kind.name
            try:
                client.probe(path, {"$limit": "1", "modifiedAt[$gte]": SINCE})
            except ValidationError:
                refused.append(kind.name)
            except FlexctlError as error:
                check.details.append(f"{kind.name}: cannot tell ({error})")
                check.set(WARN)
                continue
            else:
                accepted.append(kind.name)
        check.details.append(f"filtered by modifiedAt: {', '.join(accepted) or 'none'}")
        check.details.append(f"read whole every time: {', '.join(refused) or 'none'}")
        return check

    # --- the platform's answers --------------------------------------------------------------

    def account(self) -> Check:
        check = Check("account", "The account status allows the automatic bill run")
        assert self.profile is not None
        client = self.client
        if self.profile is Profile.OFFICERND or client is None:
            check.details.append("the public API does not show the account status; the "
                                 "admin portal does (onboarding or active)")
            return check.set(SKIP)
        try:
            status = client.get_singleton(ACCOUNT).get("status")
        except FlexctlError as error:
            check.details.append(str(error))
            return check.set(WARN)
        check.details.append(f"status: {status}")
        if status != "active":
            check.set(WARN, "the automatic bill run can only be enabled once OfficeRnD "
                      "activates the account")
        return check

    def reader(self, check: Check) -> FlexClient | None:
        if self.client is None:
            check.details.append("no token with read scopes")
            check.set(SKIP)
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
