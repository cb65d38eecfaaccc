"""Every text field of every request refuses control characters: proven by walking the whole API.

The walk is over the gateway's OpenAPI document (query and path parameters, and every
string inside every request body, nested and in arrays) and over the pydantic models
behind the bodies, so a field added tomorrow without ``folio.core.text`` fails here.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from folio.core.settings import Settings, load_settings
from folio.entrypoints.gateway import create_app

pytestmark = pytest.mark.unit

JUNK = ("\x01", "a\x1b[31mb")
"""What the fuzzer sent: SOH, and an ANSI colour escape inside a word."""

PARSED_FORMATS = {"uuid", "date", "date-time", "binary"}
"""String formats the server parses into another type (which refuses junk by itself)."""

SCHEMA_MODULES = [
    f"folio.{name}.schemas" for name in ("identity", "tasks", "catalog", "search", "audit", "mail")
]

Field = tuple[str, str, str, dict[str, Any]]
"""(method, path, where, string schema)."""


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The gateway's OpenAPI document, built from settings with no .env file and counters in memory."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    monkeypatch.chdir(tmp_path_factory.mktemp("gateway"))
    settings: Settings = load_settings(env_file=Path("absent.env"))
    try:
        built: dict[str, Any] = create_app(settings).openapi()
    finally:
        monkeypatch.undo()
    return built


def _strings(
    schema: dict[str, Any], where: str, components: dict[str, Any], seen: tuple[str, ...] = ()
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every free-text string schema inside ``schema``, with a dotted path to it."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _strings(components[name], where, components, (*seen, name))
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _strings(option, where, components, seen)
    is_free_text = (
        "enum" not in schema and "const" not in schema and schema.get("format") not in PARSED_FORMATS
    )
    if schema.get("type") == "string" and is_free_text:
        yield where, schema
    if "items" in schema:
        yield from _strings(schema["items"], f"{where}[]", components, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _strings(sub, f"{where}.{name}", components, seen)


def request_strings(document: dict[str, Any]) -> list[Field]:
    """Every string a client can send: query and path parameters, and inside request bodies."""
    components = document["components"]["schemas"]
    found: list[Field] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in {"query", "path"}:
                    where = f"{parameter['in']}.{parameter['name']}"
                    found += [
                        (method.upper(), path, w, s)
                        for w, s in _strings(parameter["schema"], where, components)
                    ]
            for media in operation.get("requestBody", {}).get("content", {}).values():
                found += [
                    (method.upper(), path, w, s) for w, s in _strings(media["schema"], "body", components)
                ]
    return found


def test_the_walk_finds_the_fields_the_fuzzer_polluted(document: dict[str, Any]) -> None:
    """The walk reaches nested and array fields (a walk that finds nothing would prove nothing)."""
    wheres = {(method, path, where) for method, path, where, _ in request_strings(document)}
    assert ("POST", "/api/v1/catalog/works", "body.title") in wheres
    assert ("POST", "/api/v1/catalog/works", "body.authors[]") in wheres
    assert ("GET", "/api/v1/catalog/works", "query.q") in wheres
    assert len(wheres) > 40


def test_every_request_string_states_a_pattern_refusing_control_characters(document: dict[str, Any]) -> None:
    """Each string field's schema has a pattern, and the pattern refuses SOH and ESC."""
    lax = [
        (method, path, where, schema.get("pattern"))
        for method, path, where, schema in request_strings(document)
        if "pattern" not in schema or any(re.search(schema["pattern"], junk) for junk in JUNK)
    ]
    assert lax == []


def request_models(document: dict[str, Any]) -> list[type[BaseModel]]:
    """The pydantic models behind the request bodies (and query models), found in the contexts' schemas."""
    names = {
        ref.rsplit("/", 1)[1].removesuffix("-Input")
        for item in document["paths"].values()
        for operation in item.values()
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if (ref := media["schema"].get("$ref"))
    }
    models: list[type[BaseModel]] = []
    for module_name in SCHEMA_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            is_model = isinstance(value, type) and issubclass(value, BaseModel)
            if (
                is_model
                and value.__module__ == module_name
                and (value.__name__ in names or value.__name__.endswith("Filter"))
            ):
                models.append(value)
    return models


TextField = tuple[type[BaseModel], str, bool, dict[str, Any]]
"""(model, field name, whether it is a list of texts, the text's schema)."""


def model_text_fields(document: dict[str, Any]) -> list[TextField]:
    """Every text field of the request models."""
    found: list[TextField] = []
    for model in request_models(document):
        schema = model.model_json_schema()
        for name, text_schema in _strings(schema, "", schema.get("$defs", {})):
            top, _, rest = name.removeprefix(".").partition(".")
            if not rest:
                found.append((model, top.removesuffix("[]"), top.endswith("[]"), text_schema))
    return found


def fitted(junk: str, schema: dict[str, Any]) -> str:
    """``junk`` padded or cut to the field's length bounds, so the length check does not answer first."""
    shortest: int = schema.get("minLength", 0)
    text = junk + "x" * max(shortest - len(junk), 0)
    longest: int = schema.get("maxLength", len(text))
    return text[:longest]


def test_the_models_walk_covers_every_context(document: dict[str, Any]) -> None:
    """Request models of identity, tasks, catalog and search are all reached."""
    modules = {model.__module__ for model, _, _, _ in model_text_fields(document)}
    assert {f"folio.{name}.schemas" for name in ("identity", "tasks", "catalog", "search")} <= modules


REFUSALS = {"invalid_text", "string_pattern_mismatch"}
"""How a field refuses junk: the shared text rule, or a stricter pattern of its own (a slug, an ISBN)."""


@pytest.mark.parametrize("junk", JUNK)
def test_every_text_field_of_every_request_model_refuses_control_characters(
    document: dict[str, Any], junk: str
) -> None:
    """Validating a model with junk in one text field fails on that field, for the junk's sake."""
    accepted: dict[str, list[str]] = {}
    for model, name, is_list, schema in model_text_fields(document):
        value: Any = [fitted(junk, schema)] if is_list else fitted(junk, schema)
        try:
            model.model_validate({name: value})
        except ValidationError as exc:
            types = [e["type"] for e in exc.errors() if e["loc"][:1] == (name,)]
            if REFUSALS & set(types):
                continue
            accepted[f"{model.__name__}.{name}"] = types
        else:
            accepted[f"{model.__name__}.{name}"] = []
    assert accepted == {}
