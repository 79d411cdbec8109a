"""The configuration reference (`docs/configuration.md`), generated from the JSON Schema.

Every section, field, type, default, allowed value and description comes from the schema that
`flexctl schema` prints (itself generated from the kinds' models), so the reference cannot
drift from what `flexctl validate` accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

Node = Mapping[str, Any]
# Sections whose value is one setting rather than a mapping of keys to objects.
SCALARS = ("version", "organization", "currency")

# The prose around the generated part, kept as markdown beside this module.
INTRO = (resources.files("flexctl.docgen") / "intro" / "configuration.md").read_text("utf-8")


class Reference:
    """Renders the schema: the top level, each section, then the objects fields refer to."""

    def __init__(self, schema: Node) -> None:
        self.schema = schema
        self.defs: Mapping[str, Node] = schema.get("$defs", {})
        self.anchors: dict[str, str] = {}  # definition name -> the anchor it is shown under
        self.shown: set[str] = set()

    def render(self) -> str:
        properties: Mapping[str, Node] = self.schema["properties"]
        sections = [name for name in properties if name not in SCALARS]
        for name in sections:  # a section's own object is shown under the section's heading
            for ref in self.refs_of(properties[name], deep=False):
                self.anchors.setdefault(ref, name)
        lines = [INTRO, "## The top level", ""]
        lines += self.table(properties, set(SCALARS))
        lines += ["", "Every other top-level key is a section: "
                  + ", ".join(f"[`{name}`](#{name})" for name in sections) + ".", ""]
        for name in sections:
            lines += self.section(name, properties[name])
        return "\n".join(lines).rstrip("\n") + "\n"

    # --- sections ---------------------------------------------------------------------------

    def section(self, name: str, node: Node) -> list[str]:
        lines = [f"## `{name}`", ""]
        if node.get("description"):
            lines += [sentence(node["description"]), ""]
        items = node.get("additionalProperties")
        if isinstance(items, Mapping):
            noun = name.replace("_", " ")
            lines += [f"A mapping from keys (slugs) to {noun}; omitted or empty, the "
                      "configuration declares none.", ""]
            lines += self.objects(items)
        else:
            default = node.get("default")
            lines += ["Omitted, flexctl does not manage it." if default is None
                      else f"Default: {default_text(default)}.", ""]
            lines += self.objects(node)
        return lines

    def objects(self, node: Node) -> list[str]:
        """The object(s) a section holds: one table, or one per variant (gateways)."""
        variants = [v for v in node.get("oneOf", node.get("anyOf", [node])) if "$ref" in v]
        lines: list[str] = []
        for variant in variants:
            name = ref_name(variant["$ref"])
            definition = self.defs[name]
            self.shown.add(name)
            if len(variants) > 1:
                tag = definition.get("properties", {}).get("provider", {}).get("const", name)
                lines += [f"### `provider: {tag}`", ""]
            if definition.get("description"):
                lines += [sentence(definition["description"]), ""]
            lines += self.table(definition.get("properties", {}),
                                set(definition.get("required", ())))
            lines.append("")
        lines += self.nested(node)
        return lines

    def nested(self, node: Node) -> list[str]:
        """The objects this section's fields refer to, each shown once, where first met."""
        lines: list[str] = []
        for name in self.refs_of(node, deep=True):
            if name in self.shown:
                continue
            self.shown.add(name)
            definition = self.defs[name]
            lines += [f"### {name}", ""]
            if definition.get("description"):
                lines += [sentence(definition["description"]), ""]
            lines += self.table(definition.get("properties", {}),
                                set(definition.get("required", ())))
            lines.append("")
        return lines

    def refs_of(self, node: Any, *, deep: bool) -> Iterator[str]:
        """Definition names `node` refers to; `deep`: also through those definitions."""
        seen: set[str] = set()
        stack = [node]
        while stack:
            item = stack.pop(0)
            if isinstance(item, Mapping):
                if "$ref" in item:
                    name = ref_name(item["$ref"])
                    if name not in seen:
                        seen.add(name)
                        yield name
                        if deep:
                            stack.append(self.defs[name])
                stack.extend(v for k, v in item.items() if k != "$ref")
            elif isinstance(item, list):
                stack.extend(item)

    # --- tables -----------------------------------------------------------------------------

    def table(self, properties: Mapping[str, Node], required: set[str]) -> list[str]:
        lines = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
        for name, node in properties.items():
            default = "**required**" if name in required else default_text(node.get("default"))
            cells = [f"`{name}`", self.type_text(node), default, sentence(description_of(node))]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        return lines

    def type_text(self, node: Node) -> str:
        if "$ref" in node:
            name = ref_name(node["$ref"])
            anchor = self.anchors.get(name, name.lower())
            return f"[{name}](#{anchor})"
        for combined in ("anyOf", "oneOf"):
            if combined in node:
                parts = [self.type_text(p) for p in node[combined] if p.get("type") != "null"]
                return " or ".join(dict.fromkeys(parts))
        if "const" in node:
            return f"`{json.dumps(node['const'])}`"
        if "enum" in node:
            return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
        kind = node.get("type")
        if kind == "array":
            items = self.type_text(node.get("items", {}))
            return "list of " + ("strings" if items == "string" else items)
        if kind == "object":
            values = node.get("additionalProperties")
            if isinstance(values, Mapping):
                return "mapping of keys to " + self.type_text(values)
            return "mapping"
        return scalar_text(node)


def scalar_text(node: Node) -> str:
    kind = str(node.get("type", "any"))
    if kind == "number" and node.get("minimum") == 0 and "maximum" not in node:
        kind = "amount"  # the configuration's amounts: exact decimals, never negative
    if node.get("format") == "date":
        return "date (YYYY-MM-DD)"
    limits = []
    if "pattern" in node:
        limits.append(f"matching `{node['pattern']}`")
    if "maximum" in node:
        limits.append(f"from {node.get('minimum', '…')} to {node['maximum']}")
    elif "minimum" in node and kind != "amount":
        limits.append(f"at least {node['minimum']}")
    if "maxLength" in node:
        limits.append(f"at most {node['maxLength']} characters")
    return f"{kind} ({', '.join(limits)})" if limits else kind


def description_of(node: Node) -> str:
    if node.get("description"):
        return str(node["description"])
    for part in node.get("anyOf", ()):
        if part.get("description"):
            return str(part["description"])
    return ""


def default_text(value: Any) -> str:
    if value is None:
        return "not set"
    return f"`{json.dumps(value)}`"


def sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text.endswith((".", "?", "!", ")")) else text + "."


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def render_configuration(schema: Node) -> str:
    """The markdown reference of the configuration format described by `schema`."""
    return Reference(schema).render()
