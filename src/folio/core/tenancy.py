"""Tenancy: which shop the current work is for, and how the database keeps shops apart.

Every tenant-owned table has a ``tenant_id`` column (``TenantOwned``). Isolation has
two layers, and only the first is the guarantee:

- **PostgreSQL row-level security.** Each tenant table gets the ``tenant_isolation``
  policy (``enable_tenant_isolation``, called from the table's migration): a row is
  visible, and may be written, only when its ``tenant_id`` equals the transaction's
  ``app.tenant_id`` setting. Every session ``Database`` makes sets that setting at the
  start of each transaction to the tenant in ``tenant_scope``, or to none outside one
  (``TenantSession``), with ``set_config(..., true)``: transaction-local, so a pooled
  connection never carries one tenant's id into the next transaction. The application role is neither
  superuser nor BYPASSRLS and owns no table, so not even a raw query gets round it.
- **Repository filters.** Repositories add ``tenant_filter(Model)`` to every query on
  both backends. On SQLite, which has no row-level security and is for one shop on a
  laptop, that filter is all there is; on PostgreSQL it is defence in depth.

Key contracts:

- The tenant is a ``uuid.UUID`` in a context variable: set it with ``tenant_scope``
  (the gateway does, per request, once it knows the shop), read it with
  ``current_tenant`` or ``require_tenant``. Tasks spawned inside a scope inherit it.
- The setting is read when a transaction *begins*: enter the scope before the unit of
  work, never in the middle of one.
- With no tenant in scope, PostgreSQL shows no tenant row and accepts no tenant write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import ColumnElement, Connection, Uuid, event, text
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from folio.core.errors import TenantRequiredError

__all__ = [
    "POLICY_NAME",
    "TENANT_SETTING",
    "TenantOwned",
    "TenantSession",
    "current_tenant",
    "disable_tenant_isolation",
    "enable_tenant_isolation",
    "require_tenant",
    "tenant_filter",
    "tenant_scope",
]

TENANT_SETTING = "app.tenant_id"
"""The PostgreSQL setting the ``tenant_isolation`` policy compares ``tenant_id`` with."""

POLICY_NAME = "tenant_isolation"
"""The row-level security policy ``enable_tenant_isolation`` creates on each tenant table."""

_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("folio_tenant", default=None)


@contextmanager
def tenant_scope(tenant_id: uuid.UUID) -> Iterator[uuid.UUID]:
    """Make ``tenant_id`` the current tenant for the block; the previous one (or none) comes back after.

    Transactions begun inside the block are scoped to this tenant on PostgreSQL.
    """
    # The id ends up in a security setting: refuse anything that is not already a
    # UUID (a str from a header) rather than trust every caller to have parsed it.
    if not isinstance(tenant_id, uuid.UUID):
        raise TypeError(f"tenant_scope needs a uuid.UUID, not {type(tenant_id).__name__}")
    token = _current_tenant.set(tenant_id)
    try:
        yield tenant_id
    finally:
        _current_tenant.reset(token)


def current_tenant() -> uuid.UUID | None:
    """The tenant in scope, or None outside any ``tenant_scope``."""
    return _current_tenant.get()


def require_tenant() -> uuid.UUID:
    """The tenant in scope; raises ``TenantRequiredError`` outside any ``tenant_scope``."""
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantRequiredError("this operation needs a tenant (shop), and none is in scope")
    return tenant


class TenantOwned:
    """Declarative mixin for a context's tenant-owned models: a non-null, indexed ``tenant_id``.

    ``class Order(TenantOwned, Base): ...``. The table's migration must also call
    ``enable_tenant_isolation``, and its repository must filter with ``tenant_filter``.
    """

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)


def tenant_filter(model: type[TenantOwned]) -> ColumnElement[bool]:
    """``model.tenant_id == <the tenant in scope>``, for repositories' ``where`` clauses.

    Raises ``TenantRequiredError`` outside a ``tenant_scope``: a repository query with
    no tenant is a bug, never "all tenants".
    """
    return model.tenant_id == require_tenant()


# --- the per-transaction setting -------------------------------------------------------------


class TenantSession(Session):
    """The session class ``Database`` makes (under each ``AsyncSession``): it scopes transactions.

    When a transaction begins on PostgreSQL, its first statement is
    ``SELECT set_config('app.tenant_id', :tenant, true)`` with the tenant in scope, or
    ``''`` (no tenant, no rows) outside any scope. The value is a bound parameter, never
    spliced into SQL, and ``true`` makes it local to the transaction (``SET LOCAL``), so
    it ends with COMMIT or ROLLBACK. On SQLite nothing runs: repositories filter with
    ``tenant_filter`` instead.
    """


@event.listens_for(TenantSession, "after_begin")
def _set_tenant_for_transaction(
    _session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant = _current_tenant.get()
    # Set even with no tenant (to '', which the policy reads as "no tenant"): a value
    # someone set session-wide on this pooled connection must not stand in for one.
    connection.execute(
        text("SELECT set_config(:name, :tenant, true)"),
        {"name": TENANT_SETTING, "tenant": "" if tenant is None else str(tenant)},
    )


# --- migrations ------------------------------------------------------------------------------


def _policy_predicate() -> str:
    # nullif: once a transaction-local value has ended, current_setting returns '' rather
    # than NULL, and ''::uuid would raise; NULL makes the comparison false instead.
    return f"tenant_id = nullif(current_setting('{TENANT_SETTING}', true), '')::uuid"


def enable_tenant_isolation(table_name: str, *, bind: Connection | None = None) -> None:
    """Turn on row-level security for a tenant table; call it from the table's migration.

    On PostgreSQL: ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` (FORCE binds the table's
    owner too, so even migrations see rows only for the tenant they set), and the
    ``tenant_isolation`` policy, ``USING`` and ``WITH CHECK``
    ``tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid``. On SQLite
    nothing happens. ``bind`` defaults to Alembic's ``op.get_bind()``; it must be a
    connection of the table's owner (migrations run as the owner role).
    """
    connection = bind if bind is not None else _alembic_bind()
    if connection.dialect.name != "postgresql":
        return
    table = connection.dialect.identifier_preparer.quote(table_name)
    predicate = _policy_predicate()
    connection.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
    connection.execute(
        text(f"CREATE POLICY {POLICY_NAME} ON {table} USING ({predicate}) WITH CHECK ({predicate})")
    )


def disable_tenant_isolation(table_name: str, *, bind: Connection | None = None) -> None:
    """Undo ``enable_tenant_isolation`` (for a migration's downgrade); on SQLite nothing happens."""
    connection = bind if bind is not None else _alembic_bind()
    if connection.dialect.name != "postgresql":
        return
    table = connection.dialect.identifier_preparer.quote(table_name)
    connection.execute(text(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}"))
    connection.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))


def _alembic_bind() -> Connection:
    # Imported here: only migrations need Alembic, the running application never does.
    from alembic import op

    return op.get_bind()
