"""Audit events are append-only: no role but the owner may UPDATE or DELETE them (PostgreSQL).

The owner's default privileges grant the application role SELECT, INSERT, UPDATE and
DELETE on every new table (``folio.ops.services.postgres``). This revokes UPDATE and
DELETE on ``audit_events`` from every role that holds them, other than the owner
running the migration, and from PUBLIC: whatever the application role is called in
this deployment, it can record history but never rewrite it. SQLite has no roles:
there the ORM's refusal (``folio.audit.models``) is the guard.

Revision ID: 0007_audit_append_only
Revises: 0006_tenant_data_migrations
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_audit_append_only"
down_revision: str | None = "0006_tenant_data_migrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "audit_events"

_GRANTEES = sa.text(
    "SELECT DISTINCT grantee FROM information_schema.role_table_grants"
    " WHERE table_schema = current_schema() AND table_name = :table"
    " AND privilege_type = ANY(:privileges) AND grantee <> current_user"
)


def _grantees(bind: sa.Connection, privileges: list[str]) -> list[str]:
    return sorted(bind.execute(_GRANTEES, {"table": TABLE, "privileges": privileges}).scalars())


def upgrade() -> None:
    """Revoke UPDATE and DELETE on audit_events from everyone but the owner."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    quote = bind.dialect.identifier_preparer.quote
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(TABLE)} FROM PUBLIC")
    for grantee in _grantees(bind, ["UPDATE", "DELETE", "TRUNCATE"]):
        if grantee != "PUBLIC":
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(TABLE)} FROM {quote(grantee)}")


def downgrade() -> None:
    """Give UPDATE and DELETE back to the roles that may write audit events (the default privileges)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    quote = bind.dialect.identifier_preparer.quote
    for grantee in _grantees(bind, ["INSERT"]):
        if grantee != "PUBLIC":
            op.execute(f"GRANT UPDATE, DELETE ON {quote(TABLE)} TO {quote(grantee)}")
