"""The catalog context's tables.

- ``works``: bibliographic records (one per edition, keyed by ISBN-13 where it has one).
  A **published** work is shared by every shop; an unpublished one is seen only by the
  shop that created it (``owner_tenant_id``), or by nobody but the operator when it has
  no owner. No ``tenant_id`` and no row-level security: the visibility rule is the
  catalogue service's (``folio.catalog.repository.visible_to``).
- ``listings``: a shop's copies of a work for sale (price, stock, condition); tenant-owned,
  under row-level security like every other shop table.
- The changes consumers follow (the search index) are events on the general outbox
  (``folio.core.outbox``, topic ``catalog``; ``folio.catalog.outbox`` writes them), not
  a table of this context's.
- ``catalog_import_runs`` and ``catalog_quarantine``: one row per ``folio catalog import``
  run with its counts, and every input row the run refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from folio.core.columns import JsonDocument, UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
AutoIncrementId = BigInteger().with_variant(Integer(), "sqlite")


class Work(Base):
    """One edition of a book (or one public-domain text): shared once published, else its shop's."""

    __tablename__ = "works"
    __table_args__ = (
        UniqueConstraint("source", "source_key", name="uq_works_source_key"),
        Index("ix_works_title", "title"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    isbn13: Mapped[str | None] = mapped_column(String(13), unique=True)
    isbn10: Mapped[str | None] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(500))
    authors: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    publisher: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    subjects: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    cover_url: Mapped[str | None] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40))
    source_key: Mapped[str] = mapped_column(String(200))
    preview_key: Mapped[str | None] = mapped_column(String(300))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)


class Listing(TenantOwned, Base):
    """A shop's stock of one work in one condition, at one price."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "work_id", "condition", name="uq_listings_work_condition"),
        Index("ix_listings_tenant_created", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    work_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("works.id"), index=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer, default=0)
    condition: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # Loaded with every listing (one join, never a query per row): listings answer with
    # their work's title and authors.
    work: Mapped[Work] = relationship(lazy="joined", innerjoin=True)

    @property
    def title(self) -> str:
        """The listed work's title."""
        return self.work.title

    @property
    def authors(self) -> list[str]:
        """The listed work's authors."""
        return self.work.authors


class ImportRun(Base):
    """One ``folio catalog import`` run: what it read and what became of it."""

    __tablename__ = "catalog_import_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    counts: Mapped[dict[str, int]] = mapped_column(JsonDocument, default=dict)
    reasons: Mapped[dict[str, int]] = mapped_column(JsonDocument, default=dict)


class QuarantinedRow(Base):
    """An input row an import refused, kept with the reason so nothing is silently dropped."""

    __tablename__ = "catalog_quarantine"

    id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("catalog_import_runs.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[str] = mapped_column(Text)
