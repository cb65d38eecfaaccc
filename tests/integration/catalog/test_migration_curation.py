"""Migration 0010 on existing data: imports published, API works private to the shop that made them."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from folio.core.migrations import upgrade

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)

tenants = sa.table(
    "identity_tenants",
    sa.column("id", sa.Uuid()),
    sa.column("slug", sa.String()),
    sa.column("name", sa.String()),
    sa.column("plan", sa.String()),
    sa.column("created_at", sa.DateTime()),
)
old_works = sa.table(
    "works",
    sa.column("id", sa.Uuid()),
    sa.column("title", sa.String()),
    sa.column("authors", sa.JSON()),
    sa.column("subjects", sa.JSON()),
    sa.column("source", sa.String()),
    sa.column("source_key", sa.String()),
    sa.column("created_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()),
    sa.column("version", sa.Integer()),
)
"""``works`` as 0009 left it."""
new_works = sa.table(
    "works",
    sa.column("id", sa.Uuid()),
    sa.column("published", sa.Boolean()),
    sa.column("owner_tenant_id", sa.Uuid()),
)
"""The columns 0010 adds."""
audit_events = sa.table(
    "audit_events",
    sa.column("id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("occurred_at", sa.DateTime()),
    sa.column("actor_kind", sa.String()),
    sa.column("action", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.String()),
)


def _work(work_id: uuid.UUID, source: str) -> dict[str, object]:
    return {
        "id": work_id,
        "title": f"Generated {source} work",
        "authors": [],
        "subjects": [],
        "source": source,
        "source_key": work_id.hex,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
    }


def test_upgrade_publishes_imports_and_gives_api_works_to_their_shop(tmp_path: Path) -> None:
    """Imports end published; an API work with a work.created event is its shop's; one without, nobody's."""
    path = tmp_path / "folio.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0009_search")
    shop = uuid.uuid4()
    imported, recorded, unrecorded = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(
            sa.insert(tenants).values(
                id=shop, slug="generated-shop", name="Generated", plan="free", created_at=NOW
            )
        )
        connection.execute(
            sa.insert(old_works),
            [_work(imported, "book-crossing"), _work(recorded, "manual"), _work(unrecorded, "manual")],
        )
        connection.execute(
            sa.insert(audit_events).values(
                id=uuid.uuid4(),
                tenant_id=shop,
                occurred_at=NOW,
                actor_kind="user",
                action="work.created",
                entity_type="work",
                entity_id=str(recorded),
            )
        )
    upgrade(f"sqlite+aiosqlite:///{path}")
    with engine.connect() as connection:
        rows = {
            row.id: (row.published, row.owner_tenant_id) for row in connection.execute(sa.select(new_works))
        }
    engine.dispose()
    assert rows == {imported: (True, None), recorded: (False, shop), unrecorded: (False, None)}
