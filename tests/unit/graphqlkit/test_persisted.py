"""Persisted queries: the APQ protocol and the allow-list mode (lite mode's in-process store)."""

from __future__ import annotations

import pytest

from folio.core.errors import ValidationFailedError
from folio.graphqlkit import PersistedQueries, query_hash
from folio.graphqlkit.problems import PersistedQueryNotFoundError, PersistedQueryRequiredError

pytestmark = pytest.mark.unit

QUERY = "{ shop { id } }"


def sent(query: str = QUERY) -> dict[str, object]:
    """The APQ extensions of ``query``."""
    return {"persistedQuery": {"version": 1, "sha256Hash": query_hash(query)}}


async def test_an_unknown_hash_alone_is_persisted_query_not_found() -> None:
    """The client must send the text once: the APQ miss."""
    store = PersistedQueries(None, ttl_s=60, persisted_only=False)
    with pytest.raises(PersistedQueryNotFoundError) as missed:
        await store.resolve(query=None, extensions=sent())
    assert str(missed.value) == "PersistedQueryNotFound"


async def test_a_hash_sent_with_its_query_is_stored_for_the_next_request() -> None:
    """Hash and text register it; the hash alone then resolves to the text."""
    store = PersistedQueries(None, ttl_s=60, persisted_only=False)
    assert await store.resolve(query=QUERY, extensions=sent()) == QUERY
    assert await store.resolve(query=None, extensions=sent()) == QUERY


async def test_a_text_whose_hash_is_not_the_one_sent_is_refused() -> None:
    """The text must hash to the hash sent, even when the hash is stored."""
    store = PersistedQueries(None, ttl_s=60, persisted_only=False)
    await store.resolve(query=QUERY, extensions=sent())
    with pytest.raises(ValidationFailedError):
        await store.resolve(query="{ shop { slug } }", extensions=sent())


async def test_a_malformed_hash_is_refused() -> None:
    """sha256Hash must be 64 hex digits."""
    store = PersistedQueries(None, ttl_s=60, persisted_only=False)
    with pytest.raises(ValidationFailedError):
        await store.resolve(query=None, extensions={"persistedQuery": {"sha256Hash": "abc"}})


async def test_allow_list_mode_runs_only_registered_queries() -> None:
    """persisted_only: free text and unknown hashes are refused, even with their text; registered ones run."""
    store = PersistedQueries(None, ttl_s=60, persisted_only=True)
    with pytest.raises(PersistedQueryRequiredError):
        await store.resolve(query=QUERY, extensions=None)
    with pytest.raises(PersistedQueryRequiredError):
        await store.resolve(query=QUERY, extensions=sent())
    digest = await store.register(QUERY)
    assert digest == query_hash(QUERY)
    assert await store.resolve(query=None, extensions=sent()) == QUERY
