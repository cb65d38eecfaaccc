"""``folio.tasks.api`` exports exactly what other contexts and entry points may use."""

from __future__ import annotations

import pytest

import folio.tasks.api
import folio.tasks.http

pytestmark = pytest.mark.unit


def test_tasks_api_exports() -> None:
    """The public surface: the service, its unit of work, page cache, DTOs, data migrations, event types.

    The routers live in http; the in-memory unit of work is for tests and stays in
    ``folio.tasks.unit_of_work``.
    """
    assert sorted(folio.tasks.api.__all__) == [
        "DATA_MIGRATIONS",
        "EVENT_TYPES",
        "InvalidCursorError",
        "PAGES_CACHE",
        "SqlAlchemyTaskUnitOfWork",
        "TASK_PAGES",
        "TASK_UNIT_OF_WORK",
        "TaskCreate",
        "TaskFilter",
        "TaskPage",
        "TaskPages",
        "TaskPriority",
        "TaskRead",
        "TaskSlice",
        "TaskSort",
        "TaskStatus",
        "TaskUnitOfWork",
        "TaskUpdate",
        "create_task",
        "delete_task",
        "get_task",
        "list_tasks",
        "list_tasks_after",
        "normalise_tags",
        "update_task",
    ]
    for name in folio.tasks.api.__all__:
        assert getattr(folio.tasks.api, name) is not None


def test_openapi_tags_describe_both_versions() -> None:
    """The tag descriptions mark v2 current and say what changed from v1."""
    tags = {tag["name"]: tag["description"] for tag in folio.tasks.http.OPENAPI_TAGS}
    assert "Current" in tags["tasks v2"]
    assert "not deprecated" in tags["tasks v1"]
    assert "description" in tags["tasks v1"]
