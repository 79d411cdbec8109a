"""The OAuth2 scopes flexctl asks for, and the scope each request needs, from the kinds.

A scope is `flex.<module>.<resource>.<action>`; the real API answers 401, not 403, to a token
without the scope, so errors name the scope the request needed. Requesting a scope the
application was not granted fails the whole token request, so a profile's scopes are exactly
what its kinds' capabilities allow, plus the few platform collections flexctl reads besides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from flexctl.kinds import registry
from flexctl.kinds.base import Kind, Profile

# Platform collections that are not kinds of flexctl's: their scope stems.
OTHER_COLLECTIONS: Mapping[str, str] = {
    "payments": "flex.billing.payments",  # invoices: which memberships are billing history
    "billing-settings": "flex.settings.billing",  # never needed: `doctor` only looks
    "account": "flex.settings.organization",
    "resource-types": "flex.space.resourceTypes",
    "webhooks": "flex.settings.webhooks",
}
ACTIONS = ("create", "update", "delete")
# GET /organizations/{org}: no command needs it; `doctor` asks for it on its own.
ORGANIZATION_READ = f"{OTHER_COLLECTIONS['account']}.read"
_METHOD_ACTIONS = {"GET": "read", "POST": "create", "PUT": "update", "PATCH": "update",
                   "DELETE": "delete"}
_ORG_PATH = re.compile(r"/organizations/[^/]+/(.*)$")


def profile_scopes(profile: Profile) -> tuple[str, ...]:
    """Every scope flexctl needs on a target of this profile: reads first, then writes."""
    return _profile_scopes(registry(), profile)


@cache
def _profile_scopes(kinds: tuple[Kind, ...], profile: Profile) -> tuple[str, ...]:
    reads: list[str] = []
    writes: list[str] = []
    for kind in kinds:
        capability = kind.capability(profile)
        if capability.read:
            reads.extend(kind.scopes("read"))
        for action in ACTIONS:
            if getattr(capability, action):
                writes.extend(kind.scopes(action))
    reads.append(f"{OTHER_COLLECTIONS['payments']}.read")  # also: export's currency
    if profile is Profile.FULL:
        reads.append(f"{OTHER_COLLECTIONS['account']}.read")  # the account status
    return tuple(dict.fromkeys([*reads, *writes]))


def command_scopes(profile: Profile) -> dict[str, tuple[str, ...]]:
    """The scopes each command asks for on a target of this profile: plan, drift, export and
    check only read; apply reads and writes."""
    every = profile_scopes(profile)
    reads = tuple(s for s in every if s.endswith(".read"))
    return {"plan": reads, "drift": reads, "export": reads, "check": reads, "apply": every}


@cache
def _stems(kinds: tuple[Kind, ...]) -> dict[str, str]:
    stems = {k.api_path or k.name: k.scope_prefix for k in kinds}
    return {**OTHER_COLLECTIONS, **stems}


def scope_for(method: str, path: str) -> str | None:
    """The scope a request needs: `scope_for("GET", "plans")` -> `flex.billing.plans.read`.

    `path` is relative to the organization (`plans/abc`) or a full API path.
    """
    match = _ORG_PATH.search(path)
    relative = match.group(1) if match else path
    collection = relative.strip("/").split("/", 1)[0].split("?", 1)[0]
    prefix = _stems(registry()).get(collection)
    action = _METHOD_ACTIONS.get(method.upper())
    return f"{prefix}.{action}" if prefix and action else None


def parse_scopes(text: str) -> tuple[str, ...]:
    """Scopes from `FLEXCTL_SCOPES`: separated by spaces or commas."""
    return tuple(s for s in re.split(r"[\s,]+", text) if s)
