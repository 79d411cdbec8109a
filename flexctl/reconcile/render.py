"""Renderings of a plan, each returned as a string: text for terminals, markdown for pull-request
comments, JSON for scripts (SPEC section 3). Secrets show as `(sensitive)` in every one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import click

from flexctl import __version__
from flexctl.kinds import count_of
from flexctl.kinds.money import NO_EFFECT
from flexctl.reconcile.manual import confirm_command
from flexctl.reconcile.money import MoneySummary
from flexctl.reconcile.plan import (
    ACTIONS,
    SENSITIVE,
    Change,
    Plan,
    is_safety_notice,
    is_unverified,
    jsonable,
    sensitive_fields,
)
from flexctl.reconcile.render_money import money_line, money_markdown, money_text
from flexctl.sanitize import for_markdown, for_terminal

# 1.1 added `money` (the plan's and each change's) and `confirmed`; 1.2 `money.cohorts` (the
# price cohorts the plan touches) and `money.timeline` (the next 12 months' run-rate); minor
# versions only add fields.
FORMAT_VERSION = "1.2"
SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "manual": "!",
           "blocked": "x"}
COLORS = {"create": "green", "update": "yellow", "delete": "red", "replace": "magenta",
          "manual": "cyan", "blocked": "red"}
NO_CHANGES = "No changes. The live organization matches the configuration."
NO_DRIFT = "No drift. The live organization matches the configuration."
MARKDOWN_BUDGET = 50_000  # characters of per-kind sections; leaves room for the rest


# --- JSON --------------------------------------------------------------------------------------


def plan_data(plan: Plan) -> dict[str, Any]:
    """The plan as the JSON document of SPEC section 3."""
    summary: dict[str, Any] = dict(plan.summary)
    summary["unmanaged"] = dict(plan.unmanaged)
    money = plan.money
    changes = [change.data for change in plan.changes]
    if money is not None:
        for change, entry in zip(plan.changes, changes, strict=True):
            entry["money"] = (change.money or NO_EFFECT).data(money.digits)
    return {
        "format_version": FORMAT_VERSION,
        "flexctl_version": __version__,
        "target": jsonable(plan.target),
        "config_digest": plan.config_digest,
        "live_digest": plan.live_digest,
        "summary": summary,
        "money": money.data() if money is not None else None,
        "changes": changes,
        "confirmed": [c.data() for c in plan.confirmed.values()],
        "notes": list(plan.notes),
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_data(plan), indent=2, ensure_ascii=False) + "\n"


# --- shared pieces -----------------------------------------------------------------------------


def blocked_counts(plan: Plan) -> tuple[int, int]:
    """(blocked changes, safety and money guards blocking the plan)."""
    guards = sum(1 for change in plan.changes if is_safety_notice(change))
    return plan.summary["blocked"] - guards, guards


def summary_line(plan: Plan, *, drift: bool = False) -> str:
    counts = plan.summary
    body = (
        f"{counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['replace']} to replace, "
        f"{counts['manual']} manual, {counts['blocked']} blocked."
    )
    return f"Drift detected: {body}" if drift else f"Plan: {body}"


def value_text(name: str, value: Any) -> str:
    """A field value in a diff line: strings quoted, amounts exact, secrets masked."""
    if name in sensitive_fields():
        return SENSITIVE
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(value_text(name, v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _field_lines(change: Change) -> Iterator[str]:
    # A create (or an unverified object) shows its set fields; a removal the live ones.
    whole = change.after if not change.before else change.before if not change.after else None
    if whole is not None:
        for name in sorted(whole, key=lambda n: (n != "name", n)):  # the name first
            if whole[name] is not None:
                yield f"{name}: {value_text(name, whole[name])}"
        return
    for name in change.changed_paths:
        before = value_text(name, change.before.get(name))
        after = value_text(name, change.after.get(name))
        yield f"{name}: {before} -> {after}"
    if change.unchanged_fields:
        plural = "field" if change.unchanged_fields == 1 else "fields"
        yield f"({change.unchanged_fields} unchanged {plural} hidden)"


def change_lines(
    change: Change, step: int | None = None, money: MoneySummary | None = None
) -> list[str]:
    """A change as plain lines: the symbol and address, its reason, its money, then its
    fields. Text from the platform or the config is made inert (`for_terminal`): no escape
    sequence, control or bidi override in a name reaches a terminal or a log."""
    lines = [f"{SYMBOLS[change.action]:<3} {change.address}"]
    reason = change.reason
    if step is not None:
        reason = f"{reason} (manual step {step})" if reason else f"manual step {step}"
    if reason:
        lines.append(f"      # {reason}")
    line = money_line(change.money, money.digits, money.currency) if money else None
    if line:
        lines.append(f"      {line}")
    if not is_safety_notice(change):
        lines.extend(f"      {line}" for line in _field_lines(change))
    return [for_terminal(line) for line in lines]


def _steps(plan: Plan) -> dict[str, int]:
    numbered = [c for c in plan.changes if c.instructions]
    return {c.address: i for i, c in enumerate(numbered, 1)}


def _unmanaged_text(unmanaged: Mapping[str, int]) -> str:
    return ", ".join(count_of(kind, count) for kind, count in unmanaged.items())


def _header(plan: Plan, drift: bool, inert: Callable[[str], str] = for_terminal) -> str:
    target = plan.target
    what = "Drift check" if drift else "Plan"
    return (
        f"{what} for organization {inert(str(target.get('org')))} on "
        f"{inert(str(target.get('api_url')))} (profile {target.get('profile')})"
    )


# --- text --------------------------------------------------------------------------------------


def render_text(
    plan: Plan, *, color: bool = False, drift: bool = False, config_path: str | None = None
) -> str:
    """Terraform-like text: symbols, field-level diffs, manual checklist, one summary line.

    `config_path` is the configuration's path as the user gave it, for the `flexctl confirm`
    commands of manual steps only a person can confirm."""
    out = [_header(plan, drift), ""]
    if plan.empty:
        out.append(NO_DRIFT if drift else NO_CHANGES)
    steps = _steps(plan)
    for change in plan.changes:
        lines = change_lines(change, steps.get(change.address), plan.money)
        if color:
            lines[0] = click.style(lines[0], fg=COLORS[change.action],
                                   bold=change.action == "blocked")
        out.extend(f"  {line}" for line in lines)
    if steps:
        out += ["", "Manual steps (the target's API cannot make these; do them by hand):"]
        for change in plan.changes:
            if (i := steps.get(change.address)) and change.instructions:
                out.append(f"  {i}. {for_terminal(change.instructions)}")
                if is_unverified(change):
                    command = confirm_command(change.address, config_path)
                    out.append(f"     then: {for_terminal(command)}")
    if plan.confirmed:
        out += ["", "Confirmed by hand (flexctl confirm; the target cannot read them):"]
        out += [for_terminal(f"  {a}: {c.describe()}") for a, c in plan.confirmed.items()]
    if plan.unmanaged:
        out += ["", f"Unmanaged (not in the configuration, left untouched): "
                    f"{_unmanaged_text(plan.unmanaged)}."]
    if plan.notes:
        out += ["", *(f"  {for_terminal(note)}" for note in plan.notes)]
    if not plan.empty:
        line = summary_line(plan, drift=drift)
        out += ["", click.style(line, bold=True) if color else line]
        if plan.money is not None:
            out += ["", *money_text(plan.money, *blocked_counts(plan))]
    return "\n".join(out) + "\n"


# --- markdown ----------------------------------------------------------------------------------


def render_markdown(
    plan: Plan, *, drift: bool = False, config_path: str | None = None
) -> str:
    """For pull-request comments: a summary table, one collapsible section per kind, and the
    manual steps as a task list (with the `flexctl confirm` command of those only a person
    can confirm)."""
    out = [f"### {_header(plan, drift, for_markdown)}", ""]
    if plan.empty:
        out += [NO_DRIFT if drift else NO_CHANGES]
        out += _confirmed_markdown(plan)
        if plan.unmanaged:
            out += ["", f"Unmanaged (left untouched): {_unmanaged_text(plan.unmanaged)}."]
        return "\n".join(out) + "\n"
    counts = plan.summary
    out += [f"**{summary_line(plan, drift=drift)}**", ""]
    money: list[str] = []
    if plan.money is not None:  # money first: it is what a reviewer approves
        money = [*money_markdown(plan.money, plan.changes, SYMBOLS, *blocked_counts(plan)),
                 "#### Changes", ""]
    out += money
    out += ["| " + " | ".join(ACTIONS) + " | unmanaged |",
            "|" + " ---: |" * (len(ACTIONS) + 1),
            "| " + " | ".join(str(counts[a]) for a in ACTIONS)
            + f" | {sum(plan.unmanaged.values())} |", ""]
    steps = _steps(plan)
    kinds: dict[str, list[Change]] = {}
    for change in plan.changes:
        kinds.setdefault(change.kind, []).append(change)
    size, left_out = sum(len(line) + 1 for line in money), []  # the money shares the budget
    for kind, changes in kinds.items():
        section = _kind_section(kind, changes, steps, plan.money)
        size += sum(len(line) + 1 for line in section)
        if size > MARKDOWN_BUDGET:  # a pull-request comment holds at most 65,536 characters
            left_out.append(f"{len(changes)} {kind}")
            continue
        out += section
    if left_out:
        out += [f"*Not shown to fit a comment: changes to {', '.join(left_out)}; see "
                "`flexctl plan` for the full plan.*", ""]
    if steps:
        out += ["#### Manual steps", ""]
        out += [_task(i, c, config_path) for c in plan.changes
                if (i := steps.get(c.address)) and c.instructions]
        out.append("")
    out += _confirmed_markdown(plan)
    if plan.unmanaged:
        out += [f"Unmanaged (left untouched): {_unmanaged_text(plan.unmanaged)}.", ""]
    if plan.notes:
        out += ["#### Repricing", "", "```", *plan.notes, "```", ""]
    return "\n".join(out)


def _task(number: int, change: Change, config_path: str | None) -> str:
    """One manual step as a task-list item: where in the portal and what, then how to
    record it as done (a confirm command, or the next plan, which reads it)."""
    # Names come from the platform: no link, HTML, table or code of theirs may take effect.
    text = for_markdown(change.instructions or "")
    if is_unverified(change):
        done = f"Then: {_code(confirm_command(change.address, config_path))}"
    else:
        done = "The next plan verifies it."
    return f"- [ ] {number}. {_code(change.address)}: {text} {done}"


def _code(text: str) -> str:
    """`text` as a code span; as escaped text when it could end the span (a backtick)."""
    return f"`{text}`" if "`" not in text and text.isprintable() else for_markdown(text)


def _confirmed_markdown(plan: Plan) -> list[str]:
    if not plan.confirmed:
        return []
    lines = ["", "Confirmed by hand (`flexctl confirm`; the target cannot read them):", ""]
    lines += [f"- [x] {_code(a)}: {for_markdown(c.describe())}"
              for a, c in plan.confirmed.items()]
    return [*lines, ""]


def _kind_section(
    kind: str, changes: list[Change], steps: Mapping[str, int], money: MoneySummary | None
) -> list[str]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    what = ", ".join(f"{counts[a]} {a}" for a in ACTIONS if a in counts)
    body = [line for c in changes for line in change_lines(c, steps.get(c.address), money)]
    fence = "````" if any("```" in line for line in body) else "```"
    return [f"<details><summary><b>{kind}</b>: {what}</summary>", "", f"{fence}diff", *body,
            fence, "", "</details>", ""]
