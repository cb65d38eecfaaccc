"""A client's bounded queue and its backpressure policy: coalesce, then drop, then disconnect.

The hub offers every message of a shop to each of its clients' queues without ever
waiting, so a slow client cannot hold up the others; what a client has not taken yet
is bounded here:

1. **Coalesce.** A queued message of the same series is replaced by the new one, which
   goes to the back: a metric's latest value supersedes the older ones, and the queue
   stays in sequence order (a client's last ``seq`` is always a safe resume point).
2. **Drop.** When the queue still holds ``capacity`` messages the oldest is dropped and
   the queue is marked *out of sync*: the client's next take starts with a snapshot
   (every series' latest value), so a drop never leaves a series stale.
3. **Disconnect.** A client that has had more than ``max_drops`` drops since it last took
   anything stays too far behind: its queue is closed (emptied; the connection is then
   closed with 4408) and it resumes, or gets a snapshot, when it reconnects.

Memory per client is at most ``capacity`` messages whatever the client does.
"""

from __future__ import annotations

import asyncio
import enum
from collections import OrderedDict
from dataclasses import dataclass

from folio.live.messages import LiveMessage

__all__ = ["ClientQueue", "ClientTooSlowError", "Offered", "QueuePolicy", "Taken"]


@dataclass(frozen=True)
class QueuePolicy:
    """The bounds of every client's queue."""

    capacity: int = 64
    """Messages a client may have waiting (distinct series, after coalescing)."""
    max_drops: int = 256
    """Drops a client may accumulate without taking anything before it is disconnected."""


class Offered(enum.Enum):
    """What became of a message offered to a queue."""

    QUEUED = "queued"
    COALESCED = "coalesced"
    """It replaced a waiting message of its series."""
    DROPPED = "dropped"
    """The queue was full: the oldest waiting message was dropped for it."""
    DISCONNECTED = "disconnected"
    """The client stayed too far behind: its queue is closed."""
    CLOSED = "closed"
    """The queue was already closed: nothing was kept."""


class ClientTooSlowError(Exception):
    """The client's queue was closed because it stayed too far behind (close code 4408)."""


@dataclass(frozen=True)
class Taken:
    """What a client takes at once: ``resync`` says a snapshot must come first (messages were dropped)."""

    messages: tuple[LiveMessage, ...]
    resync: bool


class ClientQueue:
    """One client's waiting messages (see the module docstring); used from one event loop."""

    def __init__(self, policy: QueuePolicy) -> None:
        """An empty queue bounded by ``policy``."""
        self.policy = policy
        self._waiting: OrderedDict[str, LiveMessage] = OrderedDict()
        self._drops_since_take = 0
        self._resync = False
        self._closed = False
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        """Messages waiting."""
        return len(self._waiting)

    @property
    def closed(self) -> bool:
        """Whether the queue was closed for a client too far behind (or by ``close``)."""
        return self._closed

    def offer(self, message: LiveMessage) -> Offered:
        """Queue ``message`` under the policy; never waits."""
        if self._closed:
            return Offered.CLOSED
        outcome = Offered.QUEUED
        if self._waiting.pop(message.series, None) is not None:
            outcome = Offered.COALESCED
        elif len(self._waiting) >= self.policy.capacity:
            self._waiting.popitem(last=False)
            self._resync = True
            self._drops_since_take += 1
            outcome = Offered.DROPPED
            if self._drops_since_take > self.policy.max_drops:
                self.close()
                return Offered.DISCONNECTED
        self._waiting[message.series] = message
        self._ready.set()
        return outcome

    def resync(self) -> None:
        """Have the next take start with a snapshot (the hub lost its subscription for a while)."""
        self._resync = True
        self._ready.set()

    def close(self) -> None:
        """Empty the queue and wake its reader, which gets ``ClientTooSlowError``."""
        self._closed = True
        self._waiting.clear()
        self._ready.set()

    def take_nowait(self) -> Taken:
        """Everything waiting, oldest first (possibly nothing); ``ClientTooSlowError`` once closed."""
        if self._closed:
            raise ClientTooSlowError
        taken = Taken(tuple(self._waiting.values()), self._resync)
        self._waiting.clear()
        self._resync = False
        self._drops_since_take = 0
        self._ready.clear()
        return taken

    async def take(self) -> Taken:
        """Wait until something is waiting (or a resync is due), then take it all."""
        while not (self._waiting or self._resync or self._closed):
            await self._ready.wait()
        return self.take_nowait()
