"""Field descriptions from attribute docstrings, read only when a JSON Schema is generated.

A config model documents a field with the string right under it (editors show it as hover help):

    class EnvSecret(Model):
        env: str
        \"\"\"The name of the environment variable.\"\"\"

pydantic's `use_attribute_docstrings` reads that source for every model class as it is built,
which was a third of `flexctl validate`'s start-up; validation never shows a description, so the
models are built without it and `FieldDocs` reads each module's source once (one `ast.parse`),
when `flexctl schema`, `export` or the docs generator asks for the schema.
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from itertools import pairwise
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from flexctl.config.types import no_entries, no_items


@cache
def _module_docs(module: str) -> dict[str, dict[str, str]]:
    """{class qualname: {attribute: docstring}} of every class in `module`'s source."""
    found: dict[str, dict[str, str]] = {}
    source_of = sys.modules.get(module)
    try:
        source = inspect.getsource(source_of) if source_of else ""
    except (OSError, TypeError):
        return found
    if not source:
        return found

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                name = f"{prefix}{node.name}"
                found[name] = _class_docs(node.body)
                visit(node.body, f"{name}.")

    visit(ast.parse(source).body, "")
    return found


def _class_docs(body: list[ast.stmt]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for node, following in pairwise(body):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_docs(cls: type[Any]) -> dict[str, str]:
    """{field: docstring} of `cls` and its bases, the nearest class's first (a field declared
    again without a docstring keeps none, as pydantic's own reading does; a class made by
    `create_model` has no source, and its fields take their bases' docstrings)."""
    docs: dict[str, str] = {}
    declared: set[str] = set()
    for klass in cls.__mro__:
        if klass is BaseModel or not issubclass(klass, BaseModel):
            continue
        own = _module_docs(klass.__module__).get(klass.__qualname__)
        if own is None and "<locals>" in klass.__qualname__:
            from pydantic._internal._docs_extraction import extract_docstrings_from_cls

            own = extract_docstrings_from_cls(klass, use_inspect=True)
        if own is None:  # made by create_model: its fields are described by its bases
            continue
        annotations = inspect.get_annotations(klass)
        for name in annotations:
            if name not in declared and name in own:
                docs[name] = own[name]
        declared.update(annotations)
    return docs


class DescribedSchema(GenerateJsonSchema):
    """pydantic's JSON Schema generator, with each field's docstring as its description."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._models: list[type[Any]] = []

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        self._models.append(schema["cls"])
        try:
            return super().model_schema(schema)
        finally:
            self._models.pop()

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        # A list or mapping field's default is made for each object (`types.no_items`,
        # `no_entries`; see there why): it is still [] or {}.
        factory = schema.get("default_factory")
        if factory is no_items or factory is no_entries:
            return factory()
        return super().get_default_value(schema)

    def model_fields_schema(self, schema: core_schema.ModelFieldsSchema) -> JsonSchemaValue:
        docs = field_docs(self._models[-1]) if self._models else {}
        generated = super().model_fields_schema(schema)
        for name, prop in generated.get("properties", {}).items():
            doc = docs.get(name)
            if doc is None or "description" in prop:
                continue
            # where pydantic puts a description: after the field's own keys, before its title
            title = prop.pop("title", None)
            prop["description"] = doc
            if title is not None:
                prop["title"] = title
        return generated
