"""One redactor: known secret values are replaced by their fingerprint wherever text goes out.

A secret is registered the moment flexctl learns it (the client secret, every access token,
each config secret as it is read); from then on `redact` replaces it in any text, also in its
JSON-escaped and URL-encoded forms (a token endpoint echoing a form, a 400 body quoting a key).
The log filter and the stream wrapper below apply it to logs, stdout/stderr and files.

Where the value is not known but the field is (`client_secret=…` in a form, `"apiKey": …` in a
body), `redact_fields`/`redact_url`/`redact_headers` hide it by its name.

This module imports nothing from flexctl: every layer, the error classes included, may use it.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import logging

FINGERPRINT_PREFIX = "…"
# A shorter value would mask ordinary words and numbers wherever they appear ("admin", "2026"),
# and its fingerprint (the last four characters) would show most or all of it anyway.
MIN_SECRET_LENGTH = 6
REDACTED = "(redacted)"


def fingerprint_of(value: str) -> str:
    """What flexctl shows of a secret: `…` and its last four characters, as the platform does."""
    return FINGERPRINT_PREFIX + value[-4:]


# --- known values -----------------------------------------------------------------------------

_lock = threading.Lock()
_forms: dict[str, str] = {}  # a form a secret may be written in -> the secret's fingerprint
_longest_first: list[str] = []  # the forms, longest first (a form may contain a shorter one)


# A key made from a platform name (`acme-sk-test-4242` from "Acme sk_test_4242"): lowercase,
# every run of other characters one dash, as flexctl's slugs are made.
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def _forms_of(value: str) -> set[str]:
    escaped = json.dumps(value)[1:-1]  # as a JSON string shows it, escapes and \uXXXX included
    slug = _NON_SLUG.sub("-", value.lower()).strip("-")
    return {
        *([slug] if len(slug) >= MIN_SECRET_LENGTH else []),
        value,
        escaped,
        json.dumps(escaped)[1:-1],  # a JSON body quoted in a JSON message, logged as JSON
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),  # in a URL or a query string
        quote(value),
        quote_plus(value),  # in a form-encoded body
    }


def register(value: str | None) -> None:
    """Remember a secret so `redact` hides it from now on (shorter values are ignored, and
    blanks do not count: a secret of spaces would mask every indent)."""
    if not value or len(value.strip()) < MIN_SECRET_LENGTH:
        return
    global _longest_first
    with _lock:
        if value in _forms:
            return
        fingerprint = fingerprint_of(value)
        for form in _forms_of(value):
            _forms.setdefault(form, fingerprint)
        _longest_first = sorted(_forms, key=len, reverse=True)


def forget_all() -> None:
    """Forget every registered secret (for tests that check what is registered)."""
    global _longest_first
    with _lock:
        _forms.clear()
        _longest_first = []


def redact(text: str) -> str:
    """`text` with every registered secret, in any of its forms, replaced by its fingerprint."""
    # A substring test per form is C-speed and beats one big regex for the few dozen secrets
    # a run knows (and the hundreds of tokens a test session registers).
    for form in _longest_first:
        # `while`: replacing "abcabc" in "abcabcabc" leaves "…cabcabc"; a fingerprint is
        # shorter than any form, so the text shrinks each time.
        while form in text:
            text = text.replace(form, _forms[form])
    return text


def clipped(text: str, head: int, tail: int = 0) -> str:
    """`text` redacted, then cut to its first `head` characters, `…` and its last `tail`:
    redaction comes first, as a secret cut in two is no longer recognised (and its first part
    plus the fingerprint shown elsewhere would give all of it)."""
    text = redact(text)
    if len(text) <= head + tail + 1:
        return text
    return text[:head] + "…" + (text[-tail:] if tail else "")


def shown(value: object) -> str:
    """A value as a message quotes it: its repr, redacted, and cut to 40 characters (one line:
    repr escapes every line break)."""
    return clipped(repr(value), 36, 3)


class RedactingFilter:
    """Redacts each record's message. On a handler it sees every record the handler writes;
    on a logger, only the records of that very logger (not of its children). Logging takes any
    object with a `filter(record)` method, so this module need not import `logging`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when formatting
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingStream(io.TextIOBase):
    """A text stream that writes through `redact`, e.g. `sys.stderr = RedactingStream(sys.stderr)`
    or a journal file.

    Text is passed on a line at a time, so a secret written in two pieces is still found; a
    partial line goes out on `flush()` (a prompt) or once it grows past `HOLD_LIMIT`.
    `close()` flushes but leaves the wrapped stream open: its owner closes it.
    """

    HOLD_LIMIT = 64 * 1024

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self._pending = ""
        self._lock = threading.Lock()

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def write(self, text: str | bytes) -> int:
        if isinstance(text, bytes):  # click echoes bytes (shell completion) to a text stream
            text = text.decode(self.encoding or "utf-8", "replace")
        with self._lock:
            pending = self._pending + text
            cut = pending.rfind("\n") + 1
            if cut == 0 and len(pending) > self.HOLD_LIMIT:
                cut = len(pending)
            if cut:
                self._stream.write(redact(pending[:cut]))
            self._pending = pending[cut:]
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._stream.write(redact(self._pending))
                self._pending = ""
        self._stream.flush()

    def close(self) -> None:
        if not self.closed:
            self.flush()
        super().close()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stream.errors


# --- known field names ------------------------------------------------------------------------

_SECRET_KEY = re.compile(r"secret|token|password|authorization|api[-_]?key|cookie", re.I)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact_fields(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-looking field's value replaced."""
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(str(k)) else redact_fields(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_fields(v) for v in value]
    return value


def redact_url(url: str) -> str:
    """The URL with secret-looking query parameters and any userinfo removed."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [(k, REDACTED if is_secret_key(k) else v) for k, v in parse_qsl(parts.query, True)],
        safe="$,[]:()",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: REDACTED if is_secret_key(k) else v for k, v in headers}
