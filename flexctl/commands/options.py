"""The command-line options several commands share, and how their values are read.

- `target_options`: `--api-url --org --token-url --read-rate --write-rate`, given to the command
  as one `target_opts: TargetOptions`; `refresh_option` (above it) adds `--refresh` to them;
- `kind_options`: `--target-kinds --exclude-kinds`, given as `kinds: list[str] | None`;
- `format_option(...)`: `--format`;
- `as_of_option` (`dated_option(help)` with other words): `--as-of DATE`, given as
  `as_of: date | None`;
- `use_color()`: whether stdout gets colours.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar, cast

import click

from flexctl.errors import UsageError
from flexctl.kinds import names as kind_names
from flexctl.platform.environ import API_URL_ENV, ORG_ENV, TOKEN_URL_ENV
from flexctl.platform.pacing import Rate
from flexctl.platform.target import TargetOptions

F = TypeVar("F", bound=Callable[..., Any])
PLAN_FORMATS = ("text", "json", "markdown")


def _check_rate(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        Rate.parse(value)  # a bad rate is a usage error (exit 64) before anything runs
    return value


def _stack(fn: Any, options: Sequence[Callable[[Any], Any]]) -> Any:
    for option in reversed(options):
        fn = option(fn)
    return fn


def target_options(fn: F) -> F:
    """Add the target options; the command receives them as `target_opts: TargetOptions`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        names = ("api_url", "org", "token_url", "read_rate", "write_rate")
        opts = TargetOptions(**{name: kwargs.pop(name) for name in names},
                             refresh=kwargs.pop("refresh", False))
        return fn(*args, target_opts=opts, **kwargs)

    return cast(F, _stack(wrapper, [
        click.option("--api-url", metavar="URL",
                     help=f"local (default), local:FILE or an http(s) API base [{API_URL_ENV}]"),
        click.option("--org", metavar="SLUG",
                     help=f"organization slug; defaults to the config's [{ORG_ENV}]"),
        click.option("--token-url", metavar="URL", help=f"OAuth2 token endpoint [{TOKEN_URL_ENV}]"),
        click.option("--read-rate", metavar="RATE", callback=_check_rate,
                     help="client-side read limit, e.g. 400/min [FLEXCTL_READ_RATE]"),
        click.option("--write-rate", metavar="RATE", callback=_check_rate,
                     help="client-side write limit, e.g. 100/min [FLEXCTL_WRITE_RATE]"),
    ]))


def refresh_option(fn: F) -> F:
    """Add `--refresh` to a command that reads the organization; place it above
    `target_options`, which hands it over in `TargetOptions.refresh`."""
    return click.option(
        "--refresh", is_flag=True,
        help="read every kind in full instead of only what changed since the last read "
             "(the snapshot cache), and a configuration from its files, not from the cache")(fn)


def kind_options(fn: F) -> F:
    """Add `--target-kinds/--exclude-kinds`; the command receives `kinds: list[str] | None`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kinds = parse_kinds(kwargs.pop("target_kinds"), kwargs.pop("exclude_kinds"))
        return fn(*args, kinds=kinds, **kwargs)

    return cast(F, _stack(wrapper, [
        click.option("--target-kinds", metavar="K,..",
                     help="comma-separated kinds to plan (default: all)"),
        click.option("--exclude-kinds", metavar="K,..", help="comma-separated kinds to leave out"),
    ]))


def format_option(
    choices: Sequence[str], help: str | None = None, short: str | None = None
) -> Callable[[F], F]:
    """`--format` (and `short`, e.g. `-f`, where a command offers it)."""
    names = (short, "--format") if short else ("--format",)
    return click.option(*names, "fmt", type=click.Choice(list(choices)), default=choices[0],
                        show_default=True, help=help)


# Generic in newer click (8.2+): subscripting it would fail on the 8.1 flexctl accepts.
class DateType(click.ParamType):  # type: ignore[type-arg]
    """A calendar date written YYYY-MM-DD; one that does not exist (2027-02-30) is named so."""

    name = "date"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.fail(f"{text!r} is not a date written YYYY-MM-DD", param, ctx)
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a calendar day", param, ctx)


def as_of_option(fn: F) -> F:
    """Add `--as-of DATE`; the command receives `as_of: date | None` (None: today)."""
    return dated_option("the date of the money summary's run-rate (YYYY-MM-DD; default "
                        "today); a later one is also the day notice periods count from")(fn)


def dated_option(help: str) -> Callable[[F], F]:
    """`--as-of DATE` with the command's own words for what the date is."""
    return click.option("--as-of", "as_of", type=DateType(), metavar="DATE", help=help)


def parse_kinds(target_kinds: str | None, exclude_kinds: str | None, *,
                option: str = "--target-kinds") -> list[str] | None:
    """`--target-kinds` / `--exclude-kinds` as the kinds to plan; None means every kind.

    Unknown names are a usage error (exit 64) naming the valid ones and `option` (the name
    the command gives its `--target-kinds`).
    """
    known = kind_names()
    # An empty value is a mistake (an unset shell variable), not "every kind".
    chosen = _names(target_kinds, known, option) if target_kinds is not None else None
    excluded = _names(exclude_kinds, known, "--exclude-kinds") if exclude_kinds is not None else []
    if chosen is None and not excluded:
        return None
    selected = [k for k in (chosen or known) if k not in excluded]
    if not selected:
        raise UsageError("--target-kinds/--exclude-kinds leave no kind to plan")
    return selected


def _names(text: str, known: Sequence[str], option: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise UsageError(
            f"{option}: unknown kind {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"kinds are: {', '.join(known)}"
        )
    return names


def use_color() -> bool:
    """Colours only on a terminal that shows them: never with `--no-color`, when NO_COLOR is
    set (https://no-color.org) or on a dumb terminal (TERM=dumb, as in Emacs shells)."""
    ctx = click.get_current_context(silent=True)
    settings = ctx.find_object(dict) if ctx is not None else None
    if settings and settings.get("no_color"):
        return False
    return (sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")
