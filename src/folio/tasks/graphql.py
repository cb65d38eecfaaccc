"""The tasks' part of the GraphQL schema: the shop's board, and adding a task.

Resolvers call the tasks service with the platform's unit of work, as the REST API
does, so the visibility rules (a customer sees the tasks they created or are
assigned), the audit event, the quota and the outbox event are the same.
"""

from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry.types import Info

from folio.graphqlkit import GraphQLContext, SchemaPart, context_of, field
from folio.tasks import service
from folio.tasks.schemas import TaskCreate, TaskFilter, TaskPage, TaskPriority, TaskRead, TaskStatus
from folio.tasks.unit_of_work import TASK_UNIT_OF_WORK

__all__ = ["SCHEMA", "Task"]

TaskStatusEnum = strawberry.enum(TaskStatus, name="TaskStatus", description="Where a task stands.")
TaskPriorityEnum = strawberry.enum(TaskPriority, name="TaskPriority", description="How urgent a task is.")


@strawberry.type(description="A task on the shop's board.")
class Task:
    """GraphQL's view of a ``TaskRead``."""

    id: uuid.UUID
    title: str
    notes: str
    status: TaskStatusEnum  # type: ignore[valid-type]  # strawberry.enum returns the enum class
    priority: TaskPriorityEnum  # type: ignore[valid-type]  # strawberry.enum returns the enum class
    due_date: dt.date | None
    tags: list[str]
    assignee_id: uuid.UUID | None
    created_by: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


@strawberry.type(description="One numbered page of tasks.")
class TaskList:
    """GraphQL's view of a ``TaskPage``."""

    items: list[Task]
    total: int
    page: int
    per_page: int
    pages: int


@strawberry.type
class TasksQuery:
    """The tasks' root query fields."""

    @field(graphql_type=TaskList, description="The tasks the caller may see, newest first.")
    async def tasks(
        self,
        info: Info[GraphQLContext, None],
        status: TaskStatusEnum | None = None,  # type: ignore[valid-type]  # strawberry.enum returns the enum class
        page: int = 1,
        per_page: int | None = None,
    ) -> TaskPage:
        """One page of the caller's visible tasks, in ``status`` when given."""
        context = context_of(info)
        return await service.list_tasks(
            context.platform.get(TASK_UNIT_OF_WORK),
            settings=context.platform.settings,
            principal=context.caller,
            filters=TaskFilter(status=status),
            page=page,
            per_page=per_page,
        )


@strawberry.type
class TasksMutation:
    """The tasks' root mutation fields."""

    @field(graphql_type=Task, description="Add a task to the shop's board.")
    async def create_task(
        self,
        info: Info[GraphQLContext, None],
        title: str,
        notes: str = "",
        priority: TaskPriorityEnum = TaskPriority.NORMAL,  # type: ignore[valid-type]  # strawberry.enum returns the enum class
    ) -> TaskRead:
        """Create a task as the caller (the REST API's rules, quota and audit)."""
        context = context_of(info)
        return await service.create_task(
            context.platform.get(TASK_UNIT_OF_WORK),
            principal=context.caller,
            data=TaskCreate(title=title, notes=notes, priority=priority),
        )


SCHEMA = SchemaPart(name="tasks", queries=(TasksQuery,), mutations=(TasksMutation,))
"""The tasks' part of the gateway's schema."""
