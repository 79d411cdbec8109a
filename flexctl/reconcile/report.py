"""The money report for finance reviewers (`flexctl plan --report FILE.html`): one self-contained
HTML page — no scripts, fonts, styles or images from the network — with the money summary, a
chart of the monthly run-rate by plan before and after (inline SVG), the customer table and the
full change list. Rendered with Jinja2 from the package's `templates/`; autoescaping is on,
text from the platform or the configuration also passes `sanitize.for_terminal` (nothing in it
can become markup or hide characters) and the page passes the redactor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from flexctl import __version__
from flexctl.errors import PlanError
from flexctl.fileio import write_atomic
from flexctl.kinds.money import NO_EFFECT, Effect
from flexctl.reconcile.money import MoneySummary
from flexctl.reconcile.plan import Plan, is_safety_notice
from flexctl.reconcile.render import SYMBOLS, blocked_counts, change_lines, summary_line
from flexctl.reconcile.render_money import MOVES, RETRO, blocked_note, figures
from flexctl.redaction import redact
from flexctl.sanitize import for_terminal

CHART_WIDTH = 760
LABEL_WIDTH = 190  # the plan names, left of the bars
BAR_SPACE = 430  # the longest bar; its value is written after it
ROW = 46  # two bars (before, after) and a gap

_ENV = Environment(
    loader=PackageLoader("flexctl.reconcile", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["shown"] = lambda value: for_terminal(str(value), multiline=True)


@dataclass(frozen=True)
class Bar:
    """One bar of the chart: where it is drawn and its label."""

    label: str  # the amount
    width: Decimal
    y: int

    @property
    def label_x(self) -> Decimal:
        return LABEL_WIDTH + self.width + 4


def chart(money: MoneySummary) -> list[tuple[str, Bar, Bar]]:
    """The run-rate by plan as (plan, before bar, after bar), widths scaled to the largest."""
    rows = money.by_plan
    top = max((max(before, after) for _, before, after in rows), default=Decimal(0))

    def bar(value: Decimal, y: int) -> Bar:
        scaled = value * BAR_SPACE / top if top else Decimal(0)
        return Bar(money.amount(value), scaled.quantize(Decimal("0.1"), ROUND_HALF_UP), y)

    return [(plan, bar(before, 26 + i * ROW), bar(after, 44 + i * ROW))
            for i, (plan, before, after) in enumerate(rows)]


def report_context(plan: Plan) -> dict[str, Any]:
    """What the template shows, computed here so the template only lays it out."""
    money = plan.money
    changes = [c for c in plan.changes if not is_safety_notice(c)]
    by_address = {c.address: c for c in changes}
    customers = []
    for customer in money.customers if money else ():
        rows = []
        for address in customer.changes:
            change = by_address.get(address)
            if change is not None and money is not None:
                effect = change.money or NO_EFFECT
                rows.append({"symbol": SYMBOLS[change.action], "address": address,
                             "figures": "; ".join(figures(effect, money.digits, money.currency)),
                             "note": effect.note})
        customers.append({"money": customer, "changes": rows})
    return {
        "plan": plan,
        "money": money,
        "version": __version__,
        "summary_line": summary_line(plan),
        "blocked_note": blocked_note(*blocked_counts(plan)),
        "bars": chart(money) if money else [],
        "chart_width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "chart_height": 24 + ROW * len(money.by_plan) + 8 if money else 0,
        "customers": customers,
        "notices": [c for c in plan.changes if is_safety_notice(c)],
        "changes": [{"change": c, "lines": change_lines(c, money=money),
                     "moves": (c.money or NO_EFFECT).effect is Effect.NOW} for c in changes],
        "MOVES": MOVES,
        "RETRO": RETRO,
    }


def render_report(plan: Plan) -> str:
    return _ENV.get_template("report.html").render(report_context(plan))


def write_report(path: Path, plan: Plan) -> None:
    """Write the report atomically (redacted, like a plan file: a secret the platform echoed
    never lands in it); a clear error when the file cannot be written."""
    try:
        write_atomic(Path(path), redact(render_report(plan)))
    except OSError as exc:
        raise PlanError(f"cannot write the report {path}: {exc.strerror or exc}") from exc
