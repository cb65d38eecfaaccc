"""Import and preview runs over the fetched data sets, and reading back their records.

Wires the readers of ``folio.datasets.api`` (``read_book_crossing_books``,
``read_public_domain_texts``) to ``import_works`` and ``generate_previews``; a source is
read from ``<data_dir>/<source>``, where ``folio data fetch`` puts it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.importer import (
    BOOK_CROSSING,
    PUBLIC_DOMAIN_SOURCES,
    Candidate,
    Rejection,
    TextLike,
    import_works,
    map_book_crossing_row,
    map_public_domain_text,
)
from folio.catalog.models import ImportRun, QuarantinedRow
from folio.catalog.previews import PreviewReport, generate_previews
from folio.catalog.schemas import ImportRunRead, QuarantinedRowRead
from folio.core.db import Database
from folio.core.errors import InvalidParam, ValidationFailedError
from folio.core.objectstore import ObjectStore
from folio.datasets.api import read_book_crossing_books, read_public_domain_texts

__all__ = ["SOURCES", "import_source", "list_import_runs", "list_quarantine", "run_previews"]

SOURCES = (BOOK_CROSSING, *PUBLIC_DOMAIN_SOURCES)
"""Every source ``folio catalog import`` accepts."""


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValidationFailedError(
            f"unknown source {source!r}; choose one of {', '.join(SOURCES)}",
            errors=[InvalidParam(name="source", reason="unknown source")],
        )


def read_items(source: str, data_dir: Path) -> Iterator[Candidate | Rejection]:
    """The mapped rows of a fetched source (``<data_dir>/<source>``), streaming."""
    _check_source(source)
    folder = data_dir / source
    if source == BOOK_CROSSING:
        return (map_book_crossing_row(row) for row in read_book_crossing_books(folder))
    texts = read_public_domain_texts(source, folder)
    return (map_public_domain_text(line_no, text) for line_no, text in enumerate(texts, start=1))


async def import_source(
    db: Database,
    *,
    source: str,
    data_dir: Path,
    limit: int | None = None,
    batch_size: int = 1000,
    on_batch: Callable[[int], None] | None = None,
) -> ImportRunRead:
    """Import a fetched source into the catalogue (see ``folio.catalog.importer``)."""
    return await import_works(
        db,
        source=source,
        items=read_items(source, data_dir),
        batch_size=batch_size,
        limit=limit,
        on_batch=on_batch,
    )


async def run_previews(
    db: Database,
    store: ObjectStore,
    *,
    source: str,
    data_dir: Path,
    limit: int | None = None,
    on_item: Callable[[], None] | None = None,
) -> PreviewReport:
    """Generate previews for the works of a public-domain source."""
    _check_source(source)
    if source not in PUBLIC_DOMAIN_SOURCES:
        raise ValidationFailedError(f"previews are made for public-domain texts only, not {source!r}")
    texts: Iterator[TextLike] = read_public_domain_texts(source, data_dir / source)
    return await generate_previews(db, store, source=source, texts=texts, limit=limit, on_item=on_item)


async def list_import_runs(db: Database, *, limit: int = 20) -> list[ImportRunRead]:
    """The latest import runs, newest first."""

    async def work(session: AsyncSession) -> list[ImportRunRead]:
        statement = select(ImportRun).order_by(ImportRun.started_at.desc()).limit(limit)
        return [ImportRunRead.model_validate(run) for run in (await session.execute(statement)).scalars()]

    return await db.run(work, readonly=True)


async def list_quarantine(
    db: Database, *, run_id: uuid.UUID | None = None, reason: str | None = None, limit: int = 50
) -> list[QuarantinedRowRead]:
    """Rows one run refused (default: the latest run that refused any), by line; optionally one reason."""

    async def work(session: AsyncSession) -> list[QuarantinedRowRead]:
        run = run_id
        if run is None:
            # The latest run that refused anything: a clean run after a dirty one would
            # otherwise hide the rows someone is looking for.
            refused = select(QuarantinedRow.id).where(QuarantinedRow.run_id == ImportRun.id).exists()
            run = await session.scalar(
                select(ImportRun.id).where(refused).order_by(ImportRun.started_at.desc()).limit(1)
            )
            if run is None:
                return []
        statement = select(QuarantinedRow).where(QuarantinedRow.run_id == run)
        if reason is not None:
            statement = statement.where(QuarantinedRow.reason == reason)
        statement = statement.order_by(QuarantinedRow.id).limit(limit)
        return [
            QuarantinedRowRead.model_validate(row) for row in (await session.execute(statement)).scalars()
        ]

    return await db.run(work, readonly=True)
