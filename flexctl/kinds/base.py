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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from flexctl.config.models import Config
    from flexctl.config.secrets import SecretResolver
    from flexctl.kinds.refs import RefMap

Scalar = Any  # str | bool | int | Decimal | date | None | tuple[...]


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


@dataclass(frozen=True)
class Obj:
    """One normalized object of a kind, desired or live."""

    kind: str  # "plans", "memberships", "invoicing", ...
    # stable plan address: "plans.hot-desk", "companies.acme.memberships[hot-desk@2026-12-01]"
    address: str
    fields: Mapping[str, Scalar]
    id: str | None = None  # platform _id: live objects always, desired objects when pinned
    owner: str | None = None  # owning customer's address, for memberships and fees
    meta: Mapping[str, Any] = field(default_factory=dict)  # not compared: e.g. invoiced, modifiedAt


class Kind:
    """One kind of object: its config section, API resource, mapping and capabilities.

    Subclasses live one per module in `flexctl.kinds`; `flexctl.kinds.registry()` lists them
    in dependency order. Engines (snapshot, diff, apply, export) iterate over kinds.
    """

    name: ClassVar[str]  # kind name as in addresses and policy.prune: "plans"
    rank: ClassVar[int]  # dependency order (SPEC section 3); deletes run in reverse
    api_path: ClassVar[str | None]  # collection under /organizations/{org}/, e.g. "resource-rates"
    select: ClassVar[tuple[str, ...]] = ()  # API fields flexctl reads ($select)
    updatable: ClassVar[frozenset[str]] = frozenset()  # normalized fields updatable in place
    portal: ClassVar[str] = ""  # where in the admin portal a manual change is made
    capabilities: ClassVar[Mapping[Profile, Capability]]
    singleton: ClassVar[bool] = False  # invoicing, storefront: one object at address == name
    owned: ClassVar[bool] = False  # memberships, fees: belong to a company or member
    references: ClassVar[tuple[str, ...]] = ()  # kinds whose keys this kind's fields hold
    unreadable_reason: ClassVar[str] = ""  # why the real platform cannot read this kind
    scope_prefix: ClassVar[str] = ""  # OAuth2 scope stem, e.g. "flex.billing.plans"

    def capability(self, profile: Profile) -> Capability:
        return self.capabilities[profile]

    def scopes(self, action: str) -> tuple[str, ...]:
        """OAuth2 scopes an action (read, create, update, delete) needs."""
        return (f"{self.scope_prefix}.{action}",)

    # The mapping contract; every kind module implements these (see `flexctl/kinds/*.py`).

    def desired(self, config: Config, secrets: SecretResolver) -> list[Obj]:
        """The config's objects of this kind, normalized."""
        raise NotImplementedError

    def natural_key(self, obj: Obj) -> tuple[Any, ...]:
        """The identity a desired object is matched by (SPEC "Identity")."""
        raise NotImplementedError

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
