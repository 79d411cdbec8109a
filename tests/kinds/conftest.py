"""Fixtures: the sample configuration, a secret resolver, a RefMap that knows every key."""

from __future__ import annotations

import pytest

from flexctl.config.secrets import SecretResolver
from flexctl.config.types import ConfigBase
from flexctl.kinds.configuration import config_model
from flexctl.kinds.refs import RefMap
from tests.kinds.kinds_sample import IDS, STRIPE_KEY, config_data


@pytest.fixture
def config() -> ConfigBase:
    return config_model().model_validate(config_data(), strict=False)


@pytest.fixture
def secrets() -> SecretResolver:
    return SecretResolver(environ={"HARBOR_STRIPE_KEY": STRIPE_KEY})


@pytest.fixture
def refs() -> RefMap:
    refs = RefMap()
    for (kind, key), id_ in IDS.items():
        refs.add(kind, key, id_)
    refs.set_name("plans", "printing", "Printing")
    refs.set_name("plans", "hot-desk", "Hot Desk")
    return refs
