"""Orders: which shops have sweep work, in one query across shops (PostgreSQL).

The orders sweeps (``folio.orders.sweeps``) used to open a transaction in every shop to
find the few with work due: 10.9 s a pass over 5,307 shops. ``orders`` is under
row-level security, forced on its owner too, so no role Folio connects as can see more
than one shop's orders in a query. This adds the one narrow way across:

- ``orders_shops_with_due_work(expired_before, stranded_before)``, a ``SECURITY DEFINER``
  function owned by the owner role (the one running this migration). It answers shop ids
  and two flags, never an order: each shop with an unpaid order whose stock hold ended
  before ``expired_before`` (``expired``), or one placed before ``stranded_before`` with
  no payment opened (``stranded``). A NULL cutoff asks nothing of that kind.
- the policy ``due_work_probe``: ``SELECT`` on ``orders`` for the owner role, only while
  ``folio.orders_due_probe`` is ``on``, which the function sets around its one query
  (and clears after it). The owner's other statements, migrations included, still see no shop's rows
  without the tenant in scope; the application role never matches the policy at all.
- ``EXECUTE`` on the function only for the roles that may read ``orders`` (the
  application role, whatever this deployment calls it), not ``PUBLIC``.

SQLite has no row-level security: there the sweeps query ``orders`` directly.

Revision ID: 0019_orders_due_shops
Revises: 0018_analytics_windows
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_orders_due_shops"
down_revision: str | None = "0018_analytics_windows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "orders_shops_with_due_work(timestamptz, timestamptz)"
PROBE_SETTING = "folio.orders_due_probe"

_READERS = sa.text(
    "SELECT DISTINCT grantee FROM information_schema.role_table_grants"
    " WHERE table_schema = current_schema() AND table_name = 'orders'"
    " AND privilege_type = 'SELECT' AND grantee NOT IN ('PUBLIC', current_user)"
)


def upgrade() -> None:
    """Create the probe policy and the function; let the readers of ``orders`` call it."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(
        "CREATE POLICY due_work_probe ON orders FOR SELECT TO CURRENT_USER"
        f" USING (current_setting('{PROBE_SETTING}', true) = 'on')"
    )
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    quote = bind.dialect.identifier_preparer.quote
    # The probe flag is set in the body, not as the function's own SET: a role other than a
    # superuser may not attach an unregistered setting to a function.
    op.execute(f"""
CREATE FUNCTION orders_shops_with_due_work(expired_before timestamptz, stranded_before timestamptz)
RETURNS TABLE (shop uuid, expired boolean, stranded boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, {quote(schema)}
AS $$
BEGIN
  PERFORM set_config('{PROBE_SETTING}', 'on', true);
  RETURN QUERY
    SELECT o.tenant_id,
           coalesce(bool_or(o.reserved_until < expired_before), false),
           coalesce(bool_or(o.payment_reference IS NULL AND o.created_at < stranded_before), false)
    FROM orders AS o
    WHERE o.status = 'pending_payment'
      AND (o.reserved_until < expired_before
           OR (o.payment_reference IS NULL AND o.created_at < stranded_before))
    GROUP BY o.tenant_id;
  PERFORM set_config('{PROBE_SETTING}', '', true);
END
$$
""")  # noqa: S608 - no input: the schema is quoted, the setting a constant
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC")
    for reader in bind.execute(_READERS).scalars():
        op.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {quote(reader)}")


def downgrade() -> None:
    """Drop the function and its policy."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION {FUNCTION}")
    op.execute("DROP POLICY due_work_probe ON orders")
