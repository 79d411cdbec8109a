"""The JSON Schema of the configuration format, generated from the models.

Generated from the assembled models (`flexctl.kinds.configuration`), never hand-written, so it
cannot drift from the code; `schemas/flexctl.schema.json` is a committed copy that a test keeps
current; hover help comes from the models' field descriptions. Editors use it through the modeline
`# yaml-language-server: $schema=<path>/flexctl.schema.json`, and many of them implement only
draft-07, so the output sticks to keywords both drafts read the same way: `$ref` into `$defs`
is a plain JSON pointer, and the OpenAPI-only `discriminator` keyword is left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from flexctl.config.docstrings import DescribedSchema
from flexctl.config.types import SLUG_PATTERN

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:flexctl:config:v1"


def json_schema(model: type[BaseModel], keyed_sections: Iterable[str]) -> dict[str, Any]:
    """The schema of `model` as a dict: Draft 2020-12, readable by draft-07 editors. The
    keys of `keyed_sections` must be slugs. Descriptions come from the models' fields and
    their docstrings (`flexctl.config.docstrings`)."""
    generated = model.model_json_schema(mode="validation", schema_generator=DescribedSchema)
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "flexctl configuration (version 1)",
        "description": "OfficeRnD Flex billing configuration as code; every field is described "
        "in docs/configuration.md of the flexctl repository.",
    }
    # An editor checks each file on its own, and a configuration split over a directory has
    # `version`, `organization` and `currency` in one file only: whether they are present is
    # checked by `flexctl validate` on the merged configuration, not here.
    schema.update(
        (key, value) for key, value in generated.items() if key not in ("title", "required")
    )
    for section in keyed_sections:
        schema["properties"][section]["propertyNames"] = {"pattern": SLUG_PATTERN}
    _tidy(schema)
    return schema


def _tidy(node: Any) -> None:
    """Drop `discriminator`; give number fields numeric defaults (pydantic writes "0.3")."""
    if isinstance(node, dict):
        node.pop("discriminator", None)
        default = node.get("default")
        if node.get("type") == "number" and isinstance(default, str):
            number = float(default)
            node["default"] = int(number) if number.is_integer() else number
        for value in node.values():
            _tidy(value)
    elif isinstance(node, list):
        for value in node:
            _tidy(value)


def schema_text(model: type[BaseModel], keyed_sections: Iterable[str]) -> str:
    """The schema as the text `flexctl schema` prints and the repository commits."""
    return json.dumps(json_schema(model, keyed_sections), indent=2, ensure_ascii=False) + "\n"
