"""The audit trail's table: one row per state change, append-only, tenant-owned.

Append-only is enforced twice: the mapper events below refuse to flush an UPDATE or
DELETE of a loaded event (both backends), and on PostgreSQL the application role
holds no UPDATE or DELETE privilege on the table (revision ``0007_audit_append_only``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Connection, Index, String, Uuid, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from folio.core.columns import JsonDocument, UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned


class AuditEvent(TenantOwned, Base):
    """Who did what to which thing in which shop, with the state before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(80), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    correlation_id: Mapped[str | None] = mapped_column(String(128))


class AuditTrailImmutableError(RuntimeError):
    """Code tried to change or delete a recorded audit event: history is never rewritten."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper: Mapper[AuditEvent], _connection: Connection, target: AuditEvent) -> None:
    raise AuditTrailImmutableError(f"audit event {target.id} is append-only and cannot be updated")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper: Mapper[AuditEvent], _connection: Connection, target: AuditEvent) -> None:
    raise AuditTrailImmutableError(f"audit event {target.id} is append-only and cannot be deleted")
