"""The ``TaskRepository`` contract, as tests every implementation must pass.

Subclass ``RepositoryContract`` and provide a ``run`` fixture: ``await run(shop, fn)``
calls ``fn(repository)`` inside ``tenant_scope(shop)`` (one unit of work for a real
database) and returns its result. ``tests/unit/tasks/test_fake_repository.py`` runs it
against ``FakeTaskRepository``; ``tests/integration/tasks/test_sql_repository.py``
against ``SqlAlchemyTaskRepository`` on PostgreSQL and SQLite, so the fake stays honest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from folio.tasks.cursor import CursorPosition
from folio.tasks.models import Task
from folio.tasks.repository import TaskQuery, TaskRepository, Visibility
from folio.tasks.schemas import TaskPriority, TaskSort, TaskStatus
from tests.unit.tasks.builders import at, make_task

Run = Callable[[uuid.UUID, Callable[[TaskRepository], Awaitable[Any]]], Awaitable[Any]]

EVERYTHING = Visibility.all_tasks()


async def store(run: Run, shop: uuid.UUID, *tasks: Task) -> list[Task]:
    """Add ``tasks`` to ``shop`` in one unit of work."""

    async def add(repo: TaskRepository) -> None:
        for task in tasks:
            await repo.add(task)

    await run(shop, add)
    return list(tasks)


async def ids_of(run: Run, shop: uuid.UUID, query: TaskQuery) -> list[uuid.UUID]:
    """The ids a full ``find_page`` returns for ``query``, in order."""

    async def find(repo: TaskRepository) -> list[uuid.UUID]:
        found, _ = await repo.find_page(query, offset=0, limit=1000)
        return [task.id for task in found]

    result: list[uuid.UUID] = await run(shop, find)
    return result


def _ordered(tasks: list[Task], *names: str) -> list[uuid.UUID]:
    by_title = {task.title: task.id for task in tasks}
    return [by_title[name] for name in names]


class RepositoryContract:
    """Behaviour every ``TaskRepository`` shares (see the module docstring)."""

    async def test_add_get_count_remove(self, run: Run) -> None:
        """A stored task can be fetched, is counted, and is gone once removed."""
        shop = uuid.uuid4()
        (task,) = await store(run, shop, make_task(title="Count me"))
        fetched = await run(shop, lambda repo: repo.get(task.id, visibility=EVERYTHING))
        assert fetched is not None
        assert fetched.title == "Count me"
        assert await run(shop, lambda repo: repo.count()) == 1
        await run(shop, lambda repo: repo.remove(fetched))
        assert await run(shop, lambda repo: repo.get(task.id, visibility=EVERYTHING)) is None
        assert await run(shop, lambda repo: repo.count()) == 0

    async def test_another_shop_sees_nothing(self, run: Run) -> None:
        """Another shop can neither get, count, list nor remove the task."""
        shop, other = uuid.uuid4(), uuid.uuid4()
        (task,) = await store(run, shop, make_task())
        assert await run(other, lambda repo: repo.get(task.id, visibility=EVERYTHING)) is None
        assert await run(other, lambda repo: repo.count()) == 0
        assert await ids_of(run, other, TaskQuery(visibility=EVERYTHING)) == []
        await run(other, lambda repo: repo.remove(task))
        assert await run(shop, lambda repo: repo.count()) == 1

    async def test_customer_visibility(self, run: Run) -> None:
        """A narrowed visibility shows only tasks created by the actor or assigned to the user."""
        shop, me = uuid.uuid4(), uuid.uuid4()
        mine, assigned, other = await store(
            run, shop, make_task(created_by=me), make_task(assignee_id=me), make_task()
        )
        seen = Visibility(everything=False, actor_id=me, user_id=me)
        assert set(await ids_of(run, shop, TaskQuery(visibility=seen))) == {mine.id, assigned.id}
        assert await run(shop, lambda repo: repo.get(other.id, visibility=seen)) is None
        key_seen = Visibility(everything=False, actor_id=me, user_id=None)
        assert await ids_of(run, shop, TaskQuery(visibility=key_seen)) == [mine.id]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"status": TaskStatus.DONE}, {"done"}),
            ({"priority": TaskPriority.URGENT}, {"urgent"}),
            ({"tag": "orders"}, {"tagged"}),
            ({"tag": 'we"ird'}, {"weird"}),
            ({"tag": "order"}, set()),
            ({"q": "MOOMIN"}, {"Moomin title", "moomin notes"}),
            ({"q": "50%"}, {"percent"}),
            ({"q": "a_b"}, {"underscore"}),
            ({"due_before": dt.date(2026, 12, 1)}, {"due early", "due edge"}),
            ({"due_after": dt.date(2026, 12, 1)}, {"due edge", "due late"}),
            ({"status": TaskStatus.TODO, "priority": TaskPriority.URGENT}, set()),
        ],
    )
    async def test_filters(self, run: Run, query: dict[str, Any], expected: set[str]) -> None:
        """Each filter keeps exactly the matching tasks (tags exactly, text literally, dates inclusively)."""
        shop = uuid.uuid4()
        tasks = await store(
            run,
            shop,
            make_task(title="done", status="done"),
            make_task(title="urgent", priority="urgent", status="in_progress"),
            make_task(title="tagged", tags=["orders", "kids"]),
            make_task(title="weird", tags=['we"ird']),
            make_task(title="Moomin title"),
            make_task(title="moomin notes", notes="about the MOOMINS"),
            make_task(title="percent", notes="50% off"),
            make_task(title="underscore", notes="a_b"),
            make_task(title="not underscore", notes="axb"),
            make_task(title="due early", due_date=dt.date(2026, 11, 30)),
            make_task(title="due edge", due_date=dt.date(2026, 12, 1)),
            make_task(title="due late", due_date=dt.date(2026, 12, 2)),
        )
        found = await ids_of(run, shop, TaskQuery(visibility=EVERYTHING, **query))
        titles = {task.id: task.title for task in tasks}
        assert {titles[task_id] for task_id in found} == expected

    async def test_assignee_filter(self, run: Run) -> None:
        """The assignee filter keeps the tasks assigned to that member."""
        shop, someone = uuid.uuid4(), uuid.uuid4()
        theirs, _ = await store(run, shop, make_task(assignee_id=someone), make_task())
        assert await ids_of(run, shop, TaskQuery(visibility=EVERYTHING, assignee_id=someone)) == [theirs.id]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            (TaskSort.CREATED_AT, ["alpha", "Bravo", "charlie", "delta"]),
            (TaskSort.CREATED_AT_DESC, ["delta", "charlie", "Bravo", "alpha"]),
            (TaskSort.TITLE, ["alpha", "Bravo", "charlie", "delta"]),
            (TaskSort.TITLE_DESC, ["delta", "charlie", "Bravo", "alpha"]),
            (TaskSort.PRIORITY, ["delta", "alpha", "charlie", "Bravo"]),
            (TaskSort.PRIORITY_DESC, ["Bravo", "charlie", "alpha", "delta"]),
            (TaskSort.DUE_DATE, ["charlie", "alpha", "delta", "Bravo"]),
            (TaskSort.DUE_DATE_DESC, ["delta", "alpha", "charlie", "Bravo"]),
        ],
    )
    async def test_sorts(self, run: Run, sort: TaskSort, expected: list[str]) -> None:
        """Every sort orders as documented: titles ignore case, priorities by rank, no due date last."""
        shop = uuid.uuid4()
        tasks = await store(
            run,
            shop,
            make_task(title="alpha", created_at=at(1), priority="normal", due_date=dt.date(2026, 12, 2)),
            make_task(title="Bravo", created_at=at(2), priority="urgent", due_date=None),
            make_task(title="charlie", created_at=at(3), priority="high", due_date=dt.date(2026, 12, 1)),
            make_task(title="delta", created_at=at(4), priority="low", due_date=dt.date(2026, 12, 3)),
        )
        assert await ids_of(run, shop, TaskQuery(visibility=EVERYTHING, sort=sort)) == _ordered(
            tasks, *expected
        )

    @pytest.mark.parametrize("sort", [TaskSort.CREATED_AT, TaskSort.CREATED_AT_DESC])
    async def test_ties_break_on_id_in_the_sort_direction(self, run: Run, sort: TaskSort) -> None:
        """Tasks with equal keys come in id order (descending for a descending sort)."""
        shop = uuid.uuid4()
        tasks = await store(run, shop, *(make_task(created_at=at(0)) for _ in range(5)))
        expected = sorted((task.id for task in tasks), key=lambda i: i.bytes, reverse=sort.descending)
        assert await ids_of(run, shop, TaskQuery(visibility=EVERYTHING, sort=sort)) == expected

    async def test_page_offsets_and_totals(self, run: Run) -> None:
        """Pages slice the order and report the full total; an offset past the end gives nothing."""
        shop = uuid.uuid4()
        await store(run, shop, *(make_task(created_at=at(i)) for i in range(5)))
        query = TaskQuery(visibility=EVERYTHING, sort=TaskSort.CREATED_AT)
        everything = await ids_of(run, shop, query)
        page, total = await run(shop, lambda repo: repo.find_page(query, offset=2, limit=2))
        assert ([task.id for task in page], total) == (everything[2:4], 5)
        page, total = await run(shop, lambda repo: repo.find_page(query, offset=10, limit=2))
        assert (page, total) == ([], 5)

    @pytest.mark.parametrize("sort", list(TaskSort))
    async def test_keyset_walk_matches_the_full_order(self, run: Run, sort: TaskSort) -> None:
        """Walking ``find_after`` two at a time yields the full order, each task once."""
        shop = uuid.uuid4()
        await store(
            run,
            shop,
            *(
                make_task(
                    title=f"task {i % 3}",
                    created_at=at(i % 4),
                    priority=["low", "urgent", "normal"][i % 3],
                    due_date=None if i % 2 else dt.date(2026, 12, 1 + i % 3),
                )
                for i in range(9)
            ),
        )
        query = TaskQuery(visibility=EVERYTHING, sort=sort)
        walked: list[uuid.UUID] = []
        after: CursorPosition | None = None
        for _ in range(20):

            async def next_rows(
                repo: TaskRepository, position: CursorPosition | None = after
            ) -> list[tuple[Task, Any]]:
                return await repo.find_after(query, after=position, limit=2)

            rows = await run(shop, next_rows)
            if not rows:
                break
            walked.extend(task.id for task, _ in rows)
            last, key = rows[-1]
            after = CursorPosition(sort=sort, key=key, task_id=last.id)
        assert walked == await ids_of(run, shop, query)
