"""The readiness checklist (SPEC section 6): what still stands between an organization and its
first payment, each step ready, not ready (what is missing and the exact fix) or cannot verify
(the target does not expose it, and where to look instead).

The steps read one snapshot of the live target, matched to the config, so "declared but not
live" is known per object; nothing is written. Where the target cannot read a kind, a manual
step a person confirmed (`flexctl confirm`) stands in for the live object: its configuration is
what was confirmed, and the step says who confirmed it and when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from flexctl.config.types import ConfigBase
from flexctl.kinds import count_of
from flexctl.kinds import get as get_kind
from flexctl.kinds.base import ACTIVATE_ON_PLATFORM, Obj, Profile
from flexctl.kinds.gateways import secret_field
from flexctl.state.confirmations import Confirmation, Confirmations
from flexctl.state.snapshot import Snapshot
from flexctl.wording import counted

APPLY = "run `flexctl apply`"
INVOICING_PORTAL = "Settings > Billing > Invoicing"
GATEWAY_PORTAL = "Settings > Integrations > Payment Gateways"
STOREFRONT_PORTAL = "Growth Hub > Settings"
# Invoicing automation besides the bill run, with the words the admin portal uses.
AUTOMATION = (
    ("automatic_sending", "automatic sending of invoices"),
    ("automatic_payment_collection", "automatic payment collection"),
    ("pay_now_button", "the Pay Now button"),
)


class Status(StrEnum):
    READY = "ready"
    NOT_READY = "not_ready"
    UNKNOWN = "cannot_verify"


@dataclass
class Step:
    number: int
    name: str  # stable identifier for JSON consumers: "gateway", "services", ...
    title: str
    status: Status = Status.READY
    found: list[str] = field(default_factory=list)  # what is there
    missing: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    why: str | None = None  # cannot verify: why
    where: str | None = None  # cannot verify: where to look in the admin portal

    def lack(self, missing: str, fix: str) -> None:
        self.status = Status.NOT_READY
        self.missing.append(missing)
        if fix not in self.fixes:
            self.fixes.append(fix)

    def unverifiable(self, why: str, where: str) -> Step:
        self.status, self.why, self.where = Status.UNKNOWN, why, where
        return self

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass
class Readiness:
    target: Mapping[str, Any]
    steps: list[Step]

    @property
    def ready(self) -> bool:
        return all(s.status is not Status.NOT_READY for s in self.steps)


class Checklist:
    """The six steps over one snapshot, matched to the config.

    `activation` says how the account becomes Active on this target (on a sandbox, its own
    command; on the platform, OfficeRnD finishing the onboarding)."""

    def __init__(self, config: ConfigBase, desired: Mapping[str, list[Obj]], snapshot: Snapshot,
                 activation: str = ACTIVATE_ON_PLATFORM,
                 confirmations: Confirmations | None = None):
        self.config = config
        self.desired = desired
        self.snapshot = snapshot
        self.live = dict(snapshot.objects)
        self.unreadable = dict(snapshot.unreadable)
        self.full = snapshot.target.get("profile") == Profile.FULL.value
        self.activation = activation
        self.confirmed: dict[str, Confirmation] = {}
        if confirmations is not None:
            self._stand_in(confirmations)

    def _stand_in(self, confirmations: Confirmations) -> None:
        """Confirmed objects of a kind the target cannot read stand in for live ones; once
        every declared object of the kind is confirmed, the kind counts as read."""
        for name in list(self.unreadable):
            kind = get_kind(name)
            wanted = self.desired.get(name, [])
            held = {o.address: c for o in wanted if (c := confirmations.holding(kind, o))}
            self.confirmed.update(held)
            if wanted and len(held) == len(wanted):
                self.live[name] = [Obj(o.kind, o.address, o.fields, o.id, o.owner,
                                       {**o.meta, "confirmed": held[o.address]}) for o in wanted]
                del self.unreadable[name]

    def confirmed_line(self, obj: Obj) -> str | None:
        found = self.confirmed.get(obj.address)
        return f"{obj.address} {found.describe()}" if found else None

    def run(self) -> Readiness:
        steps = [self.gateway(), self.services(), self.customers(), self.bill_run(),
                 self.automation(), self.storefront()]
        return Readiness(self.snapshot.target, steps)

    # --- helpers -------------------------------------------------------------------------------

    def missing_declared(self, kind: str) -> list[str]:
        """Addresses the config declares that have no live twin."""
        live = {o.address for o in self.live.get(kind, ())}
        return [o.address for o in self.desired.get(kind, ()) if o.address not in live]

    def apply_fix(self, step: Step, kind: str, portal: str) -> None:
        """One line per kind for declared objects that are not live yet, with the fix."""
        missing = self.missing_declared(kind)
        if not missing:
            return
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        what = f"{count_of(kind, len(missing))} in the configuration not on the platform: {shown}"
        if self.full or kind in ("companies", "members", "memberships", "fees"):
            step.lack(what, APPLY)
        else:
            step.lack(what, f"create them in the admin portal ({portal}); the public API "
                             "cannot create them")

    def catalogue_fix(self, what: str, section: str, portal: str) -> str:
        if self.full:
            return f"add {what} under `{section}:` and run `flexctl apply`"
        return (f"create {what} in the admin portal ({portal}; the public API cannot), then "
                f"declare it under `{section}:`")

    def settings(self, kind: str) -> Mapping[str, Any] | None:
        objs = self.live.get(kind)
        return objs[0].fields if objs else None

    def confirmation_of(self, kind: str) -> Confirmation | None:
        """The confirmation standing in for a setting the target cannot read, if any."""
        objs = self.live.get(kind)
        found = objs[0].meta.get("confirmed") if objs else None
        return found if isinstance(found, Confirmation) else None

    # --- the steps -----------------------------------------------------------------------------

    def gateway(self) -> Step:
        step = Step(1, "gateway", "A payment gateway is connected")
        if "gateways" in self.unreadable:
            step.found += [line for g in self.desired.get("gateways", ())
                           if (line := self.confirmed_line(g))]
            return step.unverifiable(self.unreadable["gateways"], GATEWAY_PORTAL)
        gateways = self.live.get("gateways", [])
        connected = [g for g in gateways if is_connected(g)]
        for g in gateways:
            state = "connected" if g in connected else "no secret key"
            if g.meta.get("confirmed"):
                state = g.meta["confirmed"].describe()
            default = ", default" if g.fields.get("default") else ""
            step.found.append(f"{_key(g)} ({g.fields.get('provider')}{default}; {state})")
        self.apply_fix(step, "gateways", GATEWAY_PORTAL)
        if not connected:
            fix = (APPLY if self.desired.get("gateways") else
                   "add one under `gateways:` (e.g. provider: stripe, secret_key: "
                   "{env: STRIPE_SECRET_KEY}, default: true) and run `flexctl apply`, or connect "
                   f"one in {GATEWAY_PORTAL}")
            step.lack("no payment gateway is connected", fix)
        elif len(connected) > 1 and not any(g.fields.get("default") for g in connected):
            step.lack("no default gateway: automatic collection does not know which to use",
                      "set `default: true` on one gateway and run `flexctl apply`")
        return step

    def services(self) -> Step:
        step = Step(2, "services", "Services exist (recurring plans, one-off plans, rates)")
        plans = self.live.get("plans", [])
        rates = self.live.get("rates", [])
        recurring = [p for p in plans if p.fields.get("billing") == "recurring"]
        one_off = [p for p in plans if p.fields.get("billing") == "one_off"]
        step.found.append(
            f"{counted(len(recurring), 'recurring plan')}, "
            f"{counted(len(one_off), 'one-off plan')}, {counted(len(rates), 'resource rate')}"
        )
        for kind in ("plans", "rates"):
            self.apply_fix(step, kind, "Billing > Plans" if kind == "plans" else
                           "Billing > Resource Rates")
        declared = {p.billing for p in self.config.section("plans").values()}
        if not recurring and "recurring" not in declared:
            step.lack("no recurring plan (memberships)",
                      self.catalogue_fix("a plan with `billing: recurring`", "plans",
                                         "Billing > Plans"))
        if not one_off and "one_off" not in declared:
            step.lack("no one-off plan (day pass, deposit, printing)",
                      self.catalogue_fix("a plan with `billing: one_off`", "plans",
                                         "Billing > Plans"))
        if not rates and not self.config.section("rates"):
            step.lack("no resource rate for bookable resources (meeting rooms, desks)",
                      self.catalogue_fix("a rate (unit: hour or day)", "rates",
                                         "Billing > Resource Rates"))
        return step

    def customers(self) -> Step:
        step = Step(3, "customers", "Customers exist, with fees where intended")
        counts = {k: len(self.live.get(k, [])) for k in ("companies", "members", "fees")}
        step.found.append(f"{counted(counts['companies'], 'company', 'companies')}, "
                          f"{counted(counts['members'], 'member')}, "
                          f"{counted(counts['fees'], 'one-off fee')}")
        for kind in ("companies", "members", "memberships", "fees"):
            self.apply_fix(step, kind, "")
        declared = self.config.section("companies") or self.config.section("members")
        if not counts["companies"] and not counts["members"] and not declared:
            step.lack("no customers", "add companies or members to the configuration and "
                      "run `flexctl apply`")
        return step

    def bill_run(self) -> Step:
        step = Step(4, "bill_run", "Automated invoicing (the bill run) is enabled")
        live = self.settings("invoicing")
        if live is None:
            reason = self.unreadable.get("invoicing", "the target hides the settings")
            return step.unverifiable(
                f"{reason}, nor the account status", f"{INVOICING_PORTAL} (automated bill run)"
            )
        confirmed = self.confirmation_of("invoicing")
        if confirmed is not None:
            step.found.append(f"invoicing settings {confirmed.describe()}")
            if "automatic_bill_run" not in live:
                return step.unverifiable(
                    "the confirmed invoicing settings do not include the automatic bill run "
                    "(not in the configuration) and the target cannot read it",
                    f"{INVOICING_PORTAL} (automated bill run)")
        invoicing = self.config.section("invoicing")
        wanted = invoicing.automatic_bill_run if invoicing else None
        status = self.snapshot.account_status
        step.found.append(f"account status {status or 'unknown'}; automatic bill run "
                          f"{'on' if live.get('automatic_bill_run') else 'off'}"
                          f"{' (as confirmed)' if confirmed else ''}")
        if live.get("automatic_bill_run"):
            return step
        if wanted is False:
            step.found.append("disabled as configured: invoices are issued by hand")
            return step
        if status != "active":
            step.lack(
                "the account status is Onboarding: the automatic bill run can only be enabled "
                "once the account is Active",
                f"{self.activation}, then "
                + (APPLY if wanted else "set `invoicing.automatic_bill_run: true` and "
                   "run `flexctl apply`"),
            )
            return step
        step.lack("the automatic bill run is off",
                  APPLY if wanted else "set `invoicing.automatic_bill_run: true` and run "
                  f"`flexctl apply` (or {INVOICING_PORTAL})")
        return step

    def automation(self) -> Step:
        step = Step(5, "automation", "Automatic sending, payment collection and Pay Now")
        live = self.settings("invoicing")
        if live is None:
            reason = self.unreadable.get("invoicing", "the target hides the settings")
            return step.unverifiable(reason, INVOICING_PORTAL)
        invoicing = self.config.section("invoicing")
        confirmed = self.confirmation_of("invoicing")
        if confirmed is not None:
            step.found.append(f"invoicing settings {confirmed.describe()}")
        unknown: list[str] = []
        for name, words in AUTOMATION:
            if confirmed is not None and name not in live:
                unknown.append(words)  # not configured, so not what the person confirmed
                continue
            configured = getattr(invoicing, name) if invoicing else None
            wanted = True if configured is None else configured
            actual = bool(live.get(name))
            step.found.append(f"{words} {'on' if actual else 'off'}")
            if actual == wanted:
                continue
            state = "on" if wanted else "off"
            fix = APPLY if configured is not None else (
                f"set `invoicing.{name}: {str(wanted).lower()}` and run `flexctl apply`")
            step.lack(f"{words} is {'off' if wanted else 'on'}, should be {state}", fix)
        if unknown and step.status is Status.READY:
            return step.unverifiable(f"{', '.join(unknown)}: not in the configuration, so not "
                                     "confirmed, and the target cannot read them",
                                     INVOICING_PORTAL)
        return step

    def storefront(self) -> Step:
        step = Step(6, "storefront", "The storefront is set up")
        live = self.settings("storefront")
        if live is None:
            reason = self.unreadable.get("storefront", "the target hides it")
            return step.unverifiable(reason, STOREFRONT_PORTAL)
        wanted = self.config.section("storefront")
        confirmed = self.confirmation_of("storefront")
        if confirmed is not None:
            step.found.append(f"storefront settings {confirmed.describe()}")
        offered = len(live.get("plans") or ()) + len(live.get("rates") or ())
        step.found.append(f"storefront {'enabled' if live.get('enabled') else 'disabled'}, "
                          f"{counted(offered, 'product')} offered")
        if wanted is not None and not wanted.enabled and not live.get("enabled"):
            step.found.append("disabled as configured")
            return step
        if wanted is not None and self.storefront_differs(live):
            step.lack("the storefront differs from the configuration", APPLY)
        if not live.get("enabled"):
            step.lack("the storefront is not enabled", _storefront_fix(wanted))
        elif not offered:
            step.lack("the storefront offers no plan or rate",
                      "list plans and rates under `storefront:` and run `flexctl apply`")
        return step

    def storefront_differs(self, live: Mapping[str, Any]) -> bool:
        desired = self.desired.get("storefront", [])
        return bool(desired) and any(live.get(k) != v for k, v in desired[0].fields.items())


def _storefront_fix(wanted: Any) -> str:
    """The fix for a disabled storefront, from what the configuration already says."""
    if wanted is not None and wanted.enabled:
        return APPLY  # the configuration already enables it: only the platform lags
    if wanted is not None:
        return "set `storefront.enabled: true` and run `flexctl apply`"
    return ("add `storefront: {enabled: true, plans: [...], rates: [...]}` and run "
            f"`flexctl apply` (or {STOREFRONT_PORTAL})")


def is_connected(gateway: Obj) -> bool:
    if gateway.meta.get("confirmed"):  # a person confirmed it is set up, secret included
        return True
    name = secret_field(str(gateway.fields.get("provider")))
    return name is None or gateway.fields.get(name) is not None


def _key(obj: Obj) -> str:
    return obj.address.split(".", 1)[-1]


def readiness(
    config: ConfigBase,
    desired: Mapping[str, list[Obj]],
    snapshot: Snapshot,
    activation: str = ACTIVATE_ON_PLATFORM,
    confirmations: Confirmations | None = None,
) -> Readiness:
    return Checklist(config, desired, snapshot, activation, confirmations).run()


# --- rendering ---------------------------------------------------------------------------------

LABELS = {Status.READY: "ready", Status.NOT_READY: "NOT READY", Status.UNKNOWN: "CANNOT VERIFY"}


def render_steps(steps: Sequence[Step]) -> list[str]:
    lines: list[str] = []
    for step in steps:
        lines.append(f"  {step.number}. {step.title:<58} {LABELS[step.status]}")
        details = [("found", f) for f in step.found] + [("missing", m) for m in step.missing]
        details += [("fix", f) for f in step.fixes]
        if step.status is Status.UNKNOWN:
            details += [("why", step.why or ""), ("look in", step.where or "")]
        lines.extend(f"       {label}: {text}" for label, text in details)
    return lines


def summary(steps: Sequence[Step]) -> str:
    counts = {s: sum(1 for step in steps if step.status is s) for s in Status}
    text = f"Ready: {counts[Status.READY]} of {len(steps)} steps"
    if counts[Status.NOT_READY]:
        text += f"; {counts[Status.NOT_READY]} not ready"
    if counts[Status.UNKNOWN]:
        text += f"; {counts[Status.UNKNOWN]} cannot be verified on this target"
    return text + "."
