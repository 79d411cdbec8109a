"""Memberships: a recurring plan assigned to a customer from `start` (to `end`).

The API's PUT accepts only `startDate`, `endDate` and `price`: a change of plan, location or
name is a replace. `end` is always managed: omitted means open-ended (`None`).
`meta["invoiced"]` comes from the invoices' lines (`history_source`): an invoiced membership is
billing history. Its rules:
- its start date cannot change, and it is never deleted: removing it ends it (today, or on its
  start if it has not started);
- a changed plan or location on the line is a replace of the old membership by a new one on
  the same start date (paired here, `pair_replacements`); for an invoiced one that would bill
  the invoiced period twice, so it is blocked with how to split the line instead.
The platform probably refuses `price` on POST (`property price should not exist`): apply then
creates the membership without it and sets it with a PUT, marking the create
(`properties.flexctlDeferred`) so that a plan after an interruption in between shows the price
to set, even when the configuration leaves the price to the plan (`unfinished`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType
from typing import Any

from pydantic import Field as ModelField
from pydantic import model_validator

from flexctl.config.currency import minor_units
from flexctl.config.lint import FAR_BELOW, IgnoreWarnings
from flexctl.config.rules import Checker
from flexctl.config.types import Amount, ConfigBase, Model, Name, ObjectId, Ref, no_items
from flexctl.kinds import repricing
from flexctl.kinds._fields import COMMUNITY, Field
from flexctl.kinds._owned import PLANS, OwnedKind
from flexctl.kinds._splits import fold, overlap, periods
from flexctl.kinds.base import OWNER, MoneyContext, Obj, Pairing, Removal, RuleContext
from flexctl.kinds.money import ZERO, MoneyEffect, PriceTerm, Recurring, period_note
from flexctl.kinds.refs import RefMap

DEFERRED = "flexctlDeferred"  # custom property: the fields a create left to an update


class Change(Model):
    """A change of the line from a date: on the platform, the membership ends the day before
    and a new one starts on `from` (see docs/changing-prices.md)."""

    from_: date = ModelField(alias="from", description="The first day of the change "
                             "(YYYY-MM-DD): after the line's start, on or before its end.")
    price: Amount | None = ModelField(None, description="The monthly price from that day.")
    plan: Ref | None = ModelField(None, description="The plan from that day (a plan key).")
    location: Ref | None = ModelField(None, description="The location from that day.")

    @model_validator(mode="after")
    def _something(self) -> Change:
        if self.price is None and self.plan is None and self.location is None:
            raise ValueError("a change needs at least one of `price`, `plan` or `location`")
        return self


class Membership(Model):
    """A recurring plan assigned to a customer from `start` (to `end`, inclusive)."""

    id: ObjectId | None = None
    """The platform id (24 hex digits) of the live membership this line is pinned to."""
    plan: Ref = ModelField(description="Key of a recurring plan.")
    start: date = ModelField(description="First day (YYYY-MM-DD).")
    end: date | None = ModelField(None, description="Last day, inclusive; omitted = open-ended.")
    price: Amount | None = ModelField(None, description="Overrides the plan's price.")
    location: Ref | None = ModelField(
        None, description="Location key; omitted = the customer's location."
    )
    name: Name | None = None
    """The invoice line's name; omitted = the plan's name."""
    changes: list[Change] = ModelField(default_factory=no_items)
    """Changes of price, plan or location from a date, in date order: each one ends the
    membership the day before and starts a new one."""
    ignore_warnings: IgnoreWarnings = ModelField(default_factory=no_items)


def end_date(live: Obj, today: date) -> date:
    """When an invoiced membership that must go ends: today, or its start date if it has not
    started (the platform refuses an end before the start), or earlier if it already ends
    earlier. Its invoices stay as history."""
    start, current = live.fields.get("start"), live.fields.get("end")
    end = max(start, today) if isinstance(start, date) else today
    return min(end, current) if isinstance(current, date) else end  # never extend it


def _raises(was: Decimal | None, price: Decimal | None, plan_price: Decimal | None) -> bool:
    new = price if price is not None else plan_price
    return was is not None and new is not None and new > was


def _too_soon(obj: Obj, ctx: RuleContext) -> str | None:
    """A price rise (a campaign's, or a line's `changes` entry) that starts before its customers
    have had the notice it needs: blocked with the earliest date that gives it."""
    notice = obj.meta.get("notice")
    start = obj.fields.get("start")
    if not notice or not isinstance(start, date):
        return None
    days, who = notice
    if days <= 0:
        return None  # no notice asked for
    earliest = ctx.notice_from + timedelta(days=days)
    if start >= earliest:
        return None
    return (f"{who} needs {days} days' notice: {start} is sooner than {days} days after "
            f"{ctx.notice_from}; the earliest compliant date is {earliest}")


def _raised(live: Obj, obj: Obj) -> bool:
    old, new = live.fields.get("price"), obj.fields.get("price")
    return isinstance(old, Decimal) and isinstance(new, Decimal) and new > old


def _plain(value: object) -> str:
    return "(unset)" if value is None else str(value)


class Memberships(OwnedKind):
    name = "memberships"
    noun = "membership"
    required_live = ("plan", "startDate")
    plural = "memberships"
    rank = 8
    api_path = "memberships"
    scope_prefix = "flex.community.memberships"
    portal = "Billing > Memberships"
    date_field = "start"
    cohorts = True
    plan_billing = "recurring"
    wrong_plan_hint = "charge one-off plans as fees"
    identity_words = "plan and start"
    marker = True
    history_source = "payments"  # the invoices: their lines name the memberships they bill
    history_select = ("lines",)
    fields_map = (
        Field("plan", "plan", "ref", ref="plans"),
        Field("start", "startDate", "date"),
        Field("end", "endDate", "date"),
        Field("price", "price", "money"),
        Field("location", "location", "ref", ref="locations"),
        Field("name", "name"),
    )
    implied = MappingProxyType({"end": None})
    updatable = frozenset({"start", "end", "price"})
    capabilities = COMMUNITY
    expected_fields = frozenset({"name", "plan", "startDate", "location", "price"})
    create_deferrable = frozenset({"price", "intervalCount", "deposit"})

    def check_item(self, path: tuple[str | int, ...], item: Any, checker: Checker) -> None:
        if item.end is not None and item.end < item.start:
            checker.add((*path, "end"), f"end {item.end} is before start {item.start}")
        previous = item.start
        plans = checker.sections.get(PLANS, {})
        for number, change in enumerate(item.changes):
            where = (*path, "changes", number)
            if change.from_ <= previous:
                what = "the line's start" if previous == item.start else "the previous change"
                checker.add((*where, "from"), f"from {change.from_} must be after {what} "
                            f"({previous})")
            elif item.end is not None and change.from_ > item.end:
                checker.add((*where, "from"), f"from {change.from_} is after the line's end "
                            f"{item.end}")
            previous = max(previous, change.from_)
            if change.plan is not None and checker.ref((*where, "plan"), change.plan, PLANS):
                plan = plans.get(change.plan)
                if plan is not None and plan.billing != self.plan_billing:
                    checker.add((*where, "plan"), f"plan '{change.plan}' is {plan.billing}; a "
                                f"membership needs a {self.plan_billing} plan")
            checker.ref((*where, "location"), change.location, "locations")
            checker.amount((*where, "price"), change.price)

    def lint(self, config: ConfigBase, checker: Checker) -> None:
        super().lint(config, checker)
        plans = checker.sections.get(PLANS, {})
        for owner_kind, key, customer in self.owners(config):
            for number, item in enumerate(self.items(customer)):
                plan = plans.get(item.plan)
                if item.price is None or plan is None or item.price * 100 >= plan.price * FAR_BELOW:
                    continue
                share = (item.price * 100 / plan.price).quantize(Decimal(1), ROUND_DOWN)
                checker.warn((owner_kind, key, self.name, number, "price"), "FX104", (
                    f"{item.price} is {share}% of plan '{item.plan}''s price {plan.price}: "
                    "far below it (a missing digit?)"), item.ignore_warnings)

    # --- a line with changes: one membership per period (see flexctl.kinds._splits) ---------

    def expand(self, owner: str, item: Any, config: ConfigBase) -> list[tuple[Any, dict[str, Any]]]:
        if not item.changes and not repricing.campaigns(config):
            return [(item, {})]  # nothing splits the line (the common case: no periods to find)
        plans: Mapping[str, Any] = config.section(PLANS)

        def plan_price(key: str) -> Decimal | None:
            plan = plans.get(key)
            return plan.price if plan is not None else None

        found = periods(item, owner, repricing.for_plan_all(config), plan_price,
                        minor_units(config.currency))
        if len(found) == 1:
            return [(item, {})]
        out: list[tuple[Any, dict[str, Any]]] = []
        for number, period in enumerate(found):
            values: dict[str, Any] = {"plan": period.plan, "start": period.start}
            if number == 0 and item.id is not None:
                values["id"] = item.id
            for name in ("end", "price", "location", "name"):
                if getattr(period, name) is not None:
                    values[name] = getattr(period, name)
            meta: dict[str, Any] = {"line_start": item.start}
            if period.note:
                meta["change_note"] = period.note
            if period.campaign:
                meta["campaign"] = (period.campaign, period.was)
                days = repricing.campaigns(config)[period.campaign].notice_days
                meta["notice"] = (days, f"campaign {period.campaign}")
            elif number and _raises(period.was, period.price, plan_price(period.plan)):
                meta["notice"] = (config.policy.notice_days, "policy.notice_days")
            out.append((Membership.model_validate(values), meta))
        out[0][1]["change_note"] = f"ends {found[0].end}, the day before its change from " \
                                   f"{found[1].start}"
        return out

    def change_note(self, obj: Obj) -> str:
        return str(obj.meta.get("change_note", ""))

    def campaign_of(self, obj: Obj) -> str | None:
        campaign = obj.meta.get("campaign")
        return str(campaign[0]) if campaign else None

    def plan_notes(
        self, config: ConfigBase, desired: Sequence[Obj], live: Sequence[Obj]
    ) -> list[str]:
        return repricing.report(config, desired, live)

    def closed_terms(
        self, before: Obj | None, after: Obj | None, changed: Sequence[str], lock: date
    ) -> str | None:
        """Of a membership that started inside the closed period: an end moved to or from a day
        inside it, or its price changed (from a date after it: a `changes` entry)."""
        if before is None or after is None:
            return None
        if "end" in changed:
            # Ending on the lock date itself leaves every closed day billed as it was.
            old, new = before.fields.get("end"), after.fields.get("end")
            if any(isinstance(e, date) and e < lock for e in (old, new)):
                if old is None:
                    return f"the membership, open-ended, would end on {new}"
                if new is None:
                    return f"the membership's end on {old} would be removed (open-ended)"
                return f"the membership's end would move from {old} to {new}"
        if "price" in changed:
            return (f"the membership billed the closed period (it started "
                    f"{before.fields.get('start')}): its price would change for it; add a "
                    "`changes` entry from a day after the lock date instead")
        return None

    def export_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return fold(rows)

    def comes_after(self, obj: Obj) -> set[str]:
        """A period's membership is created once the one before it has ended."""
        follows = obj.meta.get("follows")
        return {str(follows)} if follows else set()

    def history_ids(self, docs: Iterable[Mapping[str, Any]]) -> set[str]:
        """Ids of memberships billed on some invoice line: they can only be ended."""
        ids: set[str] = set()
        for invoice in docs:
            for line in invoice.get("lines") or ():
                ids.update(str(m) for m in line.get("memberships") or ())
                if line.get("membership"):
                    ids.add(str(line["membership"]))
        return ids

    def history_needed(
        self, live: Obj, action: str, owned: Mapping[str, Sequence[Obj]]
    ) -> Iterable[Obj]:
        """Every change of a live membership depends on whether it is invoiced: its start date
        (blocked), its removal (ended, not deleted), a replace (split instead) and the money a
        change adds for the past (nothing once invoiced). A create has no history."""
        return (live,)

    def defer(self, body: dict[str, Any], later: Collection[str]) -> None:
        body.setdefault("properties", {})[DEFERRED] = ",".join(sorted(later))

    def live_meta(
        self, doc: Mapping[str, Any], fields: Mapping[str, Any], refs: RefMap
    ) -> dict[str, Any]:
        props = doc.get("properties")
        deferred = props.get(DEFERRED) if isinstance(props, Mapping) else None
        return {"invoiced": False,
                "deferred": frozenset(str(deferred).split(",")) if deferred else frozenset()}

    def unfinished(self, obj: Obj, live: Obj) -> Obj:
        """A create that deferred the price and was interrupted before setting it leaves the
        platform's default, 0: the price it meant to send is still to set."""
        if "price" in obj.fields or "price" not in live.meta.get("deferred", ()):
            return obj
        meant = obj.meta.get("create_defaults", {}).get("price")
        if meant is None or live.fields.get("price") == meant or live.fields.get("price"):
            return obj
        return Obj(obj.kind, obj.address, {**obj.fields, "price": meant}, obj.id, obj.owner,
                   obj.meta)

    # --- plan rules ---------------------------------------------------------------------------

    def refuse_change(
        self,
        obj: Obj,
        live: Obj | None,
        changed: Sequence[str],
        fixed: Sequence[str],
        ctx: RuleContext,
    ) -> str | None:
        if live is None or _raised(live, obj):  # a new period, or a period already created
            too_soon = _too_soon(obj, ctx)  # whose price a campaign now raises further
            if live is None or too_soon:
                return too_soon
        if not live.meta.get("invoiced"):
            return None
        if "start" in changed:
            return "the membership is invoiced; its start date cannot change"
        if fixed and OWNER not in fixed:
            return self._split_instead(live, fixed, ctx.today)
        return None

    def overlap_reason(
        self, action: str, after: Obj, changed: Sequence[str], others: Sequence[Obj]
    ) -> str | None:
        if action == "update" and not {"start", "end"} & set(changed):
            return None
        return overlap(after, others)

    def pair_replacements(self, missing: list[Obj], extra: list[Obj]) -> Pairing:
        """A declared membership without a live match and an undeclared live one of the same
        customer and start date: the user changed its plan or location on that line."""
        free: dict[tuple[str | None, object], list[Obj]] = {}
        for old in sorted(extra, key=lambda o: o.address):
            free.setdefault((old.owner, old.fields.get("start")), []).append(old)
        pairs: list[tuple[Obj, Obj]] = []
        unpaired: list[Obj] = []
        for new in sorted(missing, key=lambda o: o.address):
            candidates = free.get((new.owner, new.fields.get("start")))
            if candidates:
                pairs.append((new, candidates.pop(0)))
            else:
                unpaired.append(new)
        used = {id(old) for _, old in pairs}
        return Pairing(pairs, unpaired, [o for o in extra if id(o) not in used])

    def replace_reason(self, new: Obj, old: Obj, fixed: Sequence[str]) -> str:
        return (f"{', '.join(fixed) or 'the membership'} changed on the line starting "
                f"{new.fields.get('start')}: the old one is deleted, a new one created")

    def refuse_replace(
        self, new: Obj, old: Obj, fixed: Sequence[str], ctx: RuleContext
    ) -> str | None:
        return self._split_instead(old, fixed, ctx.today) if old.meta.get("invoiced") else None

    def _split_instead(self, old: Obj, fixed: Sequence[str], today: date) -> str:
        """A replace would create the new membership on the invoiced one's start date, so both
        would bill the same period: the user splits the line instead."""
        end = end_date(old, today)
        was = ", ".join(f"{f} {_plain(old.fields.get(f))}" for f in fixed)
        return (
            f"the membership starting {old.fields.get('start')} has invoices: replacing it on "
            "the same start date would bill the customer twice for the invoiced period. Keep "
            f"the old line{f' ({was})' if was else ''} with `end: {end}` and declare the new "
            f"{' and '.join(fixed) or 'membership'} as a separate line starting the next day "
            f"(`start: {end + timedelta(days=1)}`)"
        )

    # --- money --------------------------------------------------------------------------------

    def recurring(self, obj: Obj, ctx: MoneyContext) -> Recurring:
        """Its own price; one the config omits on a new membership is the plan's price in the
        configuration, which is what apply sends (the platform's default, 0, if neither)."""
        price = obj.fields.get("price")
        if price is None:
            price = obj.meta.get("create_defaults", {}).get("price")
        start, end = obj.fields.get("start"), obj.fields.get("end")
        return Recurring(
            monthly=price if isinstance(price, Decimal) else ZERO,
            start=start if isinstance(start, date) else None,
            end=end if isinstance(end, date) else None,
            group=str(obj.fields.get("plan")),
            invoiced=bool(obj.meta.get("invoiced")),
        )

    def price_term(self, obj: Obj, ctx: MoneyContext) -> PriceTerm:
        """Its cohort: its plan and what it pays a month, its own price, else the plan's on the
        target (the configuration's when the target does not have the plan yet)."""
        plan_key = str(obj.fields.get("plan"))
        address = f"{PLANS}.{plan_key}"
        plan = ctx.live_by_address.get(address) or ctx.by_address.get(address)
        catalogue = plan.fields.get("price") if plan is not None else None
        catalogue = catalogue if isinstance(catalogue, Decimal) else None
        terms = self.recurring(obj, ctx)
        own = obj.fields.get("price")
        if not isinstance(own, Decimal) and catalogue is not None:
            terms = replace(terms, monthly=catalogue)
        label = str(plan.fields.get("name") or plan_key) if plan is not None else plan_key
        return PriceTerm(terms, catalogue, label)

    def money_effect(self, before: Obj | None, after: Obj | None, ctx: MoneyContext) -> MoneyEffect:
        effect = super().money_effect(before, after, ctx)
        note = "; ".join(n for n in (period_note(effect.before, effect.after), effect.note) if n)
        return replace(effect, note=note)

    def removal(self, live: Obj, ctx: RuleContext) -> Removal:
        """An invoiced membership is ended (see `end_date`), never deleted."""
        if not live.meta.get("invoiced"):
            return Removal.delete()
        end = end_date(live, ctx.today)
        current = live.fields.get("end")
        if isinstance(current, date) and current <= end:
            return Removal("none")  # it already ends by then
        return Removal("update", "invoiced: ended, not deleted", {"end": current}, {"end": end})
