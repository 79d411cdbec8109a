"""`flexctl doctor [PATH]`: check, by reading only, what flexctl needs of a target; the first
command to run against a real organization.

The organization is `--org`, else `FLEXCTL_ORG`, else the `organization` of the configuration
at PATH (default `.`; it need not be valid, or exist). Exit codes: 0 every check ok (or skipped),
2 a warning, 1 a failure (or an error before any check), 64 usage. With `--format json` stdout
carries only the JSON document.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from flexctl.commands.helptext import USAGE, Command
from flexctl.commands.options import format_option, target_options
from flexctl.config.loader import peek
from flexctl.platform.environ import ORG_ENV
from flexctl.platform.target import TargetOptions
from flexctl.readiness.doctor import FAIL, OK, SKIP, WARN, Diagnosis
from flexctl.sanitize import for_terminal
from flexctl.session import Session
from flexctl.wording import counted

LABELS = {OK: "ok", SKIP: "skipped", WARN: "WARNING", FAIL: "FAILED"}


def render_text(diagnosis: Diagnosis) -> str:
    target = diagnosis.target
    profile = target.get("profile") or "unknown: no answer told it"
    lines = [f"Doctor for organization {target.get('org')} on {target.get('api_url')} "
             f"(profile {profile})", ""]
    for check in diagnosis.checks:
        lines.append(f"  {LABELS[check.status]:<8} {check.title}")
        lines += [f"             {detail}" for detail in check.details]
        if check.fix:
            lines.append(f"             fix: {check.fix}")
    counts = {status: sum(c.status == status for c in diagnosis.checks) for status in LABELS}
    lines += ["", f"Doctor: {counts[OK]} ok, {counted(counts[WARN], 'warning')}, "
                  f"{counted(counts[FAIL], 'failure')}, {counts[SKIP]} skipped."]
    # Platform text (names, error bodies) is shown inert.
    return "\n".join(for_terminal(line) for line in lines) + "\n"


def render_json(diagnosis: Diagnosis) -> str:
    data = {"target": dict(diagnosis.target), "checks": [c.as_dict() for c in diagnosis.checks],
            "exit_code": diagnosis.exit_code()}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@click.command("doctor", cls=Command, examples=[
    ("The real organization, with credentials in the environment",
     "flexctl doctor --org my-space --api-url https://app.officernd.com/api/v2"),
    ("As JSON, for a script", "flexctl doctor config --format json"),
], exit_codes=[
    (0, "every check ok (or skipped: nothing to look at)"),
    (1, "a check failed (or an error before any check)"),
    (2, "a warning"),
    USAGE,
])
@click.argument("path", default=".", type=click.Path(path_type=Path))
@format_option(("text", "json"), help="text for people, json for scripts")
@target_options
def command(path: Path, fmt: str, target_opts: TargetOptions) -> int:
    """Check, by reading only, what flexctl needs of the target: the first command against a
    real organization.

    The token and the scopes each command needs, the organization (and a regional host), each
    kind's list, paging by 50 with cursors, $select, the fields of each kind, modifiedAt
    filters, rate-limit headers, the account status, clock skew, and which variant of the
    platform's undocumented behaviours it shows. The organization is --org, else FLEXCTL_ORG,
    else the organization of the configuration at PATH (default: the current directory).
    """
    org = target_opts.org or os.environ.get(ORG_ENV) or peek(path, "organization")
    root = path if path.is_dir() else path.parent
    with Session.open(None, target_opts, org=org, root=root) as session:
        diagnosis = session.doctor()
    click.echo(render_json(diagnosis) if fmt == "json" else render_text(diagnosis), nl=False)
    return diagnosis.exit_code()
