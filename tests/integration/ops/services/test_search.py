"""Search round trips against Typesense: indexing, typo-tolerant queries, highlights and facets."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import typesense
from typesense.types.document import DocumentSchema, DocumentWriteParameters, SearchParameters

from folio.core.settings import Settings

pytestmark = [
    pytest.mark.integration,
    # typesense 2.x warns on every collection handle about APIs that changed in server
    # v30; the server here is 0.24, where those APIs are the current ones.
    pytest.mark.filterwarnings(r"ignore:\w+ is deprecated on v30\+:DeprecationWarning"),
]

BOOKS: list[DocumentSchema] = [
    {
        "id": "1",
        "title": "The Left Hand of Darkness",
        "author": "Ursula K. Le Guin",
        "genre": "sf",
        "year": 1969,
    },
    {
        "id": "2",
        "title": "A Wizard of Earthsea",
        "author": "Ursula K. Le Guin",
        "genre": "fantasy",
        "year": 1968,
    },
    {"id": "3", "title": "The Dispossessed", "author": "Ursula K. Le Guin", "genre": "sf", "year": 1974},
    {"id": "4", "title": "Dune", "author": "Frank Herbert", "genre": "sf", "year": 1965},
    {"id": "5", "title": "The Hobbit", "author": "J. R. R. Tolkien", "genre": "fantasy", "year": 1937},
    {"id": "6", "title": "Middlemarch", "author": "George Eliot", "genre": "classic", "year": 1871},
]


CREATE: DocumentWriteParameters = {"action": "create"}


@pytest.fixture
def client(settings: Settings, require_service: Callable[[str], None]) -> Iterator[typesense.Client]:
    """A Typesense client with the admin key, its connections closed afterwards."""
    require_service("search")
    cfg = settings.services.search
    client = typesense.Client(
        {
            "api_key": cfg.api_key.get_secret_value(),
            "nodes": [{"host": cfg.host, "port": cfg.port, "protocol": "http"}],
            "connection_timeout_seconds": 5,
        }
    )
    yield client
    client.api_call.close()


@pytest.fixture
def books(client: typesense.Client) -> Iterator[str]:
    """A collection of books under a name no other test uses, dropped afterwards."""
    name = f"test_books_{uuid.uuid4().hex[:12]}"
    client.collections.create(
        {
            "name": name,
            "fields": [
                {"name": "title", "type": "string"},
                {"name": "author", "type": "string", "facet": True},
                {"name": "genre", "type": "string", "facet": True},
                {"name": "year", "type": "int32"},
            ],
            "default_sorting_field": "year",
        }
    )
    yield name
    client.collections[name].delete()


def _search(client: typesense.Client, collection: str, params: SearchParameters) -> dict[str, Any]:
    return dict(client.collections[collection].documents.search(params))


def test_indexed_documents_are_found_despite_typos(client: typesense.Client, books: str) -> None:
    """A misspelt query finds the right book and highlights the matched words."""
    results = client.collections[books].documents.import_(BOOKS, CREATE)
    assert [r["success"] for r in results] == [True] * len(BOOKS)

    found = _search(client, books, {"q": "dispossesed", "query_by": "title,author"})
    assert found["found"] == 1
    hit = found["hits"][0]
    assert hit["document"]["title"] == "The Dispossessed"
    highlighted = {h["field"]: h for h in hit["highlights"]}
    assert "<mark>Dispossessed</mark>" in highlighted["title"]["snippet"]

    by_author = _search(client, books, {"q": "ursla le gin", "query_by": "author", "sort_by": "year:asc"})
    assert [h["document"]["id"] for h in by_author["hits"]] == ["2", "1", "3"]


def test_facet_counts_reflect_the_matching_documents(client: typesense.Client, books: str) -> None:
    """Facet counts cover every match of the query, and a filter narrows them."""
    client.collections[books].documents.import_(BOOKS, CREATE)

    everything = _search(client, books, {"q": "*", "query_by": "title", "facet_by": "genre,author"})
    genres = {c["value"]: c["count"] for c in everything["facet_counts"][0]["counts"]}
    assert genres == {"sf": 3, "fantasy": 2, "classic": 1}

    modern = _search(
        client, books, {"q": "*", "query_by": "title", "facet_by": "genre", "filter_by": "year:>1950"}
    )
    assert modern["found"] == 4
    assert {c["value"]: c["count"] for c in modern["facet_counts"][0]["counts"]} == {"sf": 3, "fantasy": 1}


def test_requests_without_the_api_key_are_refused(settings: Settings, books: str) -> None:
    """The API refuses a request that lacks the admin key or carries a wrong one."""
    url = f"{settings.services.search.url}/collections/{books}"
    assert httpx.get(url, timeout=5.0).status_code == 401
    assert httpx.get(url, headers={"X-TYPESENSE-API-KEY": "wrong"}, timeout=5.0).status_code == 401
