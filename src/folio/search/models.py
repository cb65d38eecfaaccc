"""The search context's table: each shop's synonym sets (the source of truth; the engine holds copies)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import JsonDocument, UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned


class SearchSynonym(TenantOwned, Base):
    """One named synonym set of one shop, pushed to that shop's search collection.

    Without ``root`` every term stands for every other (multi-way); with ``root`` a
    search for ``root`` also finds the ``synonyms`` (one-way).
    """

    __tablename__ = "search_synonyms"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_search_synonyms_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(60))
    synonyms: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    root: Mapped[str | None] = mapped_column(String(200))
    # None: changed by an operator (`folio search synonyms set`), not a member.
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
