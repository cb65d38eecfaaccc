"""Catalog curation: works are published by a curator or a verified import, else private.

Existing works: every imported work (any source but ``manual``) is published. A work
created over the API (``manual``) becomes private to the shop that created it, read
from that shop's ``work.created`` audit event; one whose creator is not recorded
becomes unpublished (seen by nobody until the operator publishes it).

Revision ID: 0010_catalog_curation
Revises: 0009_search
Create Date: 2026-12-03
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_catalog_curation"
down_revision: str | None = "0009_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MANUAL_SOURCE = "manual"

works = sa.table(
    "works",
    sa.column("id", sa.Uuid()),
    sa.column("source", sa.String()),
    sa.column("published", sa.Boolean()),
    sa.column("owner_tenant_id", sa.Uuid()),
)
tenants = sa.table("identity_tenants", sa.column("id", sa.Uuid()))
audit_events = sa.table(
    "audit_events",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.String()),
)


def _creators(connection: sa.Connection) -> dict[str, uuid.UUID]:
    """Work id (text) -> the shop whose ``work.created`` event names it.

    ``audit_events`` is under forced row-level security on PostgreSQL, so the events are
    read one shop at a time with that shop set, as the application reads them.
    """
    postgres = connection.dialect.name == "postgresql"
    found: dict[str, uuid.UUID] = {}
    for tenant_id in connection.execute(sa.select(tenants.c.id)).scalars():
        if postgres:
            connection.execute(
                sa.text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(tenant_id)}
            )
        rows = connection.execute(
            sa.select(audit_events.c.entity_id).where(
                audit_events.c.tenant_id == tenant_id,
                audit_events.c.action == "work.created",
                audit_events.c.entity_type == "work",
            )
        ).scalars()
        for entity_id in rows:
            if entity_id is not None:
                found.setdefault(entity_id, tenant_id)
    if postgres:
        connection.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))
    return found


def upgrade() -> None:
    """Add ``published`` and ``owner_tenant_id``; publish imports, give manual works to their shop."""
    with op.batch_alter_table("works") as batch:
        batch.add_column(sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("owner_tenant_id", sa.Uuid(), nullable=True))
    op.create_index("ix_works_owner_tenant_id", "works", ["owner_tenant_id"])
    connection = op.get_bind()
    connection.execute(sa.update(works).where(works.c.source != MANUAL_SOURCE).values(published=True))
    creators = _creators(connection)
    manual = connection.execute(sa.select(works.c.id).where(works.c.source == MANUAL_SOURCE)).scalars()
    for work_id in list(manual):
        owner = creators.get(str(work_id))
        if owner is not None:
            connection.execute(sa.update(works).where(works.c.id == work_id).values(owner_tenant_id=owner))


def downgrade() -> None:
    """Drop the columns (every work is shared again)."""
    op.drop_index("ix_works_owner_tenant_id", table_name="works")
    with op.batch_alter_table("works") as batch:
        batch.drop_column("owner_tenant_id")
        batch.drop_column("published")
