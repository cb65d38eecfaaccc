"""Background tasks that stop without hanging their owner: periodic jobs and bounded cancellation.

Why not just ``task.cancel(); await task``: on Python 3.11 a cancellation that lands
while a driver's ``asyncio.wait_for`` is completing can be lost (CPython bpo-42130,
fixed by 3.12's rewrite of ``wait_for``). redis-py and asyncpg both wait that way, and
a retry loop may go on after a cancellation whose error chain looks like a dropped
connection. The task then keeps running and whoever awaits it waits forever: a gateway
whose lifespan never ends, a test suite stuck until CI gives up. So:

- ``Periodic`` runs a job every interval and is stopped with an event, never a
  cancellation: a job in flight finishes (its own timeouts bound it), then the loop
  ends. Only a job still running after the grace period is cancelled.
- ``stop_tasks`` cancels and waits *at most* a grace period, logs the tasks that did
  not end, and returns; the owner's shutdown goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

__all__ = ["STOP_GRACE_S", "Periodic", "stop_tasks"]

log = structlog.get_logger(__name__)

STOP_GRACE_S = 10.0
"""How long a stop waits for a task before giving up on it (longer than any one database or Redis call)."""


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], *, grace_s: float = STOP_GRACE_S) -> int:
    """Cancel ``tasks`` and wait at most ``grace_s`` for them; returns how many did not end (logged)."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=grace_s)
    stuck = [task for task in pending if not task.done()]
    for task in pending:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: its owner chose to stop it, not to hear of it
    for task in stuck:
        log.warning("background task did not stop", task=task.get_name(), grace_s=grace_s)
    return len(stuck)


class Periodic:
    """Runs ``job`` every ``interval_s`` from ``start`` until ``stop`` (see the module docstring).

    A job that raises is logged with its traceback and runs again at the next
    interval (jobs that expect failures, such as an outage, log them more quietly
    themselves).
    """

    def __init__(self, job: Callable[[], Awaitable[object]], *, interval_s: float, name: str) -> None:
        self.job = job
        self.interval_s = interval_s
        self.name = name
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the loop is started and not yet ended."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop on the running event loop (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, *, grace_s: float = STOP_GRACE_S) -> None:
        """End the loop: the job in flight may finish within ``grace_s``, then it is cancelled."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        await asyncio.wait({task}, timeout=grace_s)
        await stop_tasks([task], grace_s=grace_s)
        self._stopping = asyncio.Event()  # startable again

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)
            except TimeoutError:
                try:
                    await self.job()
                except Exception:
                    log.exception("periodic job failed", job=self.name)
