"""Schema errors in the config's own words, at the closest written node."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel

from flexctl.config.types import EnvSecret, FileSecret
from flexctl.errors import ConfigError
from flexctl.kinds.configuration import config_model, load_config
from flexctl.kinds.gateways import GoCardlessGateway, StripeGateway
from tests.config.cfg_helpers import Write
from tests.config_sections import sections

HEAD = """\
version: 1
organization: harbor-works
currency: EUR
locations:
  downtown: {name: Downtown}
"""


def errors(write: Write, text: str) -> list[str]:
    write("c.yaml", HEAD + text)
    with pytest.raises(ConfigError) as caught:
        load_config("c.yaml")
    return [str(issue) for issue in caught.value.issues]


CASES = [
    (
        "plans:\n  a:\n    billing: recurring\n    price: 1\n",
        "c.yaml:7:3: plans.a.name: required key 'name' is missing",
    ),
    (
        "plans:\n  a: {name: A, billing: monthly, price: 1}\n",
        "c.yaml:7:16: plans.a.billing: expected 'recurring' or 'one_off', got 'monthly'",
    ),
    (
        "invoicing:\n  automatic_sending: 'true'\n",
        "c.yaml:7:3: invoicing.automatic_sending: expected a boolean (true or false), got 'true' "
        "(a quoted value is a string: remove the quotes)",
    ),
    (
        "gateways:\n  s: {provider: stripe, account: a, secret_kye: {env: K}}\n",
        "c.yaml:7:37: gateways.s.secret_kye: unknown key 'secret_kye' (did you mean 'secret_key'?)",
    ),
    (
        "gateways:\n  s: {account: a}\n",
        "c.yaml:7:3: gateways.s.provider: required key 'provider' is missing",
    ),
    (
        "gateways:\n  s: {provider: stripe, account: a, secret_key: {envv: K}}\n",
        "c.yaml:7:37: gateways.s.secret_key: expected {env: NAME} or {file: PATH}, got a mapping",
    ),
    (
        "gateways:\n  s: {provider: gocardless, account: a, access_token: {env: 1BAD}}\n",
        "c.yaml:7:41: gateways.s.access_token: 'env' must name an environment variable "
        "(letters, digits and '_', not starting with a digit)",
    ),
    (
        "gateways:\n  s: {provider: paypal, account: a, client_secret: {file: ''}}\n",
        "c.yaml:7:37: gateways.s.client_secret: 'file' must be a non-empty string",
    ),
    (
        "members:\n  j: {name: J, email: not-an-email, location: downtown}\n",
        "c.yaml:7:16: members.j.email: 'not-an-email' is not a valid email address",
    ),
    (
        "members:\n  j:\n    name: J\n    email: j@x.example\n    location: downtown\n"
        "    fees:\n      - {plan: p, date: 2026-12-01}\n      - {plan: p, date: '2026-12-02'}\n",
        "c.yaml:13:19: members.j.fees[1].date: expected a date (YYYY-MM-DD), got '2026-12-02' "
        "(a quoted value is a string: remove the quotes)",
    ),
    (
        "companies:\n  a:\n    name: A\n    location: downtown\n    fees:\n"
        "      - {plan: p, date: 2026-12-01, quantity: 1.5}\n",
        "c.yaml:11:37: companies.a.fees[0].quantity: expected an integer, got 1.5",
    ),
    (
        "companies:\n  a:\n    name: A\n    location: downtown\n    fees:\n"
        "      - {plan: p, date: 2026-12-01, quantity: 0}\n",
        "c.yaml:11:37: companies.a.fees[0].quantity: must be at least 1, got 0",
    ),
    (
        "companies:\n  a: {name: A, location: downtown, memberships: {plan: p}}\n",
        "c.yaml:7:36: companies.a.memberships: expected a list, got a mapping",
    ),
    (
        "tax_rates:\n  vat: {name: VAT, id: 123}\n",
        "c.yaml:7:20: tax_rates.vat.id: expected a string, got 123",
    ),
    (
        "rates:\n  r: {name: R, unit: hour, price: 1, id: 64b0c0ffee}\n",
        "c.yaml:7:38: rates.r.id: '64b0c0ffee' must be a platform id: 24 hexadecimal characters",
    ),
    (
        "policy: {prune: [plans, invoices], max_change_ratio: 1.5}\n",
        "c.yaml:6:25: policy.prune[1]: expected 'locations', 'tax_rates', 'revenue_accounts', "
        "'gateways', 'plans', 'rates', 'companies', 'members', 'memberships' or 'fees', "
        "got 'invoices'",
    ),
    (
        "revenue_accounts:\n  x: {description: no name}\n",
        "c.yaml:7:3: revenue_accounts.x: a revenue account needs a name or a code",
    ),
    (
        "plans:\n  a: {name: '', billing: one_off, price: 1}\n",
        "c.yaml:7:7: plans.a.name: must not be empty",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=range(len(CASES)))
def test_schema_error_message_and_location(write: Write, text: str, expected: str) -> None:
    assert expected in errors(write, text)


def test_organization_and_currency_formats(write: Write) -> None:
    write("c.yaml", "version: 2\norganization: Harbor Works\ncurrency: eur\n")
    with pytest.raises(ConfigError) as caught:
        load_config("c.yaml")
    assert [str(issue) for issue in caught.value.issues] == [
        "c.yaml:1:1: version: expected 1, got 2",
        "c.yaml:2:1: organization: 'Harbor Works' must be a slug: lowercase letters, digits, "
        "'-' and '_', starting with a letter or digit",
        "c.yaml:3:1: currency: 'eur' must be a three-letter ISO 4217 currency code such as EUR",
    ]


def test_secret_references_become_models(write: Write) -> None:
    gateways = """\
gateways:
  s: {provider: stripe, account: a, secret_key: {env: STRIPE_KEY}}
  g: {provider: gocardless, account: b, access_token: {file: secrets/gc.txt}}
"""
    write("c.yaml", HEAD + gateways)
    config = sections(load_config("c.yaml").config)
    stripe, gocardless = config.gateways["s"], config.gateways["g"]
    # the provider picks the model, and with it the field that holds the secret
    assert isinstance(stripe, StripeGateway) and isinstance(gocardless, GoCardlessGateway)
    assert stripe.secret_key == EnvSecret(env="STRIPE_KEY")
    assert gocardless.access_token == FileSecret(file="secrets/gc.txt")


def test_ratio_out_of_range(write: Write) -> None:
    assert errors(write, "policy: {max_change_ratio: 1.5}\n") == [
        "c.yaml:6:10: policy.max_change_ratio: must be between 0 and 1",
    ]


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    seen.add(model)
    for field in model.model_fields.values():
        todo: list[Any] = [field.annotation]
        while todo:
            hint = todo.pop()
            todo.extend(get_args(hint))
            if isinstance(hint, type) and issubclass(hint, BaseModel) and hint not in seen:
                _models(hint, seen)
    return seen


def test_no_model_field_has_a_mutable_default() -> None:
    # pydantic-core deep-copies such a default for every object that omits the field (54,000
    # times at 1x); a list field takes Field(default_factory=list) instead.
    mutable = [f"{model.__name__}.{name}" for model in _models(config_model(), set())
               for name, field in model.model_fields.items()
               if isinstance(field.default, list | dict | set)]
    assert mutable == []
