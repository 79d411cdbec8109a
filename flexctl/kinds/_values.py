"""Value normalization shared by every kind: money, dates, slugs, references, flattening.

Both sides of the diff go through these helpers, so a config value and the platform's value
for the same thing normalize to equal Python values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from pydantic import BaseModel

from flexctl.config.currency import minor_units
from flexctl.config.lint import IGNORE_FIELD
from flexctl.errors import PlanError
from flexctl.kinds.refs import RefMap
from flexctl.redaction import shown


class PlatformValueError(ValueError):
    """A value the platform sent that a field cannot hold (a price "abc", a date "soon")."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field, self.value, self.reason = field, value, reason
        super().__init__(f"{field} {shown(value)} {reason}")


def money(value: Any, currency: str) -> Decimal | None:
    """An amount quantized to the currency's minor unit, keeping any finer digits it has.

    250 -> 250.00 (EUR). A finer unit price (0.005 per page) is kept exactly rather than
    rounded, so a value the platform stores is never silently changed by normalization.
    """
    if value is None or isinstance(value, bool):
        return None
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    quantized = amount.quantize(_quantum(currency))
    return quantized if quantized == amount else amount.normalize()


@cache
def _quantum(currency: str) -> Decimal:
    """0.01 for EUR: the currency's minor unit (a snapshot asks this 100,000 times)."""
    return Decimal(1).scaleb(-minor_units(currency))


def number(value: Any) -> Decimal | None:
    """A non-money decimal (a tax percentage) in canonical form: 20, 20.5."""
    if value is None or isinstance(value, bool):
        return None
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.normalize()


def api_date(value: Any) -> date | None:
    """The API's date-only values are midnight-UTC timestamps: keep the date part."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def date_to_api(value: date | None) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00.000Z"


_NON_SLUG = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)  # a fee's address slugs its name: a few names, tens of thousands of fees
def slugify(text: str) -> str:
    slug = _NON_SLUG.sub("-", text.lower()).strip("-")
    return slug or "item"


def unique_slug(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... — the first not in `taken` (which it joins)."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def written(model: BaseModel, exclude: Iterable[str] = (), prefix: str = "") -> dict[str, Any]:
    """The fields the user wrote, nested models flattened with dots (`visibility.members`);
    never `ignore_warnings`, which is for validate, not the platform."""
    skip = {*exclude, IGNORE_FIELD}
    out: dict[str, Any] = {}
    for name in model.model_fields_set:
        if name in skip:
            continue
        value = getattr(model, name)
        # Most values are plain (a string, an amount, a date): no ABC check of BaseModel's.
        if type(value) not in _PLAIN and isinstance(value, BaseModel):
            out.update(written(value, prefix=f"{prefix}{name}."))
        else:
            out[prefix + name if prefix else name] = value
    return out


_PLAIN = frozenset({str, Decimal, date, int, bool, type(None), tuple})


def get_path(doc: Mapping[str, Any], path: str) -> Any:
    """`doc["a"]["b"]` for `a.b`; None when any step is missing. (The hot path of every
    snapshot: the parts of each path are split once, and a dict skips the ABC check.)"""
    parts = _PARTS.get(path)
    if parts is None:
        parts = _PARTS[path] = tuple(path.split("."))
    value: Any = doc
    for part in parts:
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


_PARTS: dict[str, tuple[str, ...]] = {}


def set_path(body: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        body = body.setdefault(part, {})
    body[parts[-1]] = value


def require_id(refs: RefMap, kind: str, key: str) -> str:
    """The platform id of a referenced object, which must exist before the reference is sent."""
    found = refs.id_of(kind, key)
    if found is None:
        raise PlanError(f"{kind}.{key} has no platform id yet: it must be created first")
    return found


def keys_of(refs: RefMap, kind: str, ids: Any) -> tuple[str, ...]:
    """A set-like list of ids as a sorted tuple of config keys."""
    return tuple(sorted(refs.key_of(kind, i) for i in ids or ()))


def modified_meta(doc: Mapping[str, Any]) -> dict[str, Any]:
    stamp = doc.get("modifiedAt")
    return {"modifiedAt": stamp} if stamp is not None else {}
