"""Build ``Task`` rows for tests without a database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from folio.core.columns import utcnow
from folio.tasks.models import Task


def make_task(**fields: Any) -> Task:
    """A complete ``Task`` (every column set, as the service sets them); ``fields`` override."""
    now = utcnow()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "tenant_id": uuid.uuid4(),
        "title": "A task",
        "notes": "",
        "status": "todo",
        "priority": "normal",
        "due_date": None,
        "tags": [],
        "assignee_id": None,
        "created_by": uuid.uuid4(),
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    values.update(fields)
    return Task(**values)


def at(minutes: int) -> dt.datetime:
    """A fixed UTC instant ``minutes`` after a reference time (for ordering tests)."""
    return dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
