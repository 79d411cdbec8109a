"""Money in the plan's renderings: the line under each change, the text `Money` block after the
summary line, and the markdown section a pull-request comment opens with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Protocol

from flexctl.kinds.money import Effect, MoneyEffect, amount_text
from flexctl.reconcile.money import CustomerMoney, MoneySummary

TEXT_CUSTOMERS = 10  # customers listed in the text block
MARKDOWN_CUSTOMERS = 20  # customers listed in a pull-request comment
CUSTOMER_CHANGES = 5  # changes listed under each of them
MOVES = "MOVES MONEY NOW"
RETRO = "RETROACTIVE"


class ChangeView(Protocol):
    """What the money renderings read of a change (`flexctl.reconcile.plan.Change`)."""

    @property
    def address(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def money(self) -> MoneyEffect | None: ...


def blocked_note(blocked: int, guards: int) -> tuple[str, str] | None:
    """What a reader of the figures must know when the plan is blocked, as (label, text):
    blocked changes are not counted, and apply makes no change while anything is blocked.
    `blocked`: the blocked changes; `guards`: the safety and money guards blocking the plan
    (their own lines, not changes: nothing is left out of the figures for them)."""
    if blocked:
        it = "it is" if blocked == 1 else "they are"
        changes = "change" if blocked == 1 else "changes"
        return ("not counted",
                f"{blocked} blocked {changes}: apply makes none of these changes until {it} "
                "resolved")
    if guards:
        return ("blocked", "a guard blocks the plan (x above): apply makes none of these "
                           "changes unless it is re-run with --force")
    return None


def figures(effect: MoneyEffect, digits: int, currency: str) -> list[str]:
    """The amounts of one change, in words: "monthly 45.00 -> 275.00 EUR", "one-off +0.53 EUR"."""
    def text(amount: Decimal | None, signed: bool = False) -> str:
        return amount_text(amount, digits, signed=signed) or ""

    parts: list[str] = []
    before, after = effect.monthly_before, effect.monthly_after
    if before is not None and after is not None:
        parts.append(f"monthly {text(before)} -> {text(after)} {currency}")
    elif after is not None:
        parts.append(f"monthly {text(after)} {currency} (new)")
    elif before is not None:
        parts.append(f"monthly {text(before)} {currency} (removed)")
    if effect.one_off is not None:
        parts.append(f"one-off {text(effect.one_off, True)} {currency}")
    if effect.retroactive is not None:
        parts.append(f"{RETRO} {text(effect.retroactive, True)} {currency}")
    return parts


def money_line(effect: MoneyEffect | None, digits: int, currency: str) -> str | None:
    """The `money:` line under a change; None when it does not change money."""
    if effect is None or effect.effect is Effect.NONE:
        return None
    parts = [MOVES] if effect.moves_money else []
    parts += figures(effect, digits, currency)
    if effect.note:
        parts.append(effect.note)
    return "money: " + "; ".join(parts)


# --- text ---------------------------------------------------------------------------------------


def money_text(money: MoneySummary, blocked: int = 0, guards: int = 0) -> list[str]:
    """The short `Money` block printed after the summary line; `blocked` and `guards` as for
    `blocked_note` (said first: the figures are read in its light)."""
    a = money.amount
    note = blocked_note(blocked, guards)
    rows = [note] if note else []
    rows += [
        ("monthly run-rate", f"{a(money.recurring_before)} -> {a(money.recurring_after)} "
                             f"({a(money.delta, True)})"),
        ("one-off", f"{a(money.one_off_added)} added, {a(money.one_off_removed)} removed"),
    ]
    if money.retroactive:
        rows.append(("retroactive", f"{a(money.retroactive, True)} ({RETRO}: charged by the "
                                    "next bill run)"))
    rows += [("", f"from {month}: {a(delta, True)} a month") for month, delta in money.turns()]
    rows.append(("customers", f"{len(money.customers)} affected"))
    if money.moves_money_now:
        rows.append(("moves money now", ", ".join(money.moves_money_now)))
    out = [f"Money ({money.currency}, run-rate of memberships active on {money.as_of}):"]
    out += [f"  {label:<17} {value}" for label, value in rows]
    shown = money.customers[:TEXT_CUSTOMERS]
    width = max((len(c.address) for c in shown), default=0)
    for c in shown:
        out.append(f"    {c.address:<{width}}  {_customer_figures(money, c)}")
    if len(money.customers) > len(shown):
        out.append(f"    ... {len(money.customers) - len(shown)} more customers "
                   "(--format markdown or json lists them)")
    if money.cohorts:
        out.append("  cohorts touched (plan at the monthly price paid; flexctl cohorts "
                   "shows them all):")
        out += [f"    {c.describe(money.amount)}" for c in money.cohorts[:TEXT_CUSTOMERS]]
        if len(money.cohorts) > TEXT_CUSTOMERS:
            out.append(f"    ... {len(money.cohorts) - TEXT_CUSTOMERS} more cohorts "
                       "(--format markdown or json lists them)")
    return out


def _customer_figures(money: MoneySummary, c: CustomerMoney) -> str:
    a = money.amount
    text = f"monthly {a(c.monthly_before)} -> {a(c.monthly_after)} ({a(c.delta, True)})"
    return f"{text}, one-off {a(c.one_off, True)}" if c.one_off else text


# --- markdown -----------------------------------------------------------------------------------


def money_markdown(
    money: MoneySummary, changes: Iterable[ChangeView], symbols: Mapping[str, str],
    blocked: int = 0, guards: int = 0,
) -> list[str]:
    """The comment's money section: a summary table, then the customers with the largest
    changes, each followed by its changes; `blocked` and `guards` as for `blocked_note`."""
    a = money.amount
    out = [f"#### Money ({money.currency}, as of {money.as_of})", ""]
    note = blocked_note(blocked, guards)
    if note:
        out += [f"**{note[0].capitalize()}:** {note[1]}.", ""]
    out += ["| | before | after | change |", "| --- | ---: | ---: | ---: |",
            f"| monthly run-rate | {a(money.recurring_before)} | {a(money.recurring_after)} "
            f"| {a(money.delta, True)} |",
            *(f"| from {month} | | | {a(delta, True)} a month |"
              for month, delta in money.turns()),
            f"| one-off charges | | | {a(money.one_off_added)} added, "
            f"{a(money.one_off_removed)} removed |"]
    if money.retroactive:
        out.append(f"| **{RETRO}** (next bill run) | | | {a(money.retroactive, True)} |")
    out += [f"| customers affected | | | {len(money.customers)} |", ""]
    if money.moves_money_now:
        out += [f"**{MOVES}:** " + ", ".join(f"`{x}`" for x in money.moves_money_now), ""]
    if money.cohorts:
        shown = money.cohorts[:MARKDOWN_CUSTOMERS]
        out += ["Price cohorts touched (plan at the monthly price paid):", ""]
        out += [f"- {c.describe(money.amount)}" for c in shown]
        if len(money.cohorts) > len(shown):
            out.append(f"- {len(money.cohorts) - len(shown)} more: see `flexctl plan "
                       "--format json`")
        out.append("")
    if money.customers:
        out += _customer_table(money, {c.address: c for c in changes}, symbols)
    return out


def _customer_table(money: MoneySummary, changes: Mapping[str, ChangeView],
                    symbols: Mapping[str, str]) -> list[str]:
    a = money.amount
    shown = money.customers[:MARKDOWN_CUSTOMERS]
    out = ["| customer, then its changes | monthly before | monthly after | one-off |",
           "| --- | ---: | ---: | ---: |"]
    for c in shown:
        out.append(f"| **`{c.address}`** | {a(c.monthly_before)} | {a(c.monthly_after)} "
                   f"| {a(c.one_off, True)} |")
        for address in c.changes[:CUSTOMER_CHANGES]:
            change = changes.get(address)
            effect = change.money if change is not None else None
            if change is None or effect is None:
                continue
            symbol = symbols.get(change.action, "")
            out.append(f"| ↳ `{symbol} {address}` | {a(effect.monthly_before)} "
                       f"| {a(effect.monthly_after)} | {a(effect.one_off, True)} |")
        if len(c.changes) > CUSTOMER_CHANGES:
            out.append(f"| ↳ {len(c.changes) - CUSTOMER_CHANGES} more changes | | | |")
    out.append("")
    if len(money.customers) > len(shown):
        out += [f"*{len(money.customers) - len(shown)} more customers: see `flexctl plan "
                "--format json` (or the HTML report) for all of them.*", ""]
    return out
