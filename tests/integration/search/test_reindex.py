"""Reindexing swaps an alias to a freshly built collection while queries keep answering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from folio.search.api import SearchBackend
from folio.search.indexes import SynonymSet, reindex, work_document
from tests.support.search import generated_work

pytestmark = pytest.mark.integration


async def test_queries_keep_answering_during_a_reindex(backend: SearchBackend) -> None:
    """Every query made while a reindex runs answers with results; afterwards the old collection is gone."""
    engine, alias = backend.engine, backend.names.works()
    first = [generated_work(f"Harbour Tale {i}") for i in range(200)]
    initial = await reindex(engine, alias, [work_document(w) for w in first], names=backend.names)
    assert initial.documents == 200
    second = [*first, *(generated_work(f"Harbour Saga {i}") for i in range(1800))]
    answers: list[int] = []
    done = asyncio.Event()

    async def query_until_done() -> None:
        while not done.is_set():
            body = await engine.search(alias, {"q": "harbour", "query_by": "title_stem", "per_page": 1})
            answers.append(int(body["found"]))
            await asyncio.sleep(0)

    querying = asyncio.create_task(query_until_done())
    report = await reindex(
        engine, alias, [work_document(w) for w in second], names=backend.names, batch_size=200
    )
    done.set()
    await querying
    assert len(answers) > 3, "the reindex finished before queries could overlap it"
    assert all(found >= 200 for found in answers), answers
    assert report.previous == initial.collection
    assert report.documents == 2000
    assert await engine.get_alias(alias) == report.collection
    assert await engine.get_collection(initial.collection) is None
    assert (await engine.search(alias, {"q": "harbour", "query_by": "title_stem"}))["found"] == 2000


async def test_a_failed_reindex_leaves_the_alias_alone(backend: SearchBackend) -> None:
    """A reindex whose document source fails drops its half-built collection; the old one serves on."""
    engine, alias = backend.engine, backend.names.works()
    initial = await reindex(engine, alias, [work_document(generated_work("Kept"))], names=backend.names)

    async def failing_source() -> AsyncIterator[dict[str, Any]]:
        yield work_document(generated_work("Never indexed"))
        raise RuntimeError("the catalogue went away")

    with pytest.raises(RuntimeError):
        await reindex(engine, alias, failing_source(), names=backend.names)
    assert await engine.get_alias(alias) == initial.collection
    leftovers = [c["name"] for c in await engine.list_collections() if c["name"].startswith(alias + "_")]
    assert leftovers == [initial.collection]


async def test_reindex_copies_synonyms_into_the_new_collection(backend: SearchBackend) -> None:
    """Synonym sets passed to a reindex are live in the collection the alias ends on."""
    engine, alias = backend.engine, backend.names.works()
    report = await reindex(
        engine,
        alias,
        [work_document(generated_work("Science Fiction Stories"))],
        names=backend.names,
        synonyms=[SynonymSet(name="scifi", synonyms=("scifi", "science"))],
    )
    assert report.synonyms == 1
    assert [s["id"] for s in await engine.list_synonyms(report.collection)] == ["scifi"]
    body = await engine.search(alias, {"q": "scifi", "query_by": "title_stem"})
    assert body["found"] == 1
