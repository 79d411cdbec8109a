"""What every kind of object has in common: the normalized object and the Kind contract.

Desired objects (from the config) and live objects (from the API) are both `Obj`s with flat,
normalized fields, so the diff compares like with like:
- field names are the config's names; nested config values are flattened with dots
  (`visibility.members`, `billing_details.vat_number`);
- values are `str`, `bool`, `int`, `Decimal` (quantized to the currency), `date`, `None`, or a
  sorted `tuple` of those for lists that are sets (`locations`);
- references hold the config key of the target (`"downtown"`); a live reference to an object the
  config does not declare holds `"id:<24-hex>"` so it is visibly not a key;
- a desired object carries only the fields the user wrote (plus required ones): omitted fields
  are not managed and are never compared;
- secrets are never values: a secret field holds its fingerprint (`"…4242"`, the last four
  characters, which is what the platform shows).

A `Kind` holds every fact about one kind (config section and model, API path, field mapping,
natural key, references, scopes, nouns, export layout, capabilities per profile) and its
billing rules as hook methods with neutral defaults. The engines (diff, plan, apply, render,
snapshot, export) iterate over `flexctl.kinds.registry()` and call these hooks; they never
test a kind's name.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from flexctl.config.currency import minor_units
from flexctl.kinds._values import slugify
from flexctl.kinds.money import (
    Charge,
    MoneyEffect,
    PriceTerm,
    Recurring,
    rounded,
    terms_effect,
)

if TYPE_CHECKING:
    from flexctl.config.rules import Checker
    from flexctl.config.secrets import SecretResolver
    from flexctl.config.types import ConfigBase
    from flexctl.kinds.refs import RefMap

Scalar = Any  # str | bool | int | Decimal | date | None | tuple[...]
OWNER = "customer"  # the changed path of an owned object pinned to another owner's twin
# How an account becomes Active on the real platform; a sandbox names its own command instead
# (`flexctl.platform.target.activation_step`).
ACTIVATE_ON_PLATFORM = "finish onboarding with OfficeRnD so the account becomes Active"


class Profile(StrEnum):
    """What a target can do. The real platform is `officernd`."""

    OFFICERND = "officernd"
    FULL = "full"


@dataclass(frozen=True)
class Capability:
    """What a target can do with one kind."""

    read: bool
    create: bool
    update: bool
    delete: bool

    @classmethod
    def all(cls) -> Capability:
        return cls(True, True, True, True)

    @classmethod
    def read_only(cls) -> Capability:
        return cls(True, False, False, False)

    @classmethod
    def none(cls) -> Capability:
        return cls(False, False, False, False)


@dataclass(frozen=True, slots=True, init=False)
class Obj:
    """One normalized object of a kind, desired or live (slots: a plan holds 100,000s)."""

    kind: str  # "plans", "memberships", "invoicing", ...
    # stable plan address: "plans.hot-desk", "companies.acme.memberships[hot-desk@2026-12-01]"
    address: str
    fields: Mapping[str, Scalar]
    id: str | None = None  # platform _id: live objects always, desired objects when pinned
    owner: str | None = None  # owning customer's address, for memberships and fees
    meta: Mapping[str, Any] = field(default_factory=dict)  # not compared: e.g. invoiced, modifiedAt

    def __init__(self, kind: str, address: str, fields: Mapping[str, Scalar],
                 id: str | None = None, owner: str | None = None,
                 meta: Mapping[str, Any] | None = None) -> None:
        # What the generated __init__ of a frozen dataclass does, through each slot's own
        # setter instead of object.__setattr__ by name: half the cost, and a plan builds
        # an Obj per object several times over. Same fields, defaults and immutability.
        _set_kind(self, kind)
        _set_address(self, address)
        _set_fields(self, fields)
        _set_id(self, id)
        _set_owner(self, owner)
        _set_meta(self, {} if meta is None else meta)

    @property
    def key(self) -> str:
        """The last part of the address: the config key of a keyed object."""
        return self.address.split(".", 1)[-1]


_set_kind, _set_address, _set_fields, _set_id, _set_owner, _set_meta = (
    vars(Obj)[name].__set__ for name in ("kind", "address", "fields", "id", "owner", "meta")
)


@dataclass(frozen=True)
class RuleContext:
    """What a kind's plan rules may consult besides the objects themselves."""

    profile: Profile
    today: date
    account_status: str | None = None  # "onboarding" | "active"; None when the target hides it
    activation: str = ACTIVATE_ON_PLATFORM  # how the account becomes Active on this target
    # Owners (customer addresses) that have invoiced items: billing history, never deleted.
    owners_with_history: frozenset[str] = frozenset()
    as_of: date | None = None  # the plan's --as-of date, when given

    @property
    def notice_from(self) -> date:
        """The day notice periods count from: today, or a later --as-of (a plan previewed as
        of the day it will be applied). Notice cannot be given in the past: an earlier
        --as-of moves the run-rate's date, never a notice block."""
        return max(self.as_of, self.today) if self.as_of is not None else self.today


class MoneyContext:
    """What the kinds' money hooks may consult, built once per plan by the engine; its indexes
    are made on first use, so a plan that needs none pays nothing for them."""

    def __init__(
        self,
        currency: str,
        as_of: date,
        *,
        kinds: Sequence[Kind],
        desired: Mapping[str, Sequence[Obj]],
        live: Mapping[str, Sequence[Obj]],
        removed: Collection[str] = (),
        live_by_address: Mapping[str, Obj] | None = None,
    ) -> None:
        if live_by_address is not None:  # the engine's own index of `live`, not made again
            self.__dict__["live_by_address"] = live_by_address
        self.currency = currency
        self.as_of = as_of
        self.digits = minor_units(currency)
        self.kinds = kinds
        self.desired = desired
        self.live = live
        self.removed = removed  # live addresses the plan deletes or replaces
        self._where: dict[tuple[str, str], dict[Any, list[Obj]]] = {}

    def round(self, amount: Decimal) -> Decimal:
        """A line total to the currency's minor unit, half up."""
        return rounded(amount, self.digits)

    def read(self, kind: str) -> bool:
        """Whether the plan read the live objects of `kind` (else their count is unknown)."""
        return kind in self.live

    @cached_property
    def by_address(self) -> Mapping[str, Obj]:
        """Desired objects, and live ones at addresses the config does not declare."""
        found = dict(self.live_by_address)
        found.update((obj.address, obj) for objs in self.desired.values() for obj in objs)
        return found

    @cached_property
    def live_by_address(self) -> Mapping[str, Obj]:
        """Live objects only, by address (what the target holds now)."""
        return {obj.address: obj for objs in self.live.values() for obj in objs}

    def live_where(self, kind: str, name: str, value: Any) -> list[Obj]:
        """Live objects of `kind` whose field `name` is `value` (one index per kind and field)."""
        index = self._where.get((kind, name))
        if index is None:
            index = {}
            for obj in self.live.get(kind, ()):
                index.setdefault(obj.fields.get(name), []).append(obj)
            self._where[(kind, name)] = index
        return index.get(value, [])

    def price_of(self, address: str) -> Decimal | None:
        """The `price` of an object as the plan leaves it (desired, else live)."""
        obj = self.by_address.get(address)
        price = obj.fields.get("price") if obj is not None else None
        return price if isinstance(price, Decimal) else None


@dataclass(frozen=True)
class Removal:
    """What removing an undeclared live object becomes (see `Kind.removal`)."""

    action: Literal["delete", "update", "blocked", "none"]
    reason: str = ""
    before: Mapping[str, Any] = field(default_factory=dict)  # update: the fields it changes
    after: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def delete(cls) -> Removal:
        return cls("delete")

    @classmethod
    def blocked(cls, reason: str) -> Removal:
        return cls("blocked", reason)


@dataclass(frozen=True)
class Pairing:
    """Declared objects without a live twin paired with undeclared live ones as replaces."""

    pairs: list[tuple[Obj, Obj]]  # (new desired, old live)
    missing: list[Obj]  # still to create
    extra: list[Obj]  # still undeclared


class Kind:
    """One kind of object: its config section, API resource, mapping, capabilities and rules.

    Subclasses live one per module in `flexctl.kinds`; `flexctl.kinds.registry()` lists them
    in dependency order. Engines iterate over kinds and call the hooks below.
    """

    name: ClassVar[str]  # kind name as in addresses and policy.prune: "plans"
    rank: ClassVar[int]  # dependency order: creates run by rank, deletes in reverse
    noun: ClassVar[str]  # one object in messages: "plan", "revenue account"
    plural: ClassVar[str]  # several: "plans", "revenue accounts"
    portal_noun: ClassVar[str] = ""  # the admin portal's word when it differs ("resource rate")
    api_path: ClassVar[str | None]  # collection under /organizations/{org}/, e.g. "resource-rates"
    select: ClassVar[tuple[str, ...]] = ()  # API fields flexctl reads ($select)
    updatable: ClassVar[frozenset[str]] = frozenset()  # normalized fields updatable in place
    portal: ClassVar[str] = ""  # where in the admin portal a manual change is made
    capabilities: ClassVar[Mapping[Profile, Capability]]
    singleton: ClassVar[bool] = False  # invoicing, storefront: one object at address == name
    owned: ClassVar[bool] = False  # memberships, fees: belong to a company or member
    # API fields every live object of the kind has, its identity among them (the platform
    # requires them): a document without one is a malformed answer, never an object left
    # unmatched, which a create would duplicate.
    required_live: ClassVar[tuple[str, ...]] = ()
    cohorts: ClassVar[bool] = False  # its objects form price cohorts (`price_term`)
    owns: ClassVar[tuple[str, ...]] = ()  # kinds whose objects belong to this kind's objects
    references: ClassVar[tuple[str, ...]] = ()  # kinds whose keys this kind's fields hold
    unreadable_reason: ClassVar[str] = ""  # why the real platform cannot read this kind
    scope_prefix: ClassVar[str] = ""  # OAuth2 scope stem, e.g. "flex.billing.plans"
    section: ClassVar[str | None] = None  # config section (None: objects live under an owner)
    sensitive: ClassVar[frozenset[str]] = frozenset()  # fields holding a secret's fingerprint
    prunable: ClassVar[bool] = True  # may be listed in policy.prune
    export_file: ClassVar[str | None] = None  # where `flexctl export` writes the section
    # Booleans whose config default is false: exported only when true, to keep files short.
    export_quiet: ClassVar[frozenset[str]] = frozenset()
    identity_words: ClassVar[str] = "natural key"  # what the identity is made of, in messages
    # The platform collection whose documents tell which objects are invoiced (history).
    history_source: ClassVar[str | None] = None
    history_select: ClassVar[tuple[str, ...]] = ()  # what of those documents to read
    # The platform filters this kind's list by `modifiedAt[$gt]` (reference §2.1), so a cached
    # read asks only for what changed since the last one (`flexctl.state.incremental`).
    incremental: ClassVar[bool] = False
    # API fields every document of the kind carries (the platform requires them): `flexctl
    # doctor` warns when a sample of live documents lacks one. Others may be left out empty.
    expected_fields: ClassVar[frozenset[str]] = frozenset()
    # API fields a POST may refuse (`property price should not exist`) that an update then sets.
    create_deferrable: ClassVar[frozenset[str]] = frozenset()
    # API field -> value a POST sends only once the platform asks for it (a 400 naming it).
    create_fallbacks: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    def capability(self, profile: Profile) -> Capability:
        return self.capabilities[profile]

    def scopes(self, action: str) -> tuple[str, ...]:
        """OAuth2 scopes an action (read, create, update, delete) needs."""
        return (f"{self.scope_prefix}.{action}",)

    @property
    def portal_word(self) -> str:
        return self.portal_noun or self.noun

    # --- the configuration --------------------------------------------------------------------

    def section_type(self) -> Any:
        """The pydantic annotation of the config section, and its default."""
        raise NotImplementedError

    def check(self, config: ConfigBase, checker: Checker) -> None:
        """Rules across fields and sections, each problem located (see `Checker`)."""

    def profile_warnings(
        self, config: ConfigBase, profile: Profile
    ) -> Iterable[tuple[tuple[str | int, ...], str, str]]:
        """(config path, code, message) of each warning, not an error, for a configuration
        meant for a target of `profile` (`flexctl validate --profile`): what that target's
        platform will ask for. Codes are `flexctl.config.lint.PROFILE_WARNINGS`."""
        return ()
    def lint(self, config: ConfigBase, checker: Checker) -> None:
        """Pricing warnings (`checker.warn`, codes in `flexctl.config.lint`) of a valid config."""

    def count(self, config: ConfigBase) -> int | None:
        """How many objects the config declares (None: a setting, not counted)."""
        return None

    def pins(self, config: ConfigBase) -> Iterable[tuple[tuple[str | int, ...], str]]:
        """(config path, pinned id) of every object of this kind that pins an `id:`."""
        return ()

    # --- the mapping contract; every kind module implements these ----------------------------

    def desired(self, config: ConfigBase, secrets: SecretResolver) -> list[Obj]:
        """The config's objects of this kind, normalized."""
        raise NotImplementedError

    def identity(self, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        """The natural key of an object with these fields: validate's uniqueness rule, snapshot
        matching and export all use it (see docs/kinds.md)."""
        raise NotImplementedError

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        """The identity a desired object is matched by."""
        return self.identity(obj.fields)

    def live_keys(self, obj: Obj) -> tuple[tuple[Any, ...], ...]:
        """Every natural key under which a live object can be found (code and name, ...)."""
        return (self.natural_key(obj),)

    def loose_key(self, obj: Obj) -> tuple[Any, ...] | None:
        """A weaker identity, tried for desired objects the natural key left unmatched.

        None (the default) for kinds without one, and for desired objects that must match
        exactly; a live object returns it whenever its kind has one."""
        return None

    def from_api(self, doc: Mapping[str, Any], refs: RefMap, currency: str) -> Obj:
        """A live API document, normalized; its address is provisional until matched."""
        raise NotImplementedError

    def create_body(self, obj: Obj, refs: RefMap, secrets: SecretResolver) -> dict[str, Any]:
        raise NotImplementedError

    def update_body(
        self, obj: Obj, changed: set[str], refs: RefMap, secrets: SecretResolver
    ) -> dict[str, Any]:
        raise NotImplementedError

    def lookup_filters(self, obj: Obj, refs: RefMap) -> dict[str, str]:
        """Documented equality filters that find the live twin of `obj` (then use `matches`)."""
        raise NotImplementedError

    def matches(self, obj: Obj, doc: Mapping[str, Any], refs: RefMap) -> bool:
        """Whether a live document is the object `obj` (flexctl marker, pin or natural key)."""
        raise NotImplementedError

    def referenced(self, obj: Obj) -> set[str]:
        """Addresses `obj` refers to: its owner and every reference field's target."""
        return {obj.owner} if obj.owner else set()

    def field_type(self, name: str) -> str | None:
        """The value type of a normalized field ("money", "number", "ref", ...), if known."""
        return None

    def reference_kind(self, name: str) -> str | None:
        """The kind whose keys a reference field holds (`location` -> `locations`)."""
        return None

    def empty_label(self, name: str) -> str:
        """How messages show an empty set of references: "(none)", or "(all)" where omitting
        the set means all (a plan's locations)."""
        return "(none)"

    def slug_base(self, obj: Obj) -> str:
        """The key an undeclared live object gets: a slug of its name."""
        return slugify(str(obj.fields.get("name") or obj.id or self.name))

    def secrets_needed(
        self, obj: Obj, action: str, changed: Collection[str]
    ) -> list[tuple[Mapping[str, str], str]]:
        """(secret reference, where) of every secret a change of `obj` must send."""
        return []

    def history_ids(self, docs: Iterable[Mapping[str, Any]]) -> set[str]:
        """Ids of this kind's objects that documents of `history_source` bill."""
        return set()

    def history_needed(
        self, live: Obj, action: str, owned: Mapping[str, Sequence[Obj]]
    ) -> Iterable[Obj]:
        """The live objects (of kinds with a `history_source`) whose invoiced state decides
        what a planned change (`action`) of `live` becomes: their customers' invoices are read
        and the plan made again (`flexctl.state.history`). `owned` maps a customer's address to
        its live objects of those kinds. Nothing by default: the change does not depend on it."""
        return ()

    # --- plan rules ---------------------------------------------------------------------------

    def refuse_change(
        self,
        obj: Obj,
        live: Obj | None,
        changed: Sequence[str],
        fixed: Sequence[str],
        ctx: RuleContext,
    ) -> str | None:
        """Why the change from `live` (None: absent) to `obj` must be blocked, or None.

        `changed` are the differing fields, `fixed` those among them the API cannot update in
        place (a replace, unless refused here)."""
        return None

    def pair_replacements(self, missing: list[Obj], extra: list[Obj]) -> Pairing:
        """Declared objects without a live match that replace an undeclared live one."""
        return Pairing([], missing, extra)

    def replace_reason(self, new: Obj, old: Obj, fixed: Sequence[str]) -> str:
        return f"{', '.join(fixed)} cannot be changed in place: the old one is deleted, " \
               "a new one created"

    def refuse_replace(
        self, new: Obj, old: Obj, fixed: Sequence[str], ctx: RuleContext
    ) -> str | None:
        """Why a paired replace (`pair_replacements`) must be blocked, or None."""
        return None

    def removal(self, live: Obj, ctx: RuleContext) -> Removal:
        """What removing an undeclared live object of a pruned kind becomes."""
        return Removal.delete()

    def may_prune(self, live: Obj) -> bool:
        """Whether a pruned kind may remove this live object at all (else it is unmanaged)."""
        return True

    def change_note(self, obj: Obj) -> str:
        """Words a plan shows on a change of `obj` beyond its fields (a membership's period
        of a line with changes: "price 250.00 -> 270.00 from 2027-01-01")."""
        return ""

    def plan_notes(
        self, config: ConfigBase, desired: Sequence[Obj], live: Sequence[Obj]
    ) -> list[str]:
        """Lines a plan shows after its changes about this kind's objects as a whole (the
        memberships a repricing campaign reaches, and those it does not)."""
        return []

    def closed_reason(
        self, action: str, before: Obj | None, after: Obj | None, changed: Sequence[str],
        lock: date,
    ) -> str | None:
        """Why a change (`action`) of `before` into `after` (None: absent) touches a billing
        period closed up to and including `lock` (`policy.lock_date`), or None."""
        return None

    def overlap_reason(
        self, action: str, after: Obj, changed: Sequence[str], others: Sequence[Obj]
    ) -> str | None:
        """Why a change (`action`) leaving `after` must be blocked because of `others`: the
        live objects of the same owner that the configuration does not declare and the plan
        leaves in place (as the plan leaves them), or None."""
        return None

    def comes_after(self, obj: Obj) -> set[str]:
        """Addresses whose change in the same plan must be applied before `obj`'s (the
        membership a line's next period follows)."""
        return set()

    def verify_note(self, obj: Obj) -> str:
        """Words added to the manual check of an object the target cannot read."""
        return ""

    # --- confirmed manual steps (`flexctl confirm`) -------------------------------------------

    def confirmable(self) -> bool:
        """Whether a manual step of this kind can be confirmed: some target (the real
        platform) cannot read it, so nothing but a person can tell that it was done."""
        return any(not capability.read for capability in self.capabilities.values())

    def confirmed_state(self, obj: Obj) -> Mapping[str, Any]:
        """What a confirmation of `obj` attests, digested to notice when the configuration
        changes: its desired fields. Must not depend on where flexctl runs (a secret's
        fingerprint does: it needs the secret)."""
        return obj.fields

    # --- writes the platform may answer otherwise than documented -----------------------------

    def defer(self, body: dict[str, Any], later: Collection[str]) -> None:
        """Hook: mark a create body whose API fields `later` the platform refused on POST
        (`create_deferrable`) and an update sets right after, so that a plan can tell a create
        interrupted in between (see `unfinished`)."""

    def unfinished(self, obj: Obj, live: Obj) -> Obj:
        """The desired object, with what a create of flexctl's left unfinished on `live` (a
        field refused on POST whose update never happened) added to what it manages."""
        return obj

    def for_update(self, obj: Obj, live: Obj | None) -> Obj:
        """The object an update of `live` to `obj` writes: kinds whose API replaces a list as
        a whole add what flexctl does not manage, so that it survives the update."""
        return obj

    def replace_unupdatable(self, obj: Obj) -> bool:
        """Whether, on a platform with no update route for this kind at all, an update may
        delete the object and create it again (only what billing history never refers to)."""
        return False
    # --- money (see flexctl.kinds.money) ------------------------------------------------------

    def recurring(self, obj: Obj, ctx: MoneyContext) -> Recurring | None:
        """The monthly price an object bills and over which period (a membership), or None."""
        return None

    def charge(self, obj: Obj, ctx: MoneyContext) -> Charge | None:
        """The one-off line an object bills (a fee), or None."""
        return None

    def price_term(self, obj: Obj, ctx: MoneyContext) -> PriceTerm | None:
        """A recurring object's place in a price cohort (`flexctl cohorts`), or None."""
        return None

    def campaign_of(self, obj: Obj) -> str | None:
        """The repricing campaign that made a desired object (a membership's period), or None."""
        return None

    def money_effect(self, before: Obj | None, after: Obj | None, ctx: MoneyContext) -> MoneyEffect:
        """What a change from `before` to `after` (None: absent) does to money.

        By default, what the objects' `recurring` or `charge` terms say (no terms: no effect).
        """
        old = None if before is None else self.recurring(before, ctx) or self.charge(before, ctx)
        new = None if after is None else self.recurring(after, ctx) or self.charge(after, ctx)
        return terms_effect(old, new, ctx.as_of, ctx.digits)

    # --- export -------------------------------------------------------------------------------

    def export_problem(self, obj: Obj) -> str | None:
        """Why a live object cannot be written as configuration, or None."""
        return None

    def export_fields(self, obj: Obj) -> list[str]:
        """The object's fields in the order export writes them."""
        return sorted(obj.fields)

    def export_order(self, obj: Obj) -> tuple[str, ...]:
        """How export sorts the objects of one section or owner."""
        return (obj.key,)

    def export_omits(self, name: str, value: Any) -> bool:
        """Whether export leaves a field out because omitting it means the same."""
        return False

    def export_required(self, name: str) -> bool:
        """Whether a reference field must resolve for the object to be exported at all."""
        return False

    def export_values(self, values: dict[str, Any], comments: dict[str, str], obj: Obj) -> None:
        """Hook: adjust an exported entry's values (and comments after them) in place."""

    def export_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Owned kinds: the exported items of one owner as config lines (memberships fold
        adjacent periods back into one line with `changes`)."""
        return rows

    def export_item_problem(
        self, obj: Obj, exported: Mapping[str, Mapping[str, Obj]]
    ) -> str | None:
        """Owned kinds: why an item cannot be written under its owner, given what else is
        exported (`kind -> key -> object`), or None."""
        return None
