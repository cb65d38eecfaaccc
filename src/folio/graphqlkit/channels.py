"""Redis pub/sub channels as async iterators, for GraphQL subscriptions.

The channels are the live dashboard's (one publisher, several readers): per shop,
``folio:orders:<tenant_id>`` carries ``{"order_id", "status", "version", "at"}`` for
each order change and ``folio:live:<tenant_id>`` carries ``{"seq", "series", "value",
"at"}`` for each live metric. A subscription reads only its caller's shop's channel,
so another shop's messages never reach it. Pub/sub keeps nothing: a subscriber hears
what is published while it listens.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog
from redis.asyncio import Redis

from folio.core.channels import live_channel, orders_channel
from folio.core.errors import ServiceUnavailableError

__all__ = ["Channels", "live_channel", "orders_channel"]

log = structlog.get_logger(__name__)

POLL_S = 0.5
"""The longest one read of a subscription waits before the generator runs again."""


class Channels:
    """Subscriptions to Redis channels (``redis`` None: lite mode, where there are none)."""

    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis

    async def listen(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Each JSON object published on ``channel`` from now on; a message that is not one is skipped.

        Raises ``ServiceUnavailableError`` in lite mode. Leaving the iteration
        unsubscribes (the subscription's connection goes back to the pool).
        """
        if self._redis is None:
            raise ServiceUnavailableError("subscriptions need Redis; this deployment runs in lite mode")
        # Any: redis-py types its PubSub methods only partly (aclose is untyped).
        pubsub: Any = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        try:
            # Polled, not `listen()`: redis-py can absorb the cancellation of a blocking read
            # (a client leaving) and read on; a poll gives the generator back every POLL_S.
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
                if message is None:
                    continue
                try:
                    payload = json.loads(message["data"])
                except (TypeError, ValueError):
                    payload = None
                if isinstance(payload, dict):
                    yield payload
                else:
                    log.warning("graphql.channel_message_skipped", channel=channel)
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()
