"""Bulk import of works from public data sets, streaming, idempotent and crash-safe.

The pipeline: a reader (``folio.datasets.api``) yields raw rows; ``map_book_crossing_row``
and ``map_public_domain_text`` turn each into a ``Candidate`` work or a ``Rejection``
with a reason code; ``import_works`` writes them in batches.

Key contracts:

- **Idempotent.** Works are keyed by ``(source, source_key)`` (the ISBN-13 for
  Book-Crossing, the text's key for public-domain texts) and upserted: a second run of
  the same input inserts nothing and reports every row ``unchanged``.
- **Crash-safe.** Each batch commits on its own, with its quarantine rows and the run's
  running counts; a crash loses at most the batch in flight, and a re-run completes
  the rest without duplicates (the upsert) and with a ``reindex`` outbox row.
- **Nothing is dropped silently.** Every refused row lands in ``catalog_quarantine``
  with a reason code (``REASONS``) and the raw line.
- **One outbox row per run**, ``entity="catalog", op="reindex"``, written when the run
  changed anything (or an earlier run of the source did not finish), instead of one
  row per work.
"""

from __future__ import annotations

import dataclasses
import html
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.isbn import InvalidIsbnError, parse_isbn
from folio.catalog.models import ImportRun, QuarantinedRow, Work
from folio.catalog.outbox import record_change
from folio.catalog.schemas import ImportRunRead, check_year
from folio.core.columns import utcnow
from folio.core.db import Database

__all__ = [
    "BOOK_CROSSING",
    "PUBLIC_DOMAIN_SOURCES",
    "REASONS",
    "Candidate",
    "Rejection",
    "import_works",
    "map_book_crossing_row",
    "map_public_domain_text",
]

log = structlog.get_logger(__name__)

BOOK_CROSSING = "book-crossing"
PUBLIC_DOMAIN_SOURCES = ("shakespeare-texts", "austen-novels", "bible-kjv", "devils-dictionary")
"""The public-domain text collections ``folio catalog import`` knows."""

REASONS: dict[str, str] = {
    "parse-error": "the reader could not split the line into fields",
    "undecodable-text": "a field holds bytes that are not text (U+FFFD or NUL)",
    "invalid-isbn": "the ISBN has a wrong length, character or check digit",
    "missing-title": "the title is empty",
    "impossible-year": "the year is not 0 (unknown) and not between 1000 and next year",
    "duplicate-key": "an earlier row of the same run had the same key (ISBN)",
    "isbn-catalogued-elsewhere": "another source already catalogued this ISBN",
}
"""Every quarantine reason code, and what it means."""

COMPARED = (
    "isbn13",
    "isbn10",
    "title",
    "authors",
    "publisher",
    "year",
    "subjects",
    "language",
    "cover_url",
    "description",
)
"""The columns an import writes; a row whose values all equal the stored ones is ``unchanged``."""


class RawRowLike(Protocol):
    """What ``folio.datasets.api.read_book_crossing_books`` yields."""

    @property
    def line_no(self) -> int: ...
    @property
    def raw(self) -> str: ...
    @property
    def fields(self) -> Mapping[str, Any] | None: ...
    @property
    def error(self) -> str | None: ...


class TextLike(Protocol):
    """What ``folio.datasets.api.read_public_domain_texts`` yields."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def author(self) -> str | None: ...
    @property
    def year(self) -> int | None: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Candidate:
    """A work ready to upsert: its key in the source and its column values (``COMPARED``)."""

    line_no: int
    source_key: str
    values: dict[str, Any]
    raw: str


@dataclass(frozen=True)
class Rejection:
    """An input row refused, with a ``REASONS`` code."""

    line_no: int
    reason: str
    detail: str
    raw: str


# --- mapping ------------------------------------------------------------------------------------

_ALIASES: dict[str, tuple[str, ...]] = {
    "isbn": ("ISBN", "isbn"),
    "title": ("Book-Title", "title", "book_title"),
    "author": ("Book-Author", "author", "book_author"),
    "year": ("Year-Of-Publication", "year", "year_of_publication"),
    "publisher": ("Publisher", "publisher"),
    "cover": ("Image-URL-L", "image_url_l", "Image-URL-M", "image_url_m"),
}


def _field(fields: Mapping[str, Any], name: str) -> str:
    for alias in _ALIASES[name]:
        value = fields.get(alias)
        if value is not None:
            return str(value)
    return ""


def _clean(text: str, limit: int) -> str:
    # Book-Crossing escapes some characters as HTML entities (&amp;); undo that, squeeze spaces.
    return " ".join(html.unescape(text).split())[:limit]


def _undecodable(values: Iterable[str]) -> str | None:
    for value in values:
        if "\ufffd" in value or "\x00" in value:
            return value[:200]
    return None


def map_book_crossing_row(row: RawRowLike) -> Candidate | Rejection:
    """One Book-Crossing ``BX-Books`` row as a work, or the reason it is refused.

    Year 0 means "unknown" in that data set and becomes None; other years outside
    1000..next year are refused, as are invalid ISBNs, empty titles and text that did not
    decode.
    """
    if row.error is not None or row.fields is None:
        return Rejection(row.line_no, "parse-error", row.error or "no fields", row.raw)
    fields = row.fields
    bad = _undecodable(str(value) for value in fields.values())
    if bad is not None:
        return Rejection(row.line_no, "undecodable-text", repr(bad), row.raw)
    try:
        isbn = parse_isbn(_field(fields, "isbn"))
    except InvalidIsbnError as exc:
        return Rejection(row.line_no, "invalid-isbn", str(exc), row.raw)
    title = _clean(_field(fields, "title"), 500)
    if not title:
        return Rejection(row.line_no, "missing-title", "", row.raw)
    year_text = _field(fields, "year").strip()
    year: int | None = None
    if year_text not in {"", "0"}:
        try:
            year = check_year(int(year_text))
        except ValueError as exc:
            return Rejection(row.line_no, "impossible-year", f"{year_text!r}: {exc}", row.raw)
    author = _clean(_field(fields, "author"), 200)
    publisher = _clean(_field(fields, "publisher"), 300) or None
    cover = _field(fields, "cover").strip()
    values = {
        "isbn13": isbn.isbn13,
        "isbn10": isbn.isbn10,
        "title": title,
        "authors": [author] if author else [],
        "publisher": publisher,
        "year": year,
        "subjects": [],
        "language": None,
        "cover_url": cover[:1000] if cover.startswith(("http://", "https://")) else None,
        "description": None,
    }
    return Candidate(row.line_no, isbn.isbn13, values, row.raw)


def map_public_domain_text(line_no: int, text: TextLike) -> Candidate | Rejection:
    """One public-domain text as a work (no ISBN), or the reason it is refused."""
    raw = json.dumps({"key": text.key, "title": text.title, "author": text.author, "year": text.year})
    bad = _undecodable([text.title, text.author or "", text.text[:100_000]])
    if bad is not None:
        return Rejection(line_no, "undecodable-text", repr(bad), raw)
    title = " ".join(text.title.split())[:500]
    if not title:
        return Rejection(line_no, "missing-title", "", raw)
    year = text.year
    if year is not None and year != 0:
        try:
            check_year(year)
        except ValueError as exc:
            return Rejection(line_no, "impossible-year", str(exc), raw)
    author = " ".join((text.author or "").split())[:200]
    values = {
        "isbn13": None,
        "isbn10": None,
        "title": title,
        "authors": [author] if author else [],
        "publisher": None,
        "year": year or None,
        "subjects": ["public domain"],
        "language": "en",
        "cover_url": None,
        "description": None,
    }
    return Candidate(line_no, text.key[:200], values, raw)


# --- writing ------------------------------------------------------------------------------------


@dataclass
class _Tally:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }

    def copy(self) -> _Tally:
        """An independent copy (a batch works on one, kept only if it commits)."""
        return dataclasses.replace(self, reasons=dict(self.reasons))

    def reject(self, reason: str) -> None:
        self.quarantined += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def _upsert(session: AsyncSession) -> Any:
    """``INSERT .. ON CONFLICT (source, source_key) DO UPDATE`` in the session's dialect.

    Executed with a list of rows (executemany): SQLAlchemy compiles it once and batches
    the rows itself, where a 1000-row ``VALUES`` list would be compiled anew per batch.
    """
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = module.insert(Work)
    return insert.on_conflict_do_update(
        index_elements=["source", "source_key"],
        set_={
            **{name: getattr(insert.excluded, name) for name in COMPARED},
            "updated_at": insert.excluded.updated_at,
            "version": Work.version + 1,
        },
    )


class _Importer:
    def __init__(self, db: Database, source: str, run_id: uuid.UUID) -> None:
        self.db = db
        self.source = source
        self.run_id = run_id
        self.tally = _Tally()
        self.seen: set[str] = set()

    async def write_batch(self, batch: list[Candidate | Rejection]) -> None:
        """Classify and write one batch in one transaction, with its quarantine rows and counts."""
        before = self.tally
        rejections: list[Rejection] = []
        candidates: dict[str, Candidate] = {}
        for item in batch:
            if isinstance(item, Rejection):
                rejections.append(item)
            elif item.source_key in self.seen:
                rejections.append(Rejection(item.line_no, "duplicate-key", item.source_key, item.raw))
            else:
                self.seen.add(item.source_key)
                candidates[item.source_key] = item

        async def work(session: AsyncSession) -> _Tally:
            tally = before.copy()
            tally.read += len(batch)
            existing = {
                row.source_key: row
                for row in (
                    await session.execute(
                        select(Work).where(Work.source == self.source, Work.source_key.in_(list(candidates)))
                    )
                ).scalars()
            }
            isbns = [c.values["isbn13"] for c in candidates.values() if c.values["isbn13"] is not None]
            taken: dict[str, tuple[str, str]] = {}
            if isbns:
                rows = await session.execute(
                    select(Work.isbn13, Work.source, Work.source_key).where(Work.isbn13.in_(isbns))
                )
                taken = {isbn: (source, key) for isbn, source, key in rows if isbn is not None}
            now = utcnow()
            writes: list[dict[str, Any]] = []
            local = list(rejections)
            for key, candidate in candidates.items():
                isbn = candidate.values["isbn13"]
                if isbn is not None and isbn in taken and taken[isbn] != (self.source, key):
                    other = taken[isbn]
                    local.append(
                        Rejection(
                            candidate.line_no,
                            "isbn-catalogued-elsewhere",
                            f"{other[0]}:{other[1]}",
                            candidate.raw,
                        )
                    )
                    continue
                stored = existing.get(key)
                if stored is not None and all(
                    getattr(stored, name) == candidate.values[name] for name in COMPARED
                ):
                    tally.unchanged += 1
                    continue
                if stored is None:
                    tally.inserted += 1
                else:
                    tally.updated += 1
                writes.append(
                    {
                        "id": uuid.uuid4(),
                        "source": self.source,
                        "source_key": key,
                        **candidate.values,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            if writes:
                await session.execute(_upsert(session), writes)
            for rejection in local:
                tally.reject(rejection.reason)
                session.add(
                    QuarantinedRow(
                        run_id=self.run_id,
                        line_no=rejection.line_no,
                        reason=rejection.reason,
                        detail=rejection.detail[:2000],
                        raw=rejection.raw.replace("\x00", "\\x00")[:10_000],
                    )
                )
            await session.execute(
                update(ImportRun)
                .where(ImportRun.id == self.run_id)
                .values(counts=tally.counts(), reasons=dict(tally.reasons))
            )
            return tally

        self.tally = await self.db.run(work)


async def _start_run(db: Database, source: str) -> tuple[uuid.UUID, bool]:
    """A new ``running`` import run, and whether the previous run of ``source`` did not finish."""

    async def work(session: AsyncSession) -> tuple[uuid.UUID, bool]:
        last_status = await session.scalar(
            select(ImportRun.status)
            .where(ImportRun.source == source)
            .order_by(ImportRun.started_at.desc())
            .limit(1)
        )
        run = ImportRun(
            id=uuid.uuid4(), source=source, status="running", started_at=utcnow(), counts={}, reasons={}
        )
        session.add(run)
        return run.id, last_status is not None and last_status != "completed"

    return await db.run(work)


async def _finish_run(db: Database, importer: _Importer, *, status: str, reindex: bool) -> ImportRunRead:
    async def work(session: AsyncSession) -> ImportRunRead:
        run = (await session.execute(select(ImportRun).where(ImportRun.id == importer.run_id))).scalar_one()
        run.status = status
        run.finished_at = utcnow()
        run.counts = importer.tally.counts()
        run.reasons = dict(importer.tally.reasons)
        if reindex:
            record_change(session, entity="catalog", op="reindex")
        return ImportRunRead.model_validate(run)

    return await db.run(work)


async def import_works(
    db: Database,
    *,
    source: str,
    items: Iterable[Candidate | Rejection],
    batch_size: int = 1000,
    limit: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ImportRunRead:
    """Upsert the ``items`` of ``source`` in batches; returns the finished run with its counts.

    ``limit`` stops after that many input rows. ``on_batch(rows)`` is called after each
    committed batch (progress bars). If anything raises, the run is marked ``failed``
    (what committed stays: a re-run completes it) and the error propagates.
    """
    run_id, earlier_unfinished = await _start_run(db, source)
    importer = _Importer(db, source, run_id)
    batch: list[Candidate | Rejection] = []
    try:
        for count, item in enumerate(items, start=1):
            batch.append(item)
            if len(batch) >= batch_size:
                await importer.write_batch(batch)
                if on_batch is not None:
                    on_batch(len(batch))
                batch = []
            if limit is not None and count >= limit:
                break
        if batch:
            await importer.write_batch(batch)
            if on_batch is not None:
                on_batch(len(batch))
    except Exception:
        changed = importer.tally.inserted + importer.tally.updated > 0
        await _finish_run(db, importer, status="failed", reindex=changed)
        log.warning("catalog.import_failed", source=source, run_id=str(run_id), **importer.tally.counts())
        raise
    changed = importer.tally.inserted + importer.tally.updated > 0
    finished = await _finish_run(db, importer, status="completed", reindex=changed or earlier_unfinished)
    log.info("catalog.imported", source=source, run_id=str(run_id), **finished.counts)
    return finished
