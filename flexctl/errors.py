"""Every error a flexctl user can see.

    FlexctlError                  base; `str(err)` is the one-line message shown to the user
    ├── UsageError                bad options or arguments (exit 64)
    ├── ConfigError               invalid configuration; carries located ConfigIssues (exit 1)
    ├── TargetError               the target cannot be used (org mismatch, no credentials)
    ├── SecretError               a secret reference cannot be read
    ├── ApiError                  the platform answered with an error
    │   ├── AuthError             401: bad credentials, expired token or a missing scope
    │   ├── NotFoundError         404
    │   │   └── NoRouteError      404/405 `Cannot PUT …`: the platform has no such route
    │   ├── RateLimitedError      429, after retries ran out
    │   ├── ValidationError       400: the request was rejected (message may be a list)
    │   ├── ServerError           5xx: often a business rule ("Specified plan was not found")
    │   └── MalformedAnswerError  an answer flexctl cannot use: not JSON, too large or too
    │       │                     deep, not the shape the request answers with
    │       └── InconsistentReadError  a list read that contradicts itself: an id or cursor
    │                             repeated, more objects than the collection counts
    ├── TransportError            the connection failed or timed out (outcome of a write unknown)
    ├── LockError                 another flexctl is writing to the same target (exit 1)
    ├── PlanError                 a plan cannot be made or a saved plan cannot be used
    │   └── StalePlanError        a saved plan no longer matches the live target (exit 3)
    └── ApplyError                apply finished with failed changes (exit 1)

Messages built from what the platform sent (bodies, headers, ids) pass `redaction.redact` and
`sanitize.for_terminal` here, so no error can show a known secret or a terminal control.
"""

from __future__ import annotations

from dataclasses import dataclass

from flexctl.redaction import redact
from flexctl.sanitize import for_terminal


def _shown(text: str) -> str:
    return for_terminal(redact(text))


class FlexctlError(Exception):
    """Base of every error flexctl shows to a user."""

    exit_code = 1


class UsageError(FlexctlError):
    exit_code = 64


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem in the configuration, located in its source file."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: str  # dotted path, e.g. "plans.hot-desk.price"
    message: str
    code: str = ""  # a warning's stable code ("FX103"); empty for an error

    def __str__(self) -> str:
        # A key may hold a control character (a "\r" key): one issue stays one line.
        where = f"{self.file}:{self.line}:{self.column}: {for_terminal(self.path) or '<root>'}"
        text = f"warning {self.code}: {self.message}" if self.code else self.message
        return f"{where}: {for_terminal(text)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "severity": "warning" if self.code else "error",
            "code": self.code or None,
        }


class ConfigError(FlexctlError):
    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class TargetError(FlexctlError):
    pass


class SecretError(FlexctlError):
    pass


class ApiError(FlexctlError):
    """The platform answered with an error status."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        message: str | list[str],
        hint: str | None = None,
        *,
        outcome_unknown: bool = False,
    ) -> None:
        self.method = method
        self.path = path  # without host and query: "/api/v2/organizations/acme/plans/<id>"
        self.status = status
        self.platform_message: str | list[str] = (
            [_shown(m) for m in message] if isinstance(message, list) else _shown(message)
        )
        self.hint = hint
        # A write that may have been applied although it failed (a POST answered 5xx): the
        # caller settles it by looking the object up by natural key, never by re-sending.
        self.outcome_unknown = outcome_unknown
        text = "; ".join(message) if isinstance(message, list) else message
        line = f"{method} {path}: {status} {text}"
        super().__init__(_shown(f"{line} ({hint})" if hint else line))


class AuthError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class NoRouteError(NotFoundError):
    """The platform has no route for this method and path (NestJS's `Cannot PUT /…`, or a
    405), unlike a 404 `Item with Id (…)` for an object that is gone."""


class RateLimitedError(ApiError):
    pass


class ValidationError(ApiError):
    pass


class ServerError(ApiError):
    pass


class MalformedAnswerError(ApiError):
    """The platform answered, but with nothing flexctl can rely on.

    Raised instead of acting on it: a list read that cannot be trusted must never lead to a
    plan that deletes what the read missed. `status` is the answer's (usually 200).
    """


class InconsistentReadError(MalformedAnswerError):
    """A list read that contradicts itself; `collection` names what was being read."""

    def __init__(self, method: str, path: str, status: int, message: str, *,
                 collection: str) -> None:
        self.collection = collection
        super().__init__(method, path, status, f"the read of {collection} is not consistent: "
                         f"{message}")


class TransportError(FlexctlError):
    """The request may or may not have reached the platform."""

    def __init__(
        self, method: str, path: str, reason: str, *, outcome_unknown: bool = False
    ) -> None:
        self.method = method
        self.path = path
        self.reason = _shown(reason)  # names the host: "cannot connect to https://…: refused"
        # True for a write whose request may have reached the platform (see ApiError).
        self.outcome_unknown = outcome_unknown
        suffix = " (the change may or may not have been made)" if outcome_unknown else ""
        super().__init__(_shown(f"{method} {path}: {reason}{suffix}"))


class LockError(FlexctlError):
    """Another flexctl holds the target's lock; the message names the holder."""


class PlanError(FlexctlError):
    pass


class StalePlanError(PlanError):
    exit_code = 3


class ApplyError(FlexctlError):
    pass
