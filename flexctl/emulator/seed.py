"""Seed fixtures: live objects to load into a new organization (`--seed FILE`, JSON or YAML).

Shape: `{"<org>": {"plans": [{...API fields...}], "members": [...], "account": {"status":
"active"}, "billing-settings": {...}, "invoices": [{"memberships": [ids], "fees": [ids]}]}}`.
Objects go through the same validation and rules as API writes (in dependency order), in the
`full` profile's dialect whatever the emulator plays (what the admin UI can create, a seed can
hold); `_id` is optional. A seed is applied only to organizations the database does not have
yet, so restarting a server on the same database does not duplicate anything. The top-level key
`dialect` is not an organization: it holds dialect settings (`{"membership_price": "reject"}`),
applied when the emulator starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from flexctl.emulator import jsonutil, rules
from flexctl.emulator.clock import Clock
from flexctl.emulator.context import Context
from flexctl.emulator.dialect import Dialect
from flexctl.emulator.errors import HttpError
from flexctl.emulator.invoices import create_invoice
from flexctl.emulator.resources import COLLECTIONS, DEPENDENCY_ORDER
from flexctl.emulator.store import Store
from flexctl.emulator.validation import is_object_id

DIALECT_KEY = "dialect"
SEED_DIALECT = Dialect.for_profile("full")
SINGLETON_KEYS = ("billing-settings", "invoicing-settings", "storefront")
KNOWN_KEYS = {*DEPENDENCY_ORDER, *SINGLETON_KEYS, "account", "invoices"}


class Seedable(Protocol):
    """Where a seed goes: the emulator (`app.Emulator`) as seen from here."""

    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...


class SeedError(ValueError):
    """The seed file cannot be read or does not fit the API."""


def read_seed(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SeedError(f"seed file {path} is not valid: not UTF-8 text (byte {exc.start})"
                        ) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = _load_yaml(text)
        else:
            data = jsonutil.loads(text)
    except Exception as exc:  # any parser error (JSON or YAML) is the file's problem
        raise SeedError(f"seed file {path} is not valid: {_one_line(exc)}") from None
    if not isinstance(data, dict) or not all(
        isinstance(org, str) and isinstance(kinds, dict) for org, kinds in data.items()
    ):
        raise SeedError(f"seed file {path} must map organization slugs to objects by kind")
    return data


def _one_line(exc: Exception) -> str:
    """A parser error in one line: ruamel's own messages quote the source over several."""
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(exc).split())


def _load_yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)

    def exact_float(constructor: Any, node: Any) -> Decimal:
        # YAML floats become decimals of exactly the digits written: 0.10 stays 0.10.
        return Decimal(str(node.value).replace("_", ""))

    def as_written(constructor: Any, node: Any) -> str:
        # An unquoted 2026-12-01 stays the string the API takes, not a Python date.
        return str(node.value)

    yaml.constructor.add_constructor("tag:yaml.org,2002:float", exact_float)
    yaml.constructor.add_constructor("tag:yaml.org,2002:timestamp", as_written)
    return yaml.load(text)


def seed_dialect(data: dict[str, Any]) -> dict[str, Any] | None:
    """The seed's dialect settings, if it has any (checked: a SeedError names a bad one)."""
    settings = data.get(DIALECT_KEY)
    if settings is None:
        return None
    try:
        Dialect().with_settings(settings)
    except ValueError as exc:
        raise SeedError(f"seed: {DIALECT_KEY}: {exc}") from None
    return dict(settings)


def apply_seed(app: Seedable, data: dict[str, Any], only_new: bool = True) -> None:
    for org, kinds in data.items():
        if org == DIALECT_KEY or (only_new and app.store.org_exists(org)):
            continue
        _check_shape(org, kinds)
        with app.store.transaction():
            app.store.ensure_org(org)
            _seed_org(app, org, kinds)


def _check_shape(org: str, kinds: dict[str, Any]) -> None:
    unknown = set(kinds) - KNOWN_KEYS
    if unknown:
        raise SeedError(f"seed: {org}: unknown kinds: {', '.join(sorted(map(str, unknown)))}")
    for key, value in kinds.items():
        mapping = key in SINGLETON_KEYS or key == "account"
        if not isinstance(value, dict if mapping else list):
            raise SeedError(f"seed: {org}: {key} must be a {'mapping' if mapping else 'list'}")


def _seed_org(app: Seedable, org: str, kinds: dict[str, Any]) -> None:
    ctx = Context(app.store, org, app.clock, SEED_DIALECT)
    for kind in DEPENDENCY_ORDER:
        for index, doc in enumerate(kinds.get(kind, [])):
            with _located(f"seed: {org}: {kind}[{index}]"):
                _seed_object(ctx, kind, doc)
    for name in SINGLETON_KEYS:
        if name in kinds:
            current = app.store.get_singleton(org, name)
            app.store.put_singleton(org, name, {**current, **kinds[name]})
    if "account" in kinds:
        status = str(kinds["account"].get("status", "onboarding"))
        with _located(f"seed: {org}: account"):
            app.store.set_account_status(org, status)
    for index, invoice in enumerate(kinds.get("invoices", [])):
        with _located(f"seed: {org}: invoices[{index}]"):
            if not isinstance(invoice, dict):
                raise HttpError(400, "must be an object")
            create_invoice(ctx, invoice)


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Turn an API error (or a bad account status) into a SeedError naming the object."""
    try:
        yield
    except (HttpError, ValueError) as exc:
        message = exc.message if isinstance(exc, HttpError) else str(exc)
        text = "; ".join(message) if isinstance(message, list) else message
        raise SeedError(f"{where}: {text}") from None


def _seed_object(ctx: Context, kind: str, doc: Any) -> None:
    if not isinstance(doc, dict):
        raise HttpError(400, "must be an object")
    body = dict(doc)
    object_id = body.pop("_id", None)
    if object_id is not None and not is_object_id(object_id):
        raise HttpError(400, "_id must be a mongodb id")
    resource = COLLECTIONS[kind]
    if not resource.fields:  # read-only everywhere (resource types): stored as given
        ctx.store.insert(ctx.org, kind, {**({"_id": object_id} if object_id else {}), **body})
        return
    rules.create(ctx, resource, body, object_id=object_id)
