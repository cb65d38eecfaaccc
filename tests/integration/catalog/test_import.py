"""Bulk import on both backends, from generated rows: counts, quarantine, idempotence, crash and re-run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.api import list_import_runs, list_quarantine
from folio.catalog.importer import Candidate, Rejection, import_works, map_book_crossing_row
from folio.catalog.models import Work
from folio.core.db import Database
from folio.core.outbox import OutboxEvent
from tests.integration.catalog.conftest import generated_isbn
from tests.unit.catalog.test_importer_mapping import GeneratedRow

pytestmark = pytest.mark.integration


def generated_rows(isbns: list[str], *, title: str = "Generated Title") -> list[Candidate | Rejection]:
    """Generated Book-Crossing-shaped rows for ``isbns`` plus four bad ones, mapped as the importer does."""
    rows = [
        GeneratedRow(
            i + 2,
            f"generated line {i}",
            {
                "ISBN": isbn,
                "Book-Title": f"{title} {i}",
                "Book-Author": "Gen Author",
                "Year-Of-Publication": "0",
            },
        )
        for i, isbn in enumerate(isbns)
    ]
    rows += [
        GeneratedRow(
            900, "bad isbn", {"ISBN": "0195153449", "Book-Title": "X", "Year-Of-Publication": "1999"}
        ),
        GeneratedRow(
            901, "future", {"ISBN": generated_isbn(), "Book-Title": "X", "Year-Of-Publication": "2999"}
        ),
        GeneratedRow(
            902, "no title", {"ISBN": generated_isbn(), "Book-Title": " ", "Year-Of-Publication": "1"}
        ),
        GeneratedRow(903, '"half;line', None, "unterminated quote"),
    ]
    return [map_book_crossing_row(row) for row in rows]


async def works_of(db: Database, source: str) -> int:
    """How many works ``source`` has."""

    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).where(Work.source == source))).scalar_one())

    return await db.run(work)


async def outbox_rows(db: Database) -> list[tuple[str, str, uuid.UUID | None]]:
    """Every outbox row as ``(entity, op, entity_id)``, oldest first."""

    async def work(session: AsyncSession) -> list[tuple[str, str, uuid.UUID | None]]:
        statement = select(OutboxEvent.payload).where(OutboxEvent.topic == "catalog").order_by(OutboxEvent.id)
        return [
            (
                payload["entity"],
                payload["op"],
                None if payload["entity_id"] is None else uuid.UUID(payload["entity_id"]),
            )
            for payload in (await session.execute(statement)).scalars()
        ]

    return await db.run(work)


async def work_ids_of(db: Database, source: str) -> set[uuid.UUID]:
    """The ids of ``source``'s works."""

    async def work(session: AsyncSession) -> set[uuid.UUID]:
        return set((await session.execute(select(Work.id).where(Work.source == source))).scalars())

    return await db.run(work)


async def test_import_is_idempotent_and_quarantines(any_database: Database) -> None:
    """A second run inserts nothing and finds every row unchanged; bad rows are quarantined each time."""
    source = f"test-{uuid.uuid4().hex[:12]}"
    isbns = [generated_isbn() for _ in range(25)]
    first = await import_works(any_database, source=source, items=generated_rows(isbns), batch_size=10)
    assert first.status == "completed"
    assert first.counts == {
        "read": 29,
        "inserted": 25,
        "updated": 0,
        "unchanged": 0,
        "quarantined": 4,
        "repaired": 0,
    }
    assert first.reasons == {"invalid-isbn": 1, "impossible-year": 1, "missing-title": 1, "parse-error": 1}
    assert await works_of(any_database, source) == 25

    second = await import_works(any_database, source=source, items=generated_rows(isbns), batch_size=10)
    assert second.counts == {
        "read": 29,
        "inserted": 0,
        "updated": 0,
        "unchanged": 25,
        "quarantined": 4,
        "repaired": 0,
    }
    assert await works_of(any_database, source) == 25

    changed = await import_works(any_database, source=source, items=generated_rows(isbns, title="Renamed"))
    assert (changed.counts["updated"], changed.counts["unchanged"]) == (25, 0)

    quarantined = await list_quarantine(any_database, run_id=second.id)
    assert sorted((row.line_no, row.reason) for row in quarantined) == [
        (900, "invalid-isbn"),
        (901, "impossible-year"),
        (902, "missing-title"),
        (903, "parse-error"),
    ]
    assert [
        row.raw for row in await list_quarantine(any_database, run_id=second.id, reason="parse-error")
    ] == ['"half;line']
    assert second.id in [run.id for run in await list_import_runs(any_database, limit=200)]


async def test_duplicates_and_isbns_of_other_sources(any_database: Database) -> None:
    """The same ISBN twice in a run, or one another source holds, is quarantined, not double-written."""
    isbn = generated_isbn()
    taken = generated_isbn()
    await import_works(any_database, source=f"test-{uuid.uuid4().hex[:12]}", items=generated_rows([taken]))
    source = f"test-{uuid.uuid4().hex[:12]}"
    run = await import_works(
        any_database, source=source, items=generated_rows([isbn, isbn, taken]), batch_size=2
    )
    assert run.counts["inserted"] == 1
    assert run.reasons["duplicate-key"] == 1
    assert run.reasons["isbn-catalogued-elsewhere"] == 1
    assert await works_of(any_database, source) == 1


async def test_crash_mid_import_then_rerun(any_database: Database) -> None:
    """Batches committed before a crash stay; a re-run completes the rest with no duplicates."""
    source = f"test-{uuid.uuid4().hex[:12]}"
    isbns = [generated_isbn() for _ in range(30)]
    items = generated_rows(isbns)

    def crashing() -> Iterator[Candidate | Rejection]:
        for count, item in enumerate(items):
            if count == 25:
                raise OSError("generated crash: the disk went away")
            yield item

    with pytest.raises(OSError, match="generated crash"):
        await import_works(any_database, source=source, items=crashing(), batch_size=10)
    assert await works_of(any_database, source) == 20
    failed = next(run for run in await list_import_runs(any_database, limit=200) if run.source == source)
    assert (failed.status, failed.counts["inserted"]) == ("failed", 20)

    rerun = await import_works(any_database, source=source, items=items, batch_size=10)
    assert rerun.status == "completed"
    assert (rerun.counts["inserted"], rerun.counts["unchanged"], rerun.counts["quarantined"]) == (10, 20, 4)
    assert await works_of(any_database, source) == 30


async def test_limit_stops_early(sqlite_database: Database) -> None:
    """``limit`` reads at most that many input rows."""
    run = await import_works(
        sqlite_database,
        source="test-limit",
        items=generated_rows([generated_isbn() for _ in range(10)]),
        limit=4,
    )
    assert run.counts["read"] == 4


async def test_only_inserted_and_updated_works_reach_the_outbox(sqlite_database: Database) -> None:
    """Each inserted or updated work enqueues one upsert; a re-run of the same input enqueues nothing.

    On a fresh SQLite file: the shared PostgreSQL's outbox also holds other tests' rows.
    """
    db = sqlite_database
    source = "test-outbox"
    isbns = [generated_isbn() for _ in range(12)]
    items = generated_rows(isbns)
    await import_works(db, source=source, items=items, batch_size=5)
    ids = await work_ids_of(db, source)
    first = await outbox_rows(db)
    assert sorted(first, key=str) == sorted((("work", "upsert", work_id) for work_id in ids), key=str)

    rerun = await import_works(db, source=source, items=items, batch_size=5)
    assert rerun.counts["unchanged"] == 12
    assert await outbox_rows(db) == first

    renamed = generated_rows(isbns[:3], title="Renamed") + items[3:12]
    changed = await import_works(db, source=source, items=renamed, batch_size=5)
    assert (changed.counts["updated"], changed.counts["unchanged"]) == (3, 9)
    added = (await outbox_rows(db))[len(first) :]
    assert len(added) == 3
    assert {entity_id for _, _, entity_id in added} <= ids


async def test_imported_works_are_published(sqlite_database: Database) -> None:
    """A verified import shares its works with every shop: inserted published, with no owning shop."""
    source = "test-published"
    await import_works(sqlite_database, source=source, items=generated_rows([generated_isbn()]))

    async def work(session: AsyncSession) -> list[tuple[bool, uuid.UUID | None]]:
        rows = await session.execute(
            select(Work.published, Work.owner_tenant_id).where(Work.source == source)
        )
        return [(published, owner) for published, owner in rows]

    assert await sqlite_database.run(work) == [(True, None)]


async def test_a_bulk_run_ends_with_one_reindex_instead_of_a_row_per_work(sqlite_database: Database) -> None:
    """Past the bulk threshold a run stops enqueuing per work and asks for one reindex at its end."""
    db = sqlite_database
    source = "test-bulk"
    items = generated_rows([generated_isbn() for _ in range(12)])
    await import_works(db, source=source, items=items, batch_size=5, bulk_changes=5)
    rows = await outbox_rows(db)
    assert [(entity, op) for entity, op, _ in rows] == [("work", "upsert")] * 5 + [
        (
            "catalog",
            "reindex",
        )
    ]
    await import_works(db, source=source, items=items, batch_size=5, bulk_changes=5)
    assert await outbox_rows(db) == rows


async def test_a_run_after_a_crash_asks_for_a_reindex(sqlite_database: Database) -> None:
    """A crashed run may have died past the bulk threshold before its reindex: the next run asks for one."""
    db = sqlite_database
    source = "test-crash-reindex"
    items = generated_rows([generated_isbn() for _ in range(12)])

    def crashing() -> Iterator[Candidate | Rejection]:
        yield from items[:10]
        raise OSError("generated crash")

    with pytest.raises(OSError, match="generated crash"):
        await import_works(db, source=source, items=crashing(), batch_size=5, bulk_changes=5)
    assert [op for entity, op, _ in await outbox_rows(db) if entity == "catalog"] == ["reindex"]
    await import_works(db, source=source, items=items, batch_size=5, bulk_changes=5)
    assert [op for entity, op, _ in await outbox_rows(db) if entity == "catalog"] == ["reindex", "reindex"]
