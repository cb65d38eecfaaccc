"""The gateway's fan-out: one Redis subscription per process, feeding every client's bounded queue.

``LiveHub`` pattern-subscribes to ``folio:live:*`` once and offers each message to the
queues of its shop's clients (``ClientQueue``: the backpressure policy), which never
waits: a slow client only fills its own queue. Each connection (WebSocket or SSE) takes
from its queue in its own task, through ``LiveHub.stream``: the backlog first (the
messages it missed, or a snapshot), then what arrives, a snapshot again whenever its
queue dropped something. When the subscription breaks (Redis restarted) it is opened
again with a doubling pause and every client resyncs from a snapshot. A shop holds at
most ``max_clients_per_shop`` connections in one process (``live.max_connections_per_shop``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError

from folio.live.messages import LIVE_PATTERN, LiveMessage, tenant_of_channel
from folio.live.queue import ClientQueue, Offered, QueuePolicy
from folio.live.resume import ResumePlan
from folio.live.store import Backlog, LiveStore

__all__ = ["Frame", "LiveHub", "LiveMetrics", "TooManyClientsError", "from_snapshot"]

log = structlog.get_logger(__name__)

MIN_BACKOFF_S = 0.2
POLL_S = 0.5
"""The longest one read of the subscription waits: how soon the hub notices it must stop."""
MAX_BACKOFF_S = 10.0
UNLIMITED_CLIENTS = 1_000_000
"""The cap of a hub made without one (tests, benchmarks)."""


class TooManyClientsError(Exception):
    """The shop has as many live connections open in this process as it may."""


class LiveMetrics:
    """The hub's Prometheus metrics, in the registry it is given (the gateway's)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        """Register the counters in ``registry`` (None: a private one, for tests and benchmarks)."""
        registry = registry if registry is not None else CollectorRegistry()
        self.registry = registry
        self.offered = Counter(
            "folio_live_messages_offered_total", "Live messages offered to client queues.", registry=registry
        )
        self.coalesced = Counter(
            "folio_live_coalesced_total",
            "Live messages that replaced a waiting one of their series in a client's queue.",
            registry=registry,
        )
        self.dropped = Counter(
            "folio_live_dropped_total",
            "Live messages dropped from a full client queue (the client resyncs from a snapshot).",
            registry=registry,
        )
        self.disconnected_slow = Counter(
            "folio_live_disconnected_slow_total",
            "Live clients disconnected for staying too far behind (close code 4408).",
            registry=registry,
        )
        self.clients = Gauge(
            "folio_live_clients", "Live connections open in this process.", registry=registry
        )


@dataclass(frozen=True)
class Frame:
    """What a connection sends next: one ``update``, or a ``snapshot`` (``text`` is its JSON)."""

    kind: str
    seq: int
    text: str


class LiveHub:
    """One process's subscription and its clients (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        *,
        store: LiveStore | None = None,
        policy: QueuePolicy | None = None,
        metrics: LiveMetrics | None = None,
        max_clients_per_shop: int = UNLIMITED_CLIENTS,
    ) -> None:
        """A hub on ``redis``; nothing connects until ``run``."""
        self.redis = redis
        self.store = store or LiveStore(redis)
        self.policy = policy or QueuePolicy()
        self.metrics = metrics or LiveMetrics(None)
        self.max_clients_per_shop = max_clients_per_shop
        self._clients: dict[uuid.UUID, set[ClientQueue]] = {}
        self._subscribed = asyncio.Event()
        self._stopping = asyncio.Event()

    @property
    def subscribed(self) -> asyncio.Event:
        """Set while the subscription is open (tests wait on it before publishing)."""
        return self._subscribed

    def clients_of(self, tenant_id: uuid.UUID) -> int:
        """How many connections of ``tenant_id`` this process serves."""
        return len(self._clients.get(tenant_id, ()))

    def has_room(self, tenant_id: uuid.UUID) -> bool:
        """Whether one more connection of ``tenant_id`` would stay within ``max_clients_per_shop``."""
        return self.clients_of(tenant_id) < self.max_clients_per_shop

    def queue_lengths(self, tenant_id: uuid.UUID) -> list[int]:
        """How many messages each client of ``tenant_id`` has waiting (what backpressure bounds)."""
        return [len(queue) for queue in self._clients.get(tenant_id, ())]

    def dispatch(self, message: LiveMessage, tenant_id: uuid.UUID) -> None:
        """Offer ``message`` to every client of ``tenant_id`` (never waits)."""
        for queue in self._clients.get(tenant_id, ()):
            outcome = queue.offer(message)
            self.metrics.offered.inc()
            if outcome is Offered.COALESCED:
                self.metrics.coalesced.inc()
            elif outcome is Offered.DROPPED:
                self.metrics.dropped.inc()
            elif outcome is Offered.DISCONNECTED:
                self.metrics.dropped.inc()
                self.metrics.disconnected_slow.inc()
                log.warning("live.client_too_slow", tenant_id=str(tenant_id))

    async def run(self) -> None:
        """Listen until stopped, subscribing again (clients resync) whenever the subscription breaks.

        It polls (``POLL_S``) rather than blocking in ``listen()``: redis-py can absorb a
        cancellation inside a blocking read and read on, so ``running`` also sets
        ``_stopping``, which ends the loop within one poll whatever the driver does.
        """
        pause_s = MIN_BACKOFF_S
        while not self._stopping.is_set():
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.psubscribe(LIVE_PATTERN)
                    self._subscribed.set()
                    pause_s = MIN_BACKOFF_S
                    while not self._stopping.is_set():
                        raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
                        if raw is not None:
                            self._receive(raw)
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                log.warning("live.subscription_lost", error=str(exc), retry_in_s=pause_s)
                for queues in self._clients.values():
                    for queue in queues:
                        queue.resync()
                await asyncio.sleep(pause_s)
                pause_s = min(pause_s * 2, MAX_BACKOFF_S)

    def _receive(self, raw: dict[str, object]) -> None:
        channel, data = raw.get("channel"), raw.get("data")
        if not isinstance(channel, bytes | str) or not isinstance(data, bytes | str):
            return
        tenant_id = tenant_of_channel(channel.decode() if isinstance(channel, bytes) else channel)
        if tenant_id is None:
            return
        try:
            message = LiveMessage.parse(data)
        except ValueError:
            log.warning("live.bad_message", channel=str(channel))
            return
        self.dispatch(message, tenant_id)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LiveHub]:
        """Run the subscription as a task for the duration of the block (the gateway's lifespan)."""
        self._stopping.clear()
        task = asyncio.create_task(self.run(), name="live-hub")
        try:
            yield self
        finally:
            self._stopping.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stream(self, tenant_id: uuid.UUID, last_seq: int | None) -> AsyncGenerator[Frame, None]:
        """The frames of one connection of ``tenant_id`` whose last message was ``last_seq``.

        The queue is registered before the backlog is read, so nothing published in
        between is lost; what the backlog already covers is skipped. Ends with
        ``ClientTooSlowError`` when the queue is closed for being too far behind. Raises
        ``TooManyClientsError`` first when the shop has no room (checked and registered
        with no wait in between, so connections opening together cannot all squeeze in).
        """
        if not self.has_room(tenant_id):
            raise TooManyClientsError(f"{self.max_clients_per_shop} live connections of this shop are open")
        queue = ClientQueue(self.policy)
        self._clients.setdefault(tenant_id, set()).add(queue)
        self.metrics.clients.inc()
        try:
            backlog = await self.store.backlog(tenant_id, last_seq)
            sent = backlog.seq
            for frame in _backlog_frames(backlog):
                yield frame
            while True:
                taken = await queue.take()
                if taken.resync:
                    snapshot = await self.store.snapshot(tenant_id)
                    sent = max(sent, snapshot.seq)
                    yield from_snapshot(snapshot)
                for message in taken.messages:
                    if message.seq > sent:
                        sent = message.seq
                        yield Frame("update", message.seq, message.text)
        finally:
            queue.close()
            clients = self._clients.get(tenant_id)
            if clients is not None:
                clients.discard(queue)
                if not clients:
                    del self._clients[tenant_id]
            self.metrics.clients.dec()


def from_snapshot(snapshot: Backlog) -> Frame:
    """A snapshot frame: ``{"type": "snapshot", "seq": N, "messages": [...]}``."""
    messages = ",".join(message.text for message in snapshot.messages)
    return Frame(
        "snapshot", snapshot.seq, f'{{"type":"snapshot","seq":{snapshot.seq},"messages":[{messages}]}}'
    )


def _backlog_frames(backlog: Backlog) -> list[Frame]:
    if backlog.plan is ResumePlan.SNAPSHOT:
        return [from_snapshot(backlog)]
    return [Frame("update", message.seq, message.text) for message in backlog.messages]
