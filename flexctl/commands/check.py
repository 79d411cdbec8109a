"""`flexctl check [PATH]`: the "ready to get paid" checklist against the live target (SPEC 6).

Exit codes: 0 every step ready (steps the target cannot show do not count against it), 2 a step
is not ready or the smoke test's payment was declined, 1 an error (a smoke-test step failing
included, or its cleanup leaving something behind), 64 usage. With `--format json` stdout
carries only the JSON document.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from flexctl.commands.helptext import INTERRUPTED, USAGE, Command
from flexctl.commands.options import format_option, refresh_option, target_options
from flexctl.commands.readprogress import ReadProgress
from flexctl.config.currency import minor_units
from flexctl.errors import UsageError
from flexctl.platform.target import TargetOptions
from flexctl.readiness.checklist import Readiness, render_steps, summary
from flexctl.readiness.smoke import Outcome, SmokeResult, SmokeStep
from flexctl.sanitize import for_terminal
from flexctl.session import Session

MAX_SMOKE_AMOUNT = Decimal(100)  # "a small charge": a typo must not charge a real card 1000


def _amount(ctx: click.Context, param: click.Parameter, value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not an amount such as 1.00") from None
    if not amount.is_finite() or not Decimal(0) < amount <= MAX_SMOKE_AMOUNT:
        raise click.BadParameter(f"must be more than 0 and at most {MAX_SMOKE_AMOUNT}")
    return amount


def run_check(
    path: str, target_opts: TargetOptions, smoke: bool, amount: Decimal, card: str
) -> tuple[Readiness, SmokeResult | None, list[str]]:
    """Read the target, run the checklist and, when asked, the smoke test."""
    with Session.open(path, target_opts, progress=ReadProgress()) as session:
        currency = session.config.currency
        if smoke and amount != amount.quantize(Decimal(1).scaleb(-minor_units(currency))):
            raise UsageError(f"--amount {amount} has more digits than {currency} allows")
        result, snapshot = session.readiness()
        outcome = None
        if smoke:
            outcome = session.smoke_test(snapshot, amount=amount, card=card,
                                         progress=_show_step)
    return result, outcome, session.secrets.warnings


def _show_step(step: SmokeStep) -> None:
    """Each step on stderr as it happens: after a Ctrl-C the report never reaches stdout, but
    what was cleaned up (or left behind) has been said."""
    prefix = "cleanup: " if step.name == "cleanup" else ""
    failed = "" if step.ok else "FAILED: "
    click.echo(f"smoke test: {prefix}{failed}{for_terminal(step.message)}", err=True)


def exit_code(result: Readiness, smoke: SmokeResult | None) -> int:
    if smoke is not None and (smoke.outcome is Outcome.FAILED or smoke.left_behind):
        return 1  # a test member left on the live organization is not a clean pass
    if not result.ready or (smoke is not None and smoke.outcome is Outcome.DECLINED):
        return 2
    return 0


def render_text(result: Readiness, smoke: SmokeResult | None) -> str:
    target = result.target
    lines = [f"Readiness of {target.get('org')} on {target.get('api_url')} "
             f"(profile {target.get('profile')})", ""]
    lines += render_steps(result.steps)
    lines += ["", summary(result.steps)]
    if smoke is not None:
        lines += ["", f"Smoke test ({smoke.charge}):" if smoke.charge else "Smoke test:"]
        lines += [f"  {'ok' if s.ok else 'FAILED'}: {s.message}" for s in smoke.steps]
        lines += [f"  cleanup {'ok' if s.ok else 'FAILED'}: {s.message}" for s in smoke.cleanup]
        lines.append(_smoke_line(smoke))
    return "\n".join(for_terminal(line) for line in lines) + "\n"  # platform text: no escapes


def _smoke_line(smoke: SmokeResult) -> str:
    left = (f" Left behind (remove by hand): {', '.join(smoke.left_behind)}."
            if smoke.left_behind else " Nothing was left behind.")
    if smoke.outcome is Outcome.NOT_RUN:
        return f"Smoke test not run: {smoke.reason}. Nothing was written."
    if smoke.outcome is Outcome.PASSED:
        return "Smoke test passed: a payment clears." + left
    if smoke.outcome is Outcome.DECLINED:
        return f"Smoke test: {(smoke.reason or '').rstrip('.')}." + left
    return f"Smoke test failed: {(smoke.reason or '').rstrip('.')}." + left


def render_json(result: Readiness, smoke: SmokeResult | None) -> str:
    data: dict[str, Any] = {
        "target": dict(result.target),
        "ready": result.ready,
        "steps": [s.as_dict() for s in result.steps],
        "smoke_test": None,
    }
    if smoke is not None:
        data["smoke_test"] = {
            "outcome": smoke.outcome.value,
            "charge": smoke.charge,
            "reason": smoke.reason,
            "steps": [vars(s) for s in smoke.steps],
            "cleanup": [vars(s) for s in smoke.cleanup],
            "left_behind": smoke.left_behind,
        }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@click.command("check", cls=Command, examples=[
    ("The checklist for the configuration in the current directory", "flexctl check"),
    ("Also charge 1.00 to a tagged test member, then remove everything it made",
     "flexctl check --smoke-test"),
    ("A declined card, to see how a failed payment reads",
     "flexctl check --smoke-test --card tok_chargeDeclined"),
], exit_codes=[
    (0, "every step ready (steps the target cannot show do not count against it); the "
        "smoke test, if asked for, passed or could not run"),
    (1, "an error, a failing smoke-test step, or a cleanup that left something behind"),
    (2, "a step is not ready, or the smoke test's payment was declined"),
    USAGE, INTERRUPTED,
])
@click.argument("path", default=".", type=click.Path(path_type=str))
@format_option(("text", "json"), help="text for people, json for scripts")
@click.option("--smoke-test", "smoke", is_flag=True,
              help="also charge a small amount to a tagged test member, then clean up")
@click.option("--amount", default="1.00", show_default=True, callback=_amount, metavar="AMOUNT",
              help="the smoke test's charge, in the config's currency")
@click.option("--card", default="tok_visa", show_default=True, metavar="TOKEN",
              help="the smoke test's card: a Stripe test token (tok_visa, tok_chargeDeclined, ...)")
@refresh_option
@target_options
def command(
    path: str, fmt: str, smoke: bool, amount: Decimal, card: str, target_opts: TargetOptions
) -> int:
    """Check what still stands between the organization and its first payment.

    Six steps against the live target and the configuration: a payment gateway, services,
    customers, the bill run, invoicing automation and the storefront. Each is ready, not
    ready (with what is missing and the exact fix) or cannot be verified on this target (with
    where to look in the admin portal). Nothing is written, unless --smoke-test is given.
    """
    result, smoke_result, warnings = run_check(path, target_opts, smoke, amount, card)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if fmt == "json":
        click.echo(render_json(result, smoke_result), nl=False)
    else:
        click.echo(render_text(result, smoke_result), nl=False)
    return exit_code(result, smoke_result)
