"""Handler slots with two priorities: how an urgent message jumps the queue inside a worker.

A worker handles at most ``messaging.concurrency`` messages at once. Messages the
broker has delivered (up to the prefetch) wait for a slot; when one frees, it goes to
the oldest waiting *urgent* message, else to the oldest normal one. So an urgent
message waits for at most one handler to finish, however long the normal backlog.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["PrioritySlots"]


class PrioritySlots:
    """``size`` slots; waiters for an urgent slot are served first, each priority in arrival order."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("PrioritySlots needs at least one slot")
        self.size = size
        self._free = size
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """How many takers wait for a slot."""
        return sum(not future.done() for future in (*self._urgent, *self._normal))

    @property
    def busy(self) -> int:
        """How many slots are taken."""
        return self.size - self._free

    @asynccontextmanager
    async def take(self, *, urgent: bool) -> AsyncIterator[None]:
        """Hold a slot for the block, waiting behind earlier takers of the same or a higher priority."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._free > 0 and not self.waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._urgent if urgent else self._normal
        line.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # handed a slot just as it was cancelled: pass it on
            elif future in line:
                line.remove(future)
            raise

    def _release(self) -> None:
        # A freed slot goes straight to the next waiter, so a newcomer cannot overtake it.
        for line in (self._urgent, self._normal):
            while line:
                future = line.popleft()
                if not future.done():
                    future.set_result(None)
                    return
        self._free += 1
