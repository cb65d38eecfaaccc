"""Single flight: one run of an operation per key at a time in this process.

Why a task rather than a lock: the first caller starts the operation as its own task
and every caller (the first included) awaits it through ``asyncio.shield``, so they all
get its result or its exception, and a caller that is cancelled (its client went away)
neither cancels the load the others wait for nor leaves it half-done. The key is freed
once the task ends, so the next miss after a failure tries again instead of replaying
the old exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from folio.core.background import stop_tasks

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """At most one running ``load`` per key; concurrent callers share its outcome."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    def __len__(self) -> int:
        return len(self._running)

    def running(self, key: str) -> bool:
        """Whether a run for ``key`` is in flight."""
        return key in self._running

    async def run(self, key: str, load: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """``load()``'s result, from the run already in flight for ``key`` if there is one."""
        return await asyncio.shield(self.start(key, load))

    def start(self, key: str, load: Callable[[], Coroutine[Any, Any, T]]) -> asyncio.Task[T]:
        """The task running ``load`` for ``key``: the one in flight, or a new one.

        Nobody need await it (a background refresh): its exception is then retrieved
        here so asyncio does not report it as never retrieved; its owner logs it.
        """
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(load())
            self._running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return task

    async def aclose(self) -> None:
        """Cancel every run in flight and wait for them to end (for a bounded time: ``stop_tasks``)."""
        await stop_tasks(list(self._running.values()))

    def _finished(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()
