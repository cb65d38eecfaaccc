"""GraphQL subscriptions over WebSocket (graphql-transport-ws), fed by the shops' Redis channels."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from folio.graphqlkit import live_channel, orders_channel
from tests.conftest import free_port
from tests.integration.live.conftest import spend_request_window
from tests.integration.orders.conftest import Shop, new_shop, serving

pytestmark = pytest.mark.integration

PROTOCOL = "graphql-transport-ws"
AT = "2026-12-04T12:00:00+00:00"


@pytest.fixture
async def served(
    migrated_postgres: Settings, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[str]:
    """The gateway served by uvicorn on a free loopback port; its host:port."""
    port = free_port()
    platform = build_platform(migrated_postgres, database=pg_database, rate_limiter=redis_limiter)
    app = create_app(migrated_postgres, platform=platform)
    async with app.router.lifespan_context(app), serving(app, port):
        yield f"127.0.0.1:{port}"
    await platform.aclose()


@pytest.fixture
async def redis(migrated_postgres: Settings) -> AsyncIterator[Redis]:
    """A client of the services' Redis, to publish as the live dashboard's publisher does."""
    client = Redis.from_url(migrated_postgres.cache_url)
    yield client
    await client.aclose()


async def subscribed(host: str, headers: dict[str, str], query: str) -> ClientConnection:
    """A connection that authenticated with ``headers`` in connection_init and subscribed to ``query``."""
    ws = await connect(f"ws://{host}/graphql", subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": headers}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}}))
    return ws


async def next_payload(ws: ClientConnection) -> dict[str, Any]:
    """The next ``next`` message's payload (waits at most 5 s)."""
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    assert message["type"] == "next", message
    payload: dict[str, Any] = message["payload"]
    return payload


async def publish_until_heard(redis: Redis, channel: str, message: dict[str, Any]) -> None:
    """Publish ``message`` until a subscriber hears it (the subscription starts asynchronously)."""
    for _ in range(100):
        if await redis.publish(channel, json.dumps(message)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nobody subscribed to {channel}")


async def test_order_updates_carry_the_callers_shop_only(
    served: str, redis: Redis, pg_database: Database, migrated_postgres: Settings, headers_of: Any
) -> None:
    """A change published for another shop never arrives; the caller's shop's does, typed."""
    shop: Shop = await new_shop(pg_database, migrated_postgres)
    other: Shop = await new_shop(pg_database, migrated_postgres)
    query = "subscription { orderUpdates { orderId status version at } }"
    ws = await subscribed(served, headers_of(shop.staff), query)
    try:
        order_id = str(uuid.uuid4())
        # Another shop's subscriber makes the other channel's publish count as heard.
        other_ws = await subscribed(served, headers_of(other.staff), query)
        await publish_until_heard(
            redis,
            orders_channel(other.tenant_id),
            {"order_id": str(uuid.uuid4()), "status": "paid", "version": 2, "at": AT},
        )
        await publish_until_heard(
            redis,
            orders_channel(shop.tenant_id),
            {"order_id": order_id, "status": "shipped", "version": 4, "at": AT},
        )
        assert await next_payload(ws) == {
            "data": {"orderUpdates": {"orderId": order_id, "status": "SHIPPED", "version": 4, "at": AT}}
        }
        await other_ws.close()
    finally:
        await ws.close()


async def test_live_metrics_stream_the_series_asked_for(
    served: str, redis: Redis, pg_database: Database, migrated_postgres: Settings, headers_of: Any
) -> None:
    """liveMetrics(series: ["revenue"]) skips other series, malformed messages and non-numeric values."""
    shop: Shop = await new_shop(pg_database, migrated_postgres)
    ws = await subscribed(
        served, headers_of(shop.owner), 'subscription { liveMetrics(series: ["revenue"]) { seq value } }'
    )
    try:
        channel = live_channel(shop.tenant_id)
        await publish_until_heard(redis, channel, {"seq": 1, "series": "orders", "value": 3, "at": AT})
        await redis.publish(channel, "not json")
        per_currency = {"seq": 2, "series": "revenue", "value": {"EUR": 1490}, "at": AT}
        await redis.publish(channel, json.dumps(per_currency))
        await redis.publish(channel, json.dumps({"seq": 3, "series": "revenue", "value": 12.5, "at": AT}))
        assert await next_payload(ws) == {"data": {"liveMetrics": {"seq": 3, "value": 12.5}}}
    finally:
        await ws.close()


async def test_a_customer_may_not_follow_every_order(
    served: str, pg_database: Database, migrated_postgres: Settings, headers_of: Any
) -> None:
    """OrderUpdates is staff's: a customer's subscription ends with permission-denied."""
    shop: Shop = await new_shop(pg_database, migrated_postgres)
    ws = await subscribed(served, headers_of(shop.customer), "subscription { orderUpdates { orderId } }")
    try:
        errors = (await next_payload(ws))["errors"]
        assert [error["extensions"]["code"] for error in errors] == ["permission-denied"]
    finally:
        await ws.close()


async def test_a_connection_with_a_bad_token_is_closed_4403(served: str) -> None:
    """connection_init with a forged token: no ack, the socket closes with 4403."""
    async with connect(f"ws://{served}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), timeout=5)
        assert ws.close_code == 4403


async def test_a_connection_past_the_callers_request_window_is_closed_4429(
    served: str,
    pg_database: Database,
    migrated_postgres: Settings,
    redis_limiter: RateLimiter,
    headers_of: Any,
) -> None:
    """A connection counts as a request of its caller: with its REST window spent, it is closed 4429."""
    shop: Shop = await new_shop(pg_database, migrated_postgres)
    await spend_request_window(redis_limiter, migrated_postgres, shop.staff)
    async with connect(f"ws://{served}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": headers_of(shop.staff)}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), timeout=5)
        assert ws.close_code == 4429
