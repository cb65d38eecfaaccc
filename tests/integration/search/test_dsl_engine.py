"""Compiled DSL queries on the real Typesense 0.24.1: each construct finds exactly the expected documents.

The collection is generated for the test (``tests.support.search.generated_work``: titles
and people used as plain strings, not catalogue data), built with the real schema and
document builder of ``folio.search.indexes``, under a prefix of the test's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest

from folio.catalog.api import Condition, parse_isbn
from folio.search.api import SearchBackend
from folio.search.dsl import DEFAULT_TUNING, TUNINGS, Tuning, compile_query, parse_query
from folio.search.indexes import ensure_index, listing_document, work_document
from tests.support.search import generated_listing, generated_work

pytestmark = pytest.mark.integration

SHAKESPEARE = ("William Shakespeare",)
WORKS = {
    "lear": generated_work(
        "King Lear", authors=SHAKESPEARE, year=1994, subjects=("Drama", "Tragedy"), isbn13="9780671722722"
    ),
    "richard": generated_work(
        "The Tragedy of King Richard the Third", authors=SHAKESPEARE, year=1990, subjects=("History plays",)
    ),
    "errors": generated_work("The Comedy of Errors", authors=SHAKESPEARE, year=1999, subjects=("Drama",)),
    "nonsense": generated_work(
        "A Book of Nonsense", authors=("Edward Lear",), year=1846, subjects=("Poetry",)
    ),
    "running": generated_work(
        "The Running Man", authors=("Richard Bachman",), year=1982, subjects=("Fiction",)
    ),
    "bookshop": generated_work("King Lear in the Used Bookshop", year=2005, subjects=("Fiction",)),
    "chronicles": generated_work("The Lear King Chronicles", year=None, subjects=("Fiction",)),
    "pride": generated_work(
        "Pride and Prejudice", authors=("Jane Austen",), year=1813, subjects=("Fiction", "Love stories")
    ),
}
NAME_OF = {str(work.id): name for name, work in WORKS.items()}

Search = Callable[..., Awaitable[set[str]]]


@pytest.fixture
async def search(backend: SearchBackend) -> Search:
    """A works collection of the generated works; returns a function: DSL query -> names of the hits."""
    alias = backend.names.works()
    collection = await ensure_index(backend.engine, alias, names=backend.names)
    failures = await backend.engine.import_documents(collection, [work_document(w) for w in WORKS.values()])
    assert failures == []

    async def run(text: str, tuning: Tuning = DEFAULT_TUNING) -> set[str]:
        compiled = compile_query(parse_query(text), tuning=tuning)
        body = await backend.engine.search(alias, {**compiled.params(), "per_page": 50})
        return {NAME_OF[hit["document"]["id"]] for hit in body["hits"]}

    return run


async def test_phrase_matches_words_in_order(search: Search) -> None:
    """A quoted phrase matches words in order: the Lear King Chronicles is not found; bare words find it."""
    assert await search('"king lear"') == {"lear", "bookshop"}
    assert await search("king lear") == {"lear", "bookshop", "chronicles"}


async def test_exclusion_in_q(search: Search) -> None:
    """-used removes the document containing used (stemmed: use), alone or after words."""
    assert await search("king lear -used") == {"lear", "chronicles"}
    assert await search('lear -"lear king"') == {"lear", "bookshop", "nonsense"}
    assert await search("-lear") == set(WORKS) - {"lear", "bookshop", "chronicles", "nonsense"}


async def test_stemming_meets_inflections(search: Search) -> None:
    """Running, runs and run all find The Running Man: the query goes through the index's analysis."""
    assert await search("runs") == {"running"}
    assert await search("run") == {"running"}
    assert await search("running men") == {"running"}


async def test_field_restriction(search: Search) -> None:
    """author:lear finds Edward Lear's book, title:lear the Lear titles; not the other way round."""
    assert await search("author:lear") == {"nonsense"}
    assert await search("title:lear") == {"lear", "bookshop", "chronicles"}
    assert await search('title:"king lear" author:shakespeare') == {"lear"}
    assert await search("title^3:lear") == {"lear", "bookshop", "chronicles"}


async def test_year_ranges(search: Search) -> None:
    """Numeric filters: exact, open and closed ranges, and negation (documents without a year never match)."""
    assert await search("year:1990") == {"richard"}
    assert await search("year:1990..2000") == {"richard", "errors", "lear"}
    assert await search("year:>1990") == {"errors", "lear", "bookshop"}
    assert await search("year:<1900") == {"nonsense", "pride"}
    assert await search("NOT year:1990") == set(WORKS) - {"richard", "chronicles"}
    assert await search("shakespeare year:>1990") == {"errors", "lear"}


async def test_or_between_free_words_and_filters(search: Search) -> None:
    """OR compiles to a filter: free words under OR match any stemmed field."""
    assert await search("(tragedy OR comedy) AND author:shakespeare") == {"richard", "errors"}
    assert await search("nonsense OR prejudice") == {"nonsense", "pride"}
    assert await search("subject:poetry OR year:<1900") == {"nonsense", "pride"}
    assert await search("(subject:drama AND year:>1995) OR author:austen") == {"errors", "pride"}


async def test_subject_and_isbn_filters(search: Search) -> None:
    """subject: matches a whole subject, case-insensitively; NOT excludes it; isbn: takes ISBN-10 too."""
    assert await search("subject:drama") == {"lear", "errors"}
    assert await search('subject:"love stories"') == {"pride"}
    assert await search("subject:love") == set()
    assert await search("NOT subject:fiction") == {"lear", "richard", "errors", "nonsense"}
    assert await search("NOT (subject:fiction OR subject:drama)") == {"richard", "nonsense"}
    isbn10 = parse_isbn("9780671722722").isbn10
    assert isbn10 is not None
    assert await search(f"isbn:{isbn10}") == {"lear"}
    assert await search("isbn:978-0-671-72272-2") == {"lear"}


async def test_every_tuning_runs_on_the_engine(search: Search) -> None:
    """Each named tuning's parameters are accepted by 0.24.1; unstemmed matches the raw title words."""
    for tuning in TUNINGS.values():
        assert "running" in await search("running man", tuning)
    assert await search("lera", TUNINGS["default"]) >= {"lear"}
    assert await search("lera", TUNINGS["no-typos"]) == set()


async def test_price_and_condition_on_listings(backend: SearchBackend) -> None:
    """price: in major units and condition: filter a shop's listings."""
    tenant = uuid.uuid4()
    alias = backend.names.shop(tenant)
    collection = await ensure_index(backend.engine, alias, names=backend.names)
    cheap = generated_listing(WORKS["lear"], price_cents=1250, condition=Condition.GOOD)
    dear = generated_listing(WORKS["pride"], price_cents=2500, condition=Condition.LIKE_NEW)
    exact = generated_listing(WORKS["errors"], price_cents=2000, condition=Condition.NEW)
    listings = {
        str(item.listing.id): name for item, name in ((cheap, "cheap"), (dear, "dear"), (exact, "exact"))
    }
    documents = [listing_document(item, tenant_id=tenant) for item in (cheap, dear, exact)]
    assert await backend.engine.import_documents(collection, documents) == []

    async def found(text: str) -> set[str]:
        params = compile_query(parse_query(text)).params()
        body = await backend.engine.search(alias, {**params, "per_page": 50})
        return {listings[hit["document"]["id"]] for hit in body["hits"]}

    assert await found("price:<20") == {"cheap"}
    assert await found("price:<=20") == {"cheap", "exact"}
    assert await found("price:12.50..20") == {"cheap", "exact"}
    assert await found("condition:like-new") == {"dear"}
    assert await found("-condition:new price:>10") == {"cheap", "dear"}
