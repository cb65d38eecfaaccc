"""The ledger: every file content the inbox has seen, by SHA-256, and what became of it.

One row per content hash (``inbox_files``, revision ``0017_inbox_files``), so a file
dropped twice, under any name, before or after a restart, to any of several watchers
on one folder, loads once:

- ``claim_file`` inserts the row, or takes over one that is not ``loaded`` and whose
  claim has lapsed (or is the caller's own), in *one* statement (``INSERT ... ON
  CONFLICT DO UPDATE ... WHERE``). On PostgreSQL a second watcher's statement waits on
  the first one's row and then finds it claimed; on SQLite writers are serialised.
  The answer is ``CLAIMED`` (go ahead; ``attempts`` so far), ``DUPLICATE`` (loaded
  before) or ``BUSY`` (another watcher holds it).
- ``record_loaded`` and ``record_failure`` end an attempt. A failed file stays claimed
  by its watcher through its backoff (``hold_until``), so no other watcher retries it
  meanwhile; a quarantined one is released, and the same content dropped again starts
  over (the declaration may have been fixed since).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Base, Database

__all__ = [
    "Claim",
    "ClaimOutcome",
    "FileStatus",
    "InboxFile",
    "LedgerEntry",
    "LedgerSummary",
    "claim_file",
    "get_entry",
    "ledger_summary",
    "record_failure",
    "record_loaded",
]


class FileStatus(StrEnum):
    """Where a file content stands in the ledger."""

    LOADING = "loading"
    LOADED = "loaded"
    FAILED = "failed"
    """An attempt failed; it is retried by the watcher that holds it."""
    QUARANTINED = "quarantined"


class InboxFile(Base):
    """One file content the inbox has seen (no row-level security: a file is the operator's)."""

    __tablename__ = "inbox_files"
    __table_args__ = (
        CheckConstraint(
            "status IN ('loading', 'loaded', 'failed', 'quarantined')", name="ck_inbox_files_status"
        ),
        Index("ix_inbox_files_status_updated", "status", "updated_at"),
    )

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    dataset: Mapped[str] = mapped_column(String(63))
    table_name: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    loaded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


_FILES = InboxFile.__table__


class ClaimOutcome(StrEnum):
    """What ``claim_file`` found."""

    CLAIMED = "claimed"
    DUPLICATE = "duplicate"
    BUSY = "busy"


@dataclass(frozen=True)
class Claim:
    """The answer of ``claim_file``: the outcome, and for a claimed file its attempts so far."""

    outcome: ClaimOutcome
    attempts: int = 0
    taken_over: bool = False
    """The row existed and was not loaded: an earlier attempt (this watcher's or a dead one's) may
    have written to the lake before it stopped."""


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row, as the operator reads it."""

    content_hash: str
    file_name: str
    dataset: str
    table_name: str
    status: FileStatus
    rows: int | None
    attempts: int
    last_error: str | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class LedgerSummary:
    """``folio inbox status``: files per status, rows loaded, and the latest failures."""

    files: dict[FileStatus, int]
    rows_loaded: int
    recent_failures: list[LedgerEntry]


async def claim_file(
    db: Database,
    *,
    content_hash: str,
    file_name: str,
    dataset: str,
    table_name: str,
    owner: str,
    lease_s: float,
) -> Claim:
    """Claim the file content ``content_hash`` for ``owner`` for ``lease_s`` (see the module docstring)."""

    async def work(session: AsyncSession) -> Claim:
        now = utcnow()
        values = {
            "content_hash": content_hash,
            "file_name": file_name[:255],
            "dataset": dataset,
            "table_name": table_name,
            "status": FileStatus.LOADING.value,
            "rows": None,
            "attempts": 0,
            "last_error": None,
            "claimed_by": owner,
            "claimed_until": now + dt.timedelta(seconds=lease_s),
            "first_seen_at": now,
            "updated_at": now,
            "loaded_at": None,
        }
        existed = await session.scalar(select(_FILES.c.status).where(_FILES.c.content_hash == content_hash))
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(_FILES).values(values)
        statement = insert.on_conflict_do_update(
            index_elements=[_FILES.c.content_hash],
            set_={
                "status": FileStatus.LOADING.value,
                "file_name": insert.excluded.file_name,
                "dataset": insert.excluded.dataset,
                "table_name": insert.excluded.table_name,
                "claimed_by": owner,
                "claimed_until": insert.excluded.claimed_until,
                "updated_at": now,
                # The same content dropped again after quarantine gets a fresh set of attempts.
                "attempts": case(
                    (_FILES.c.status == FileStatus.QUARANTINED.value, 0), else_=_FILES.c.attempts
                ),
            },
            where=(_FILES.c.status != FileStatus.LOADED.value)
            & or_(
                _FILES.c.claimed_until.is_(None),
                _FILES.c.claimed_until < now,
                _FILES.c.claimed_by == owner,
            ),
        ).returning(_FILES.c.attempts)
        attempts = (await session.execute(statement)).scalar_one_or_none()
        if attempts is not None:
            return Claim(ClaimOutcome.CLAIMED, attempts=attempts, taken_over=existed is not None)
        status = await session.scalar(select(_FILES.c.status).where(_FILES.c.content_hash == content_hash))
        return Claim(ClaimOutcome.DUPLICATE if status == FileStatus.LOADED.value else ClaimOutcome.BUSY)

    return await db.run(work)


async def record_loaded(db: Database, *, content_hash: str, rows: int) -> None:
    """The claimed file is in the lake with ``rows`` rows: mark it loaded for good."""

    async def work(session: AsyncSession) -> None:
        now = utcnow()
        await session.execute(
            update(InboxFile)
            .where(InboxFile.content_hash == content_hash)
            .values(
                status=FileStatus.LOADED.value,
                rows=rows,
                attempts=InboxFile.attempts + 1,
                last_error=None,
                claimed_until=None,
                updated_at=now,
                loaded_at=now,
            )
        )

    await db.run(work)


async def record_failure(
    db: Database, *, content_hash: str, error: str, quarantined: bool, hold_until: dt.datetime | None = None
) -> int:
    """Count a failed attempt at the claimed file; returns its attempts so far.

    ``quarantined`` ends it (the claim is released); otherwise the watcher keeps the
    claim until ``hold_until`` (the end of its backoff plus a lease) and tries again.
    """

    async def work(session: AsyncSession) -> int:
        status = FileStatus.QUARANTINED if quarantined else FileStatus.FAILED
        result = await session.execute(
            update(InboxFile)
            .where(InboxFile.content_hash == content_hash)
            .values(
                status=status.value,
                attempts=InboxFile.attempts + 1,
                last_error=error[:4000],
                claimed_until=None if quarantined else hold_until,
                updated_at=utcnow(),
            )
            .returning(InboxFile.attempts)
        )
        return int(result.scalar_one())

    return await db.run(work)


async def get_entry(db: Database, *, content_hash: str) -> LedgerEntry | None:
    """The ledger row of ``content_hash``, or None when the inbox never saw that content."""

    async def work(session: AsyncSession) -> LedgerEntry | None:
        row = await session.get(InboxFile, content_hash)
        return None if row is None else _entry(row)

    return await db.run(work)


async def ledger_summary(db: Database, *, failures: int = 10) -> LedgerSummary:
    """Files per status, rows loaded in all, and the ``failures`` latest failed or quarantined files."""

    async def work(session: AsyncSession) -> LedgerSummary:
        counts = await session.execute(
            select(_FILES.c.status, func.count(), func.coalesce(func.sum(_FILES.c.rows), 0)).group_by(
                _FILES.c.status
            )
        )
        files = dict.fromkeys(FileStatus, 0)
        rows_loaded = 0
        for status, count, rows in counts:
            files[FileStatus(status)] = int(count)
            if status == FileStatus.LOADED.value:
                rows_loaded = int(rows)
        failed = await session.scalars(
            select(InboxFile)
            .where(InboxFile.status.in_([FileStatus.FAILED.value, FileStatus.QUARANTINED.value]))
            .order_by(InboxFile.updated_at.desc())
            .limit(failures)
        )
        recent = [_entry(row) for row in failed]
        return LedgerSummary(files=files, rows_loaded=rows_loaded, recent_failures=recent)

    return await db.run(work, readonly=True)


def _entry(row: InboxFile) -> LedgerEntry:
    return LedgerEntry(
        content_hash=row.content_hash,
        file_name=row.file_name,
        dataset=row.dataset,
        table_name=row.table_name,
        status=FileStatus(row.status),
        rows=row.rows,
        attempts=row.attempts,
        last_error=row.last_error,
        updated_at=row.updated_at,
    )
