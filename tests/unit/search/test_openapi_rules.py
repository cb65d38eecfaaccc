"""The OpenAPI document states the search API's request rules, and the server enforces the same."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from folio.core.errors import ValidationFailedError
from folio.core.settings import load_settings
from folio.entrypoints.gateway import create_app
from folio.search.api import MAX_RESULT_WINDOW, Tuning, plan_search
from folio.search.schemas import SYNONYM_NAME
from folio.search.service import FACET_NAMES, MAX_PER_PAGE, MAX_RANK_ID

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The paths of the gateway's OpenAPI document."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
        absent = tmp_path_factory.mktemp("env") / "absent.env"
        document: dict[str, Any] = create_app(load_settings(env_file=Path(absent))).openapi()
    return dict(document["paths"])


def _params(paths: dict[str, Any], path: str, method: str = "get") -> dict[str, dict[str, Any]]:
    """Each parameter's schema (the non-null branch of an optional one), by name."""
    params = {}
    for param in paths[path][method]["parameters"]:
        schema = param["schema"]
        options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
        params[param["name"]] = options[0]
    return params


def _server_accepts_facets(text: str) -> bool:
    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        plan_search("", tenant_value="x", tuning=Tuning(), page=1, per_page=10, facets=names)
    except ValidationFailedError:
        return False
    return True


@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/search/works"])
def test_search_parameters_state_their_bounds(paths: dict[str, Any], path: str) -> None:
    """q: at most 500; page: 1 to the window; per_page: 1 to 100; after: an int64 from 0; facets named."""
    params = _params(paths, path)
    assert params["q"]["maxLength"] == 500
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, MAX_RESULT_WINDOW)
    assert (params["per_page"]["minimum"], params["per_page"]["maximum"]) == (1, MAX_PER_PAGE)
    assert (params["after"]["minimum"], params["after"]["maximum"]) == (0, MAX_RANK_ID)
    assert params["correct"]["type"] == "boolean"
    (facets,) = [param for param in paths[path]["get"]["parameters"] if param["name"] == "facets"]
    assert all(f"`{name}`" in facets["description"] for name in FACET_NAMES)


ACCEPTED = ["subject", "subject,year", " subject , price_band ,condition", "", ",", "year,,publisher"]
REFUSED = ["colour", "subjects", "subject;year", "Subject", "subject\tyear", "year,colour", "price band"]


@pytest.mark.parametrize("facets", [*ACCEPTED, *FACET_NAMES, *REFUSED])
def test_the_facets_pattern_accepts_exactly_what_the_server_does(paths: dict[str, Any], facets: str) -> None:
    """A facets value matches the documented pattern exactly when the service accepts it."""
    pattern = _params(paths, "/api/v1/search")["facets"]["pattern"]
    tab_refused = "\t" not in facets  # the text rule refuses controls before any name is read
    assert bool(re.fullmatch(pattern, facets)) == (_server_accepts_facets(facets) and tab_refused)


def test_suggest_and_synonym_parameters_state_their_rules(paths: dict[str, Any]) -> None:
    """suggest: q at most 100, scope shop|works; a synonym set's name: the pattern the service checks."""
    suggest = _params(paths, "/api/v1/search/suggest")
    assert suggest["q"]["maxLength"] == 100
    assert suggest["scope"]["pattern"] == "^(shop|works)$"
    for method in ("put", "delete"):
        name = _params(paths, "/api/v1/search/synonyms/{name}", method)["name"]
        assert (name["pattern"], name["maxLength"]) == (SYNONYM_NAME.pattern, 60)
