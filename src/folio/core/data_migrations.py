"""Per-tenant data migrations: the ledger of which ran for which shop.

Alembic changes the schema once for everyone; a *data* migration rewrites each shop's
rows, one shop per transaction, and records itself in ``tenant_data_migrations`` in
that same transaction, so a run that crashes resumes where it stopped and never
applies a migration to a shop twice. ``folio tenants migrate`` drives it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned


class AppliedDataMigration(TenantOwned, Base):
    """One data migration applied to one shop."""

    __tablename__ = "tenant_data_migrations"

    migration_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
