"""`tests.config_sections.Sections` types exactly the fields of the assembled `Config` model."""

from __future__ import annotations

from typing import get_type_hints

from flexctl.kinds.configuration import config_model
from tests.config_sections import Sections


def test_every_typed_section_is_a_field_of_the_model_with_that_type() -> None:
    fields = config_model().model_fields
    typed = get_type_hints(Sections, include_extras=True)
    assert typed  # a protocol without annotations would pass the loop below vacuously
    for name, annotation in typed.items():
        assert name in fields, name
        assert fields[name].annotation == annotation, name
