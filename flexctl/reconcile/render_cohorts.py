"""The cohort report (`flexctl cohorts`) as text, markdown and JSON, each returned as a string.

Names and addresses come from the platform: they pass `for_terminal` or `for_markdown` before
they are shown. JSON amounts are strings with the currency's digits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from flexctl import __version__
from flexctl.reconcile.cohorts import Cohort, CohortReport, PlanCohorts
from flexctl.reconcile.plan import jsonable
from flexctl.sanitize import for_markdown, for_terminal

# 1.0: the first version; minor versions only add fields.
FORMAT_VERSION = "1.0"
LISTED = 5  # addresses listed under a cohort in text and markdown (JSON lists every one)
NONE_FOUND = "No recurring {plural} on the target."


def _count(n: int, report: CohortReport) -> str:
    return f"{n} {report.noun if n == 1 else report.plural}"


def _header(report: CohortReport, inert: Callable[[str], str]) -> str:
    target = report.target
    return (f"Cohorts for organization {inert(str(target.get('org')))} on "
            f"{inert(str(target.get('api_url')))} (profile {target.get('profile')})")


def _scope(report: CohortReport) -> str:
    return (f"{report.plural.capitalize()} active on {report.as_of}, grouped by plan and the "
            f"monthly price they pay (their own, else the plan's), in {report.currency}.")


def _apart(plan: PlanCohorts, report: CohortReport) -> str | None:
    parts = []
    if plan.ended:
        parts.append(f"{plan.ended} ended before {report.as_of}")
    if plan.future:
        parts.append(f"{plan.future} starting after {report.as_of}")
    return f"not in a cohort: {', '.join(parts)}" if parts else None


def _listed(addresses: Sequence[str]) -> str:
    shown = ", ".join(addresses[:LISTED])
    return f"{shown} and {len(addresses) - LISTED} more" if len(addresses) > LISTED else shown


def _total(report: CohortReport) -> str:
    cohorts = sum(len(p.cohorts) for p in report.plans)
    return (f"Total: {_count(report.count, report)}, {report.amount(report.revenue)} "
            f"{report.currency} a month, in {cohorts} cohort{'s' if cohorts != 1 else ''} "
            f"of {len(report.plans)} plan{'s' if len(report.plans) != 1 else ''}.")


def _unreadable(report: CohortReport) -> list[str]:
    return [f"Not read: {kind}: {why}" for kind, why in report.unreadable.items()]


# --- text ---------------------------------------------------------------------------------------


def render_text(report: CohortReport) -> str:
    out = [_header(report, for_terminal), _scope(report), ""]
    if not report.plans:
        out.append(NONE_FOUND.format(plural=report.plural))
    for plan in report.plans:
        out += [for_terminal(line) for line in _plan_text(plan, report)]
        out.append("")
    out += [*_unreadable(report), _total(report)]
    return "\n".join(out) + "\n"


def _plan_text(plan: PlanCohorts, report: CohortReport) -> list[str]:
    a = report.amount
    catalogue = f"catalogue price {a(plan.catalogue)}" if plan.catalogue is not None \
        else "catalogue price unknown"
    out = [f"{plan.plan} ({plan.label}): {catalogue}; {_count(plan.count, report)}, "
           f"{a(plan.revenue)} a month"]
    rows = [(a(c.monthly), "catalogue" if c.catalogue else "", _count(c.count, report),
             f"{a(c.revenue)} a month", f"oldest {c.oldest or '-'}",
             f"declared {c.declared}") for c in plan.cohorts]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(6)]
    for cohort, row in zip(plan.cohorts, rows, strict=True):
        cells = [row[0].rjust(widths[0]), *(cell.ljust(w) for cell, w in
                                            zip(row[1:], widths[1:], strict=True))]
        out.append("  " + "  ".join(cells).rstrip())
        out += [f"      {line}" for line in _cohort_notes(cohort)]
    if (apart := _apart(plan, report)) is not None:
        out.append(f"  {apart}")
    return out


def _cohort_notes(cohort: Cohort) -> list[str]:
    notes = [f"excepted by {campaign}: {len(found)} ({_listed(found)})"
             for campaign, found in cohort.excepted.items()]
    if cohort.undeclared:
        notes.append(f"undeclared: {len(cohort.undeclared)} ({_listed(cohort.undeclared)})")
    return notes


# --- markdown -----------------------------------------------------------------------------------


def render_markdown(report: CohortReport) -> str:
    out = [f"### {_header(report, for_markdown)}", "", _scope(report), ""]
    if not report.plans:
        return "\n".join([*out, NONE_FOUND.format(plural=report.plural), ""])
    out += [f"| plan | monthly price | {report.plural} | monthly revenue | oldest start "
            "| declared | excepted by |",
            "| --- | ---: | ---: | ---: | --- | ---: | --- |"]
    notes: list[str] = []
    for plan in report.plans:
        name = f"`{plan.plan}` {for_markdown(plan.label)}"
        for cohort in plan.cohorts:
            price = report.amount(cohort.monthly)
            price = f"**{price}** (catalogue)" if cohort.catalogue else price
            excepted = ", ".join(f"`{c}` ({len(found)})" for c, found in cohort.excepted.items())
            out.append(f"| {name} | {price} | {cohort.count} | {report.amount(cohort.revenue)} "
                       f"| {cohort.oldest or ''} | {cohort.declared} | {excepted} |")
            if cohort.undeclared:
                notes.append(f"- `{plan.plan}` at {report.amount(cohort.monthly)}: undeclared "
                             f"{', '.join(f'`{x}`' for x in cohort.undeclared[:LISTED])}"
                             + (f" and {len(cohort.undeclared) - LISTED} more"
                                if len(cohort.undeclared) > LISTED else ""))
        if (apart := _apart(plan, report)) is not None:
            notes.append(f"- `{plan.plan}`: {apart}")
    out += ["", *notes, *([""] if notes else [])]
    out += [*(f"{line}  " for line in _unreadable(report)), f"**{_total(report)}**", ""]
    return "\n".join(out)


# --- JSON ---------------------------------------------------------------------------------------


def report_data(report: CohortReport) -> dict[str, Any]:
    a = report.amount
    return {
        "format_version": FORMAT_VERSION,
        "flexctl_version": __version__,
        "target": jsonable(dict(report.target)),
        "currency": report.currency,
        "as_of": report.as_of.isoformat(),
        "count": report.count,
        "monthly_revenue": a(report.revenue),
        "by_plan": [
            {"plan": p.plan, "name": p.label, "catalogue_price": a(p.catalogue) or None,
             "count": p.count, "monthly_revenue": a(p.revenue), "ended": p.ended,
             "future": p.future,
             "cohorts": [
                 {"monthly_price": a(c.monthly), "catalogue": c.catalogue, "count": c.count,
                  "monthly_revenue": a(c.revenue),
                  "oldest_start": c.oldest.isoformat() if c.oldest else None,
                  "declared": c.declared, "undeclared": list(c.undeclared),
                  "excepted": {k: list(v) for k, v in c.excepted.items()},
                  "addresses": list(c.addresses)}
                 for c in p.cohorts]}
            for p in report.plans
        ],
        "unreadable": dict(report.unreadable),
    }


def render_json(report: CohortReport) -> str:
    return json.dumps(report_data(report), indent=2, ensure_ascii=False) + "\n"
