"""What the tasks context publishes on the outbox (topic ``tasks``): a task created, changed, deleted.

Published by the SQL unit of work with each audited change, in its transaction. The
payload is the task's state without its free text (title, notes, tags stay in the
shop's database): who it is assigned to, its status and priority, its version, and for
a change the fields that changed. ``schema_version`` 1.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.outbox import add_outbox_event

__all__ = ["EVENT_TYPES", "TOPIC", "publish_task_event"]

TOPIC = "tasks"
"""The outbox topic every tasks event is published on."""

EVENT_TYPES = {"task.created": "TaskCreated", "task.updated": "TaskUpdated", "task.deleted": "TaskDeleted"}
"""The event type published for each audited action."""

_STATE = ("status", "priority", "assignee_id", "due_date", "version")
_BOOKKEEPING = frozenset({"version", "updated_at"})
"""Fields every change moves: not what a change is about."""


async def publish_task_event(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    action: str,
    task_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Publish the event of ``action`` (``task.created``, ``.updated``, ``.deleted``) from its snapshots."""
    state = after if after is not None else before
    if state is None:
        raise ValueError(f"{action} of task {task_id} has neither a before nor an after")
    payload: dict[str, Any] = {"task_id": str(task_id), **{name: state.get(name) for name in _STATE}}
    if before is not None and after is not None:
        payload["changed"] = sorted(
            name for name in after if name not in _BOOKKEEPING and after.get(name) != before.get(name)
        )
    await add_outbox_event(
        session,
        topic=TOPIC,
        key=str(task_id),
        type=EVENT_TYPES[action],
        payload=payload,
        tenant_id=tenant_id,
    )
