"""The live context's public surface: the channel contract, the store, the feed stage and the fan-out.

Key contracts (``docs/live.md`` has the design, the policy and the figures):

- **Channels.** ``folio:live:<tenant_id>`` carries ``{"seq", "series", "value", "at"}``;
  ``folio:orders:<tenant_id>`` carries ``{"order_id", "status", "version", "at"}``
  (``folio.live.messages``). GraphQL subscriptions read the same channels.
- **Sequence and history.** ``seq`` is per shop, from Redis ``INCR``: it grows across
  restarts of every process. The last ``HISTORY_LENGTH`` messages of a shop are kept in
  a capped Redis stream, so a client resumes after a gateway restart too.
- **Feed.** ``run_live_feed`` is a stage of the event pipeline (group ``folio.live``),
  run by the ``streams`` process; each event is counted once (its id is marked).
- **Fan-out.** ``serving_live`` runs one ``LiveHub`` per gateway process: one Redis
  subscription, a bounded queue per client (``QueuePolicy``: coalesce, drop, disconnect),
  at most ``live.max_connections_per_shop`` clients of a shop.
- **Admission.** ``admit_connection`` counts a connection attempt as one request of its
  caller in the REST API's rate-limit windows (the live routes and GraphQL's subscription
  sockets call it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry
from redis.asyncio import BlockingConnectionPool, Redis

from folio.core.settings import Settings
from folio.live.admission import admit_connection
from folio.live.feed import FEED_FAMILIES, LOW_STOCK, STAGE, LiveFeed, run_live_feed, updates_for
from folio.live.hub import Frame, LiveHub, LiveMetrics, TooManyClientsError
from folio.live.messages import LIVE_PATTERN, LiveKeys, LiveMessage, live_channel, orders_channel
from folio.live.queue import ClientQueue, ClientTooSlowError, Offered, QueuePolicy, Taken
from folio.live.resume import ResumePlan, plan_resume
from folio.live.settings import LiveSettings
from folio.live.store import HISTORY_LENGTH, Backlog, LiveStore, Update
from folio.webkit.session_store import sessions_in_redis

__all__ = [
    "FEED_FAMILIES",
    "HISTORY_LENGTH",
    "LIVE_PATTERN",
    "LOW_STOCK",
    "STAGE",
    "Backlog",
    "ClientQueue",
    "ClientTooSlowError",
    "Frame",
    "LiveFeed",
    "LiveHub",
    "LiveKeys",
    "LiveMessage",
    "LiveMetrics",
    "LiveSettings",
    "LiveStore",
    "Offered",
    "QueuePolicy",
    "ResumePlan",
    "Taken",
    "TooManyClientsError",
    "Update",
    "admit_connection",
    "live_available",
    "live_channel",
    "orders_channel",
    "plan_resume",
    "run_live_feed",
    "serving_live",
    "updates_for",
]


REDIS_CONNECTIONS = 32
"""The hub's Redis connections: its subscription and the backlog reads of connecting clients."""
REDIS_WAIT_S = 20.0
"""How long a connecting client may wait for one of them."""


def live_available(settings: Settings) -> bool:
    """Whether ``settings`` have a cache server to keep the live state on (lite mode has none)."""
    # The live state lives on the cache server the web sessions use.
    return sessions_in_redis(settings)


@asynccontextmanager
async def serving_live(
    settings: Settings, *, registry: CollectorRegistry | None
) -> AsyncIterator[LiveHub | None]:
    """Run the process's ``LiveHub`` for the block (the gateway's lifespan puts it on ``app.state.live_hub``).

    Its counters go into ``registry`` (the gateway's). Without a cache server (lite mode)
    there is no hub (None) and the live routes answer 4503 / 503.
    """
    if not live_available(settings):
        yield None
        return
    # Connections that open together (every page after a gateway restart) each read their
    # backlog once: they wait their turn for a connection rather than fail past the pool's size.
    pool = BlockingConnectionPool.from_url(
        settings.cache_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_S
    )
    redis = Redis.from_pool(pool)
    hub = LiveHub(
        redis, metrics=LiveMetrics(registry), max_clients_per_shop=settings.live.max_connections_per_shop
    )
    try:
        async with hub.running():
            yield hub
    finally:
        await redis.aclose()
