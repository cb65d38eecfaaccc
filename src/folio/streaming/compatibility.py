"""Compatibility of event schemas: a published version may gain optional fields, nothing else.

A schema's *fields* are its property paths (``lines[].quantity`` for a property of the
items of an array), each with its JSON types and whether it is required. Once a
version is published (recorded in ``schemas/events/published.json``), every later
state of its file must keep each recorded field with the same types and the same
requiredness, and may add fields only as optional: a consumer written against the
recorded fields reads every payload the producer may send, and an old payload still
matches the file. Anything else (remove, retype, make required, delete the version)
is a new version: ``<Type>.v<N+1>.json``, published beside the old one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Fields", "breaking_changes", "fields_of", "published_record"]

Fields = dict[str, dict[str, Any]]
"""``{path: {"type": [json types, sorted], "required": bool}}``: what a version promises."""

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def _types(node: Mapping[str, Any]) -> list[str]:
    if "const" in node:
        values: Iterable[Any] = [node["const"]]
    elif "enum" in node:
        values = node["enum"]
    else:
        declared = node.get("type", [])
        return sorted([declared] if isinstance(declared, str) else declared)
    return sorted({_JSON_TYPES.get(type(value), "object") for value in values})


def fields_of(schema: Mapping[str, Any], *, prefix: str = "", required_here: bool = True) -> Fields:
    """Every property path of ``schema`` with its types and requiredness.

    A path is required only when it and each of its parents are.
    """
    fields: Fields = {}
    required = set(schema.get("required", ()))
    for name, node in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        is_required = required_here and name in required
        fields[path] = {"type": _types(node), "required": is_required}
        if node.get("type") == "object" or "properties" in node:
            fields.update(fields_of(node, prefix=f"{path}.", required_here=is_required))
        items = node.get("items")
        if isinstance(items, Mapping):
            fields.update(fields_of(items, prefix=f"{path}[].", required_here=is_required))
    return fields


def published_record(schemas: Mapping[str, Mapping[str, Any]]) -> dict[str, Fields]:
    """The record to keep for ``schemas`` (``{"<topic>/<Type>.v<N>": schema}``), sorted by name."""
    return {name: fields_of(schemas[name]) for name in sorted(schemas)}


def breaking_changes(published: Mapping[str, Fields], current: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Why ``current`` (``{"<topic>/<Type>.v<N>": schema}``) breaks a published version (empty: none)."""
    problems: list[str] = []
    for name, promised in sorted(published.items()):
        schema = current.get(name)
        if schema is None:
            problems.append(f"{name}: a published version was deleted (keep it; add a new version)")
            continue
        now = fields_of(schema)
        for path, field in sorted(promised.items()):
            found = now.get(path)
            if found is None:
                problems.append(f"{name}: field {path} was removed")
            elif found["type"] != field["type"]:
                problems.append(f"{name}: field {path} was retyped from {field['type']} to {found['type']}")
            elif found["required"] != field["required"]:
                became = "required" if found["required"] else "optional"
                problems.append(f"{name}: field {path} became {became}")
        for path, field in sorted(now.items()):
            if path not in promised and field["required"]:
                problems.append(f"{name}: new field {path} is required (a new field must be optional)")
    return problems
