"""Whatever JSON the platform sends, reading a snapshot ends in a snapshot or in one located
error naming the request — never another exception (hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.errors import ApiError, FlexctlError
from flexctl.kinds import registry
from flexctl.kinds.base import Obj
from flexctl.kinds.configuration import config_model
from flexctl.platform.target import Target, open_client
from flexctl.state.desired import desired_state
from flexctl.state.snapshot import read_snapshot
from tests.kinds.kinds_sample import STRIPE_KEY, config_data
from tests.platform.platform_fakes import API, ORG, SECRET, TOKEN_URL, FakeFlex

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.text(max_size=12), st.sampled_from(["2026-12-01T00:00:00.000Z", "soon", "", "abc"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
# Documents with the field names the kinds read, so the values reach the kinds' mapping.
FIELD_NAMES = sorted({field.api.split(".")[0] for kind in registry()
                      for field in getattr(kind, "fields_map", ())} | {"rates", "properties"})
DOCUMENT = st.dictionaries(st.sampled_from(FIELD_NAMES), JSON, max_size=6)


@dataclass(frozen=True)
class Loaded:
    config: ConfigBase


def _desired() -> dict[str, list[Obj]]:
    config = config_model().model_validate(config_data(), strict=False)
    return desired_state(Loaded(config),
                         SecretResolver(environ={"HARBOR_STRIPE_KEY": STRIPE_KEY}))


DESIRED = _desired()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(collection=st.sampled_from(["plans", "resource-rates", "companies", "members",
                                   "memberships", "fees", "locations", "tax-rates"]),
       docs=st.lists(DOCUMENT, max_size=3))
def test_any_documents_give_a_snapshot_or_a_located_error(
        collection: str, docs: list[dict[str, Any]]) -> None:
    fake = FakeFlex()
    fake.seed(collection, docs)
    target = Target(api_url=API, org=ORG, token_url=TOKEN_URL, client_id="client-1",
                    client_secret=SECRET)
    with open_client(target, scopes=("flex.fake.all",), transport=fake.transport(),
                     clock=fake.clock, sleep=lambda seconds: None) as client:
        try:
            snapshot = read_snapshot(client, DESIRED, "EUR")
        except ApiError as error:
            assert error.method == "GET"
            assert str(error).startswith("GET ")
        except FlexctlError as error:  # any other located error is acceptable too
            assert str(error)
        else:
            assert isinstance(snapshot.objects, dict)


def refused(collection: str, docs: list[dict[str, Any]]) -> str:
    """The located error a snapshot of these live documents ends in."""
    fake = FakeFlex()
    fake.seed(collection, docs)
    target = Target(api_url=API, org=ORG, token_url=TOKEN_URL, client_id="client-1",
                    client_secret=SECRET)
    with (open_client(target, scopes=("flex.fake.all",), transport=fake.transport(),
                      clock=fake.clock, sleep=lambda seconds: None) as client,
          pytest.raises(ApiError) as info):
        read_snapshot(client, DESIRED, "EUR")
    return str(info.value)


def test_a_price_that_is_not_a_number_names_the_request_object_and_field() -> None:
    message = refused("plans", [{"name": "Hot Desk", "price": "abc", "intervalLength": "month"}])
    assert message == (
        "GET plans: 200 plan 000000000000000000000001: price 'abc' is not an amount"
    ), message


@pytest.mark.parametrize("price", [10**30, 99999999999999999999999999.99, -10**12, 10**20])
def test_an_amount_beyond_any_configuration_names_the_request_object_and_field(
    price: float,
) -> None:
    # Within the JSON limits, but the money summary's arithmetic would overflow on it later
    # (an "Internal error"): refused where it is read, as a configuration refuses it.
    message = refused("plans", [{"name": "Hot Desk", "price": price, "intervalLength": "month"}])
    assert message.startswith("GET plans: 200 plan 000000000000000000000001: price ")
    assert message.endswith("is beyond what flexctl can hold (the limit is 999999999999)")


@pytest.mark.parametrize(("collection", "doc", "noun", "field"), [
    ("companies", {"name": None}, "company", "name"),
    ("companies", {}, "company", "name"),
    ("members", {"name": "", "email": "a@example.org"}, "member", "name"),
    ("memberships", {"plan": "000000000000000000000009"}, "membership", "startDate"),
    ("fees", {"issueDate": "2026-12-01T00:00:00.000Z"}, "fee", "plan"),
])
def test_a_live_object_without_its_identity_is_a_located_error_not_an_unmatched_one(
    collection: str, doc: dict[str, Any], noun: str, field: str,
) -> None:
    # Left unmatched, the object would stay live and unmanaged while the plan created the one
    # the configuration declares again: a duplicate customer, billed twice.
    message = refused(collection, [doc])
    assert message.startswith(f"GET {collection}: 200 {noun} ")
    assert message.endswith(f": {field} {doc.get(field)!r} is missing: every {noun} on the "
                            "platform has one")
