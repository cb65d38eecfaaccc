"""The OpenAPI document states the catalogue's request rules the server enforces."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from folio.catalog.schemas import EARLIEST_YEAR, latest_year
from folio.core.settings import load_settings
from folio.entrypoints.gateway import create_app

pytestmark = pytest.mark.unit


@pytest.fixture
def schemas(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The components of the gateway's OpenAPI document."""
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    document: dict[str, Any] = create_app(load_settings(env_file=clean_env / "absent.env")).openapi()
    return {name.removesuffix("-Input"): schema for name, schema in document["components"]["schemas"].items()}


def _text(property_schema: dict[str, Any]) -> dict[str, Any]:
    """The string branch of an optional property."""
    options = property_schema.get("anyOf", [property_schema])
    return next(option for option in options if option.get("type") == "string")


def _integer(property_schema: dict[str, Any]) -> dict[str, Any]:
    """The integer branch of an optional property."""
    options = property_schema.get("anyOf", [property_schema])
    return next(option for option in options if option.get("type") == "integer")


def test_work_fields_state_their_rules(schemas: dict[str, Any]) -> None:
    """isbn: length and characters; cover_url: URI, http(s), at most 1000; year: 1000 to next year."""
    for name in ("WorkCreate", "WorkUpdate"):
        properties = schemas[name]["properties"]
        cover = _text(properties["cover_url"])
        assert (cover["format"], cover["maxLength"]) == ("uri", 1000)
        assert re.fullmatch(cover["pattern"], "https://covers.example.org/a.jpg")
        assert not re.fullmatch(cover["pattern"], "ftp://covers.example.org/a.jpg")
        year = _integer(properties["year"])
        assert (year["minimum"], year["maximum"]) == (EARLIEST_YEAR, latest_year())
        assert _text(properties["title"])["maxLength"] == 500
    isbn = _text(schemas["WorkCreate"]["properties"]["isbn"])
    assert (isbn["minLength"], isbn["maxLength"]) == (10, 32)
    assert re.fullmatch(isbn["pattern"], "978-0-306-40615-7")
    assert not re.fullmatch(isbn["pattern"], "ISBN 0306406152")


def test_listing_fields_state_their_rules(schemas: dict[str, Any]) -> None:
    """currency: three letters; price: above 0; stock: 0 or more; condition: an enum."""
    for name in ("ListingCreate", "ListingUpdate"):
        properties = schemas[name]["properties"]
        currency = _text(properties["currency"])
        assert (currency["minLength"], currency["maxLength"]) == (3, 3)
        assert re.fullmatch(currency["pattern"], "eur")
        assert not re.fullmatch(currency["pattern"], "E1R")
        assert _integer(properties["price_cents"])["exclusiveMinimum"] == 0
        assert _integer(properties["stock"])["minimum"] == 0
