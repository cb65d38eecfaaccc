"""Bulk import of works from public data sets, streaming, idempotent and crash-safe.

The pipeline: a reader (``folio.datasets.api``) yields raw rows; ``map_book_crossing_row``
and ``map_public_domain_text`` turn each into a ``Candidate`` work or a ``Rejection``
with a reason code; ``import_works`` writes them in batches.

Key contracts:

- **Idempotent.** Works are keyed by ``(source, source_key)`` (the ISBN-13 for
  Book-Crossing, the text's key for public-domain texts) and upserted: a second run of
  the same input inserts nothing and reports every row ``unchanged``.
- **Crash-safe.** Each batch commits on its own, with its quarantine rows, its outbox
  rows and the run's running counts; a crash loses at most the batch in flight, and a
  re-run completes the rest without duplicates (the upsert).
- **Nothing is dropped silently.** Every refused row lands in ``catalog_quarantine``
  with a reason code (``REASONS``) and the raw line.
- **Clean text.** Mojibake (UTF-8 read as Latin-1/cp1252, e.g. ``StÃ¼ck``) is repaired
  with ftfy and counted ``repaired``. Doubly encoded letters whose C1 byte was lost
  upstream (``KÃ?Â¶nig``: the ``?`` stood for 0x83) get that byte back first, as
  ``restore_lost_c1_bytes`` explains; text that still cannot be restored is
  quarantined ``unrepairable-text``,
  and text with characters the platform's text rule refuses (``folio.core.text``) is
  quarantined ``undecodable-text``.
- **Only changes reach the search index.** Each inserted or updated work adds one
  ``work``/``upsert`` outbox row in its batch's transaction; unchanged rows add none,
  so re-running an import enqueues nothing. Past ``BULK_CHANGES`` changed works (a
  first load) the run stops adding rows and ends with one ``catalog``/``reindex`` row
  instead (also when it fails, and after a run of the source that did not finish).
- **Imports publish.** The verified public data sets are the catalogue's shared
  source: an imported work is inserted ``published``. An update leaves ``published``
  as the curator set it.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from ftfy import fix_encoding
from ftfy.badness import is_bad
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from folio.catalog.isbn import InvalidIsbnError, parse_isbn
from folio.catalog.models import ImportRun, QuarantinedRow, Work
from folio.catalog.outbox import record_change, record_work_changes
from folio.catalog.schemas import ImportRunRead, check_year
from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.text import find_invalid_character

__all__ = [
    "BOOK_CROSSING",
    "BULK_CHANGES",
    "PUBLIC_DOMAIN_SOURCES",
    "REASONS",
    "Candidate",
    "Rejection",
    "import_works",
    "map_book_crossing_row",
    "map_public_domain_text",
    "repair_text",
]

log = structlog.get_logger(__name__)

BOOK_CROSSING = "book-crossing"
PUBLIC_DOMAIN_SOURCES = ("shakespeare-texts", "austen-novels", "bible-kjv", "devils-dictionary")
"""The public-domain text collections ``folio catalog import`` knows."""

REASONS: dict[str, str] = {
    "parse-error": "the reader could not split the line into fields",
    "undecodable-text": "a field holds a character the text rule refuses (a control, U+FFFD, NUL)",
    "unrepairable-text": "a field is mojibake that lost bytes upstream and cannot be restored",
    "invalid-isbn": "the ISBN has a wrong length, character or check digit",
    "missing-title": "the title is empty",
    "impossible-year": "the year is not 0 (unknown) and not between 1000 and next year",
    "duplicate-key": "an earlier row of the same run had the same key (ISBN)",
    "isbn-catalogued-elsewhere": "another source already catalogued this ISBN",
}
"""Every quarantine reason code, and what it means."""

BULK_CHANGES = 10_000
"""Changed works after which a run stops enqueuing one outbox row per work: past this many,
one ``catalog``/``reindex`` row at the run's end rebuilds the works index faster than the
sync would apply the rows one batch at a time (a first load of Book-Crossing is 265k)."""

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
    repaired: bool = False
    """Whether mojibake in its text was repaired on the way in."""


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


# A Latin-1 letter encoded to UTF-8 twice reads ``Ã`` 0x83 ``Â`` <trail byte>; upstream
# the 0x83 (a C1 control in Latin-1) was replaced by ``?``.
_LOST_C1_BYTE = re.compile("\u00c3\\?\u00c2([\u0080-\u00bf])")


def restore_lost_c1_bytes(text: str) -> str:
    """``text`` with each doubly encoded letter whose middle byte became ``?`` decoded.

    ``Ã?Â¶`` is what ``ö`` (C3 B6) becomes when encoded to UTF-8 twice, read as Latin-1
    and the C1 control 0x83 replaced by ``?``. The lost byte is 0x83 for every letter
    of U+00C0..U+00FF (lead byte C3), 0x82 for the symbols of U+0080..U+00BF (lead C2),
    so the sequence is restored only where lead C3 gives a letter: a symbol such as
    ``¶`` inside a word is not what a title held. Book-Crossing has 5,446 rows with
    mojibake ftfy cannot undo alone; this restores 5,375 of them.
    """

    def letter(match: re.Match[str]) -> str:
        decoded = bytes((0xC3, ord(match.group(1)))).decode("utf-8")
        return decoded if decoded.isalpha() else match.group(0)

    return _LOST_C1_BYTE.sub(letter, text)


class UnrepairableTextError(ValueError):
    """Text that is still mojibake after repair (bytes were lost before Folio read it)."""


def repair_text(text: str) -> tuple[str, bool]:
    """``text`` with mojibake undone, and whether anything was repaired.

    Only encoding mix-ups are fixed (``restore_lost_c1_bytes``, then
    ``ftfy.fix_encoding``): quotes, entities and spacing are left alone. Raises
    ``UnrepairableTextError`` when the result still looks like mojibake or holds
    U+FFFD where ftfy found a byte missing.
    """
    if text.isascii():
        # Mojibake is made of non-ASCII characters; most catalogue text has none, and
        # skipping ftfy for it keeps the import at its former speed.
        return text, False
    repaired = fix_encoding(restore_lost_c1_bytes(text))
    # ftfy marks a byte it found missing with U+FFFD (callers refuse U+FFFD in the input).
    if "\ufffd" in repaired or is_bad(repaired):
        raise UnrepairableTextError(f"{text[:200]!r} is mojibake that cannot be restored")
    return repaired, repaired != text


@dataclass(frozen=True)
class _Fields:
    """A row's text fields after cleaning, and whether any was repaired."""

    values: dict[str, str]
    repaired: bool


def _clean_fields(line_no: int, raw: str, fields: dict[str, tuple[str, int]]) -> _Fields | Rejection:
    """Unescape, repair, squeeze and check each ``name: (text, limit)``, or the row's rejection."""
    cleaned: dict[str, str] = {}
    repaired_any = False
    for name, (text, limit) in fields.items():
        # Book-Crossing escapes some characters as HTML entities (&amp;); undo that first.
        value = html.unescape(text)
        if "\ufffd" in value or "\x00" in value:
            return Rejection(line_no, "undecodable-text", f"{name}: {value[:200]!r}", raw)
        try:
            # Repaired before anything else: cp1252 mojibake read as Latin-1 holds C1
            # controls (\x80..\x9f) and no-break spaces (\xa0, as in "ClÃ\xa0ssica") that are
            # bytes of letters, which the squeezing and the character check would destroy.
            value, repaired = repair_text(value)
        except UnrepairableTextError as exc:
            return Rejection(line_no, "unrepairable-text", f"{name}: {exc}", raw)
        value = " ".join(value.split())
        if find_invalid_character(value) is not None:
            return Rejection(line_no, "undecodable-text", f"{name}: {value[:200]!r}", raw)
        repaired_any = repaired_any or repaired
        cleaned[name] = value[:limit]
    return _Fields(cleaned, repaired_any)


def map_book_crossing_row(row: RawRowLike) -> Candidate | Rejection:
    """One Book-Crossing ``BX-Books`` row as a work, or the reason it is refused.

    Year 0 means "unknown" in that data set and becomes None; other years outside
    1000..next year are refused, as are invalid ISBNs, empty titles and text that did not
    decode.
    """
    if row.error is not None or row.fields is None:
        return Rejection(row.line_no, "parse-error", row.error or "no fields", row.raw)
    fields = row.fields
    try:
        isbn = parse_isbn(_field(fields, "isbn"))
    except InvalidIsbnError as exc:
        return Rejection(row.line_no, "invalid-isbn", str(exc), row.raw)
    texts = _clean_fields(
        row.line_no,
        row.raw,
        {
            "title": (_field(fields, "title"), 500),
            "author": (_field(fields, "author"), 200),
            "publisher": (_field(fields, "publisher"), 300),
        },
    )
    if isinstance(texts, Rejection):
        return texts
    title = texts.values["title"]
    if not title:
        return Rejection(row.line_no, "missing-title", "", row.raw)
    year_text = _field(fields, "year").strip()
    year: int | None = None
    if year_text not in {"", "0"}:
        try:
            year = check_year(int(year_text))
        except ValueError as exc:
            return Rejection(row.line_no, "impossible-year", f"{year_text!r}: {exc}", row.raw)
    author = texts.values["author"]
    publisher = texts.values["publisher"] or None
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
    return Candidate(row.line_no, isbn.isbn13, values, row.raw, repaired=texts.repaired)


def map_public_domain_text(line_no: int, text: TextLike) -> Candidate | Rejection:
    """One public-domain text as a work (no ISBN), or the reason it is refused."""
    raw = json.dumps({"key": text.key, "title": text.title, "author": text.author, "year": text.year})
    if "\ufffd" in text.text[:100_000] or "\x00" in text.text[:100_000]:
        return Rejection(line_no, "undecodable-text", "the text holds U+FFFD or NUL", raw)
    texts = _clean_fields(line_no, raw, {"title": (text.title, 500), "author": (text.author or "", 200)})
    if isinstance(texts, Rejection):
        return texts
    title = texts.values["title"]
    if not title:
        return Rejection(line_no, "missing-title", "", raw)
    year = text.year
    if year is not None and year != 0:
        try:
            check_year(year)
        except ValueError as exc:
            return Rejection(line_no, "impossible-year", str(exc), raw)
    author = texts.values["author"]
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
    return Candidate(line_no, text.key[:200], values, raw, repaired=texts.repaired)


# --- writing ------------------------------------------------------------------------------------


@dataclass
class _Tally:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    repaired: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    bulk: bool = False
    """Whether the run passed ``bulk_changes`` and leaves the index to one reindex at its end."""

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "repaired": self.repaired,
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
    def __init__(self, db: Database, source: str, run_id: uuid.UUID, *, bulk_changes: int) -> None:
        self.db = db
        self.source = source
        self.run_id = run_id
        self.bulk_changes = bulk_changes
        self.tally = _Tally()
        self.seen: set[str] = set()

    async def _enqueue(self, session: AsyncSession, tally: _Tally, changed: list[uuid.UUID]) -> None:
        """The batch's outbox rows, one per changed work, until the run turns bulk (``BULK_CHANGES``)."""
        if tally.inserted + tally.updated > self.bulk_changes:
            tally.bulk = True
        if not tally.bulk:
            await record_work_changes(session, changed)

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
            changed: list[uuid.UUID] = []
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
                tally.repaired += candidate.repaired
                stored = existing.get(key)
                if stored is not None and all(
                    getattr(stored, name) == candidate.values[name] for name in COMPARED
                ):
                    tally.unchanged += 1
                    continue
                if stored is None:
                    tally.inserted += 1
                    work_id = uuid.uuid4()
                else:
                    tally.updated += 1
                    work_id = stored.id
                changed.append(work_id)
                writes.append(
                    {
                        "id": work_id,
                        "source": self.source,
                        "source_key": key,
                        **candidate.values,
                        "published": True,
                        "owner_tenant_id": None,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            if writes:
                await session.execute(_upsert(session), writes)
                await self._enqueue(session, tally, changed)
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
            await record_change(session, entity="catalog", op="reindex")
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
    bulk_changes: int = BULK_CHANGES,
) -> ImportRunRead:
    """Upsert the ``items`` of ``source`` in batches; returns the finished run with its counts.

    ``limit`` stops after that many input rows. ``on_batch(rows)`` is called after each
    committed batch (progress bars). ``bulk_changes``: see ``BULK_CHANGES``. If anything
    raises, the run is marked ``failed`` (what committed stays, with its outbox rows: a
    re-run completes it) and the error propagates.
    """
    run_id, earlier_unfinished = await _start_run(db, source)
    importer = _Importer(db, source, run_id, bulk_changes=bulk_changes)
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
        await _finish_run(db, importer, status="failed", reindex=importer.tally.bulk)
        log.warning("catalog.import_failed", source=source, run_id=str(run_id), **importer.tally.counts())
        raise
    # An earlier run that did not finish may have passed the bulk threshold and died
    # before its reindex row: this run asks for one, so nothing it committed is missed.
    reindex = importer.tally.bulk or earlier_unfinished
    finished = await _finish_run(db, importer, status="completed", reindex=reindex)
    log.info("catalog.imported", source=source, run_id=str(run_id), **finished.counts)
    return finished
