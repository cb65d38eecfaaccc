"""The live routes through a served gateway: WebSocket and SSE, auth, shops apart, resume, limits."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.api import issue_access_token
from folio.live.api import LiveMessage, LiveStore, QueuePolicy, Update
from tests.conftest import free_port
from tests.integration.entrypoints.web.conftest import (
    Browser,
    operator_email,
    register_shop,
    web_app,
    web_settings,
)
from tests.integration.live.conftest import spend_request_window, token_for
from tests.integration.orders.conftest import serving

__all__ = [
    "operator_email",
    "web_app",
    "web_settings",
]  # fixtures: the gateway whose web app signs members in

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def socket(host: str, token: str | None, *, after: int | None = None) -> connect:
    """A WebSocket client of ``/api/v1/live/ws`` with ``token`` in its subprotocols."""
    query = f"?after={after}" if after is not None else ""
    protocols = ["folio.live.v1", *([f"bearer.{token}"] if token else [])]
    return connect(f"ws://{host}/api/v1/live/ws{query}", subprotocols=protocols)  # type: ignore[arg-type]


async def frame(ws: ClientConnection) -> dict[str, Any]:
    """The next frame, decoded."""
    body: dict[str, Any] = json.loads(await ws.recv(decode=True))
    return body


async def bump(store: LiveStore, shop: uuid.UUID, series: str = "orders_placed") -> int:
    """One more ``series`` count for ``shop``; its seq."""
    recorded = await store.record(
        shop, event_id=uuid.uuid4().hex, at=AT, updates=[Update(series, "count", amount=1)]
    )
    assert recorded is not None
    return recorded[0].seq


async def closed_with(ws: connect) -> int | None:
    """The close code the server ends ``ws`` with."""
    async with ws as client:
        await client.wait_closed()
        return client.close_code


async def test_each_token_sees_only_its_own_shop(
    served: str, settings: Settings, store: LiveStore, shops: Callable[[], uuid.UUID]
) -> None:
    """Two shops' owners connected at once: each gets its own shop's messages and never the other's."""
    shop_a, shop_b = shops(), shops()
    async with (
        socket(served, token_for(settings, shop_a)) as a,
        socket(served, token_for(settings, shop_b)) as b,
    ):
        assert a.subprotocol == "folio.live.v1"
        assert (await frame(a))["type"] == (await frame(b))["type"] == "snapshot"
        await bump(store, shop_a, "orders_placed")
        await bump(store, shop_a, "orders_paid")
        await bump(store, shop_b, "active_carts")
        assert [(f["seq"], f["series"]) for f in [await frame(a), await frame(a)]] == [
            (1, "orders_placed"),
            (2, "orders_paid"),
        ]
        # Had b been offered a's messages they would have come first.
        assert ((b_first := await frame(b))["seq"], b_first["series"]) == (1, "active_carts")


async def test_a_socket_is_closed_with_a_code_the_page_can_read(
    served: str, settings: Settings, shops: Callable[[], uuid.UUID]
) -> None:
    """4401 without a token or with a forged one; 4403 for a customer (the metrics are the staff's)."""
    shop = shops()
    assert await closed_with(socket(served, None)) == 4401
    assert await closed_with(socket(served, "not-a-token")) == 4401
    assert await closed_with(socket(served, token_for(settings, shop, Role.CUSTOMER))) == 4403


async def test_a_reconnecting_socket_gets_exactly_what_it_missed(
    served: str, settings: Settings, store: LiveStore, shops: Callable[[], uuid.UUID]
) -> None:
    """Three seen, disconnected while three more happen; reconnecting after 3 yields 4, 5, 6 and then 7."""
    shop = shops()
    token = token_for(settings, shop)
    async with socket(served, token) as ws:
        assert (await frame(ws))["type"] == "snapshot"
        for _ in range(3):
            await bump(store, shop)
        seen = [(await frame(ws))["seq"] for _ in range(3)]
    assert seen == [1, 2, 3]
    for series in ("orders_placed", "orders_paid", "orders_placed"):
        await bump(store, shop, series)
    async with socket(served, token, after=3) as ws:
        missed = [await frame(ws) for _ in range(3)]
        assert [(f["seq"], f["series"], f["value"]) for f in missed] == [
            (4, "orders_placed", 4),
            (5, "orders_paid", 1),
            (6, "orders_placed", 5),
        ]
        await bump(store, shop)
        assert (await frame(ws))["seq"] == 7


async def test_a_client_too_far_behind_is_closed_with_4408(
    served: str, api_app: FastAPI, settings: Settings, shops: Callable[[], uuid.UUID]
) -> None:
    """The hub drops for a full queue and, past max_drops, the socket is closed with 4408 (too slow)."""
    shop = shops()
    hub = api_app.state.live_hub
    hub.policy = QueuePolicy(capacity=1, max_drops=0)  # the first drop is one too many
    async with socket(served, token_for(settings, shop)) as ws:
        assert (await frame(ws))["type"] == "snapshot"
        # Two series offered in one go: the second finds the queue full before the client could take.
        for seq, series in ((1, "a"), (2, "b")):
            hub.dispatch(LiveMessage(seq, series, json.dumps({"seq": seq, "series": series})), shop)
        await ws.wait_closed()
        assert ws.close_code == 4408
    assert hub.metrics.registry.get_sample_value("folio_live_disconnected_slow_total") == 1


async def events(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """The Server-Sent Events of ``response``, each as its fields (comments and ``retry`` left out)."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def test_server_sent_events_resume_from_last_event_id(
    served: str, settings: Settings, store: LiveStore, shops: Callable[[], uuid.UUID]
) -> None:
    """SSE: a snapshot, updates with id = seq; a reconnect with Last-Event-ID gets exactly the missed one."""
    shop = shops()
    token = token_for(settings, shop)
    await bump(store, shop)
    async with httpx.AsyncClient(base_url=f"http://{served}", timeout=10) as http:
        async with http.stream("GET", f"/api/v1/live/events?access_token={token}") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = events(response)
            snapshot = await anext(stream)
            assert (snapshot["event"], snapshot["id"]) == ("snapshot", "1")
            assert [m["value"] for m in json.loads(snapshot["data"])["messages"]] == [1]
            await bump(store, shop)
            update = await anext(stream)
            assert (update["event"], update["id"], json.loads(update["data"])["value"]) == ("update", "2", 2)
        await bump(store, shop, "orders_paid")
        await bump(store, shop)
        headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": "2"}
        async with http.stream("GET", "/api/v1/live/events", headers=headers) as response:
            stream = events(response)
            assert [
                (e["id"], json.loads(e["data"])["series"]) for e in [await anext(stream), await anext(stream)]
            ] == [
                ("3", "orders_paid"),
                ("4", "orders_placed"),
            ]
        refused = await http.get(
            "/api/v1/live/events",
            headers={"Authorization": f"Bearer {token_for(settings, shop, Role.CUSTOMER)}"},
        )
        assert (refused.status_code, refused.headers["content-type"]) == (403, "application/problem+json")
        assert (await http.get("/api/v1/live/events")).status_code == 401


async def test_connections_past_the_callers_rate_or_the_shops_cap_are_refused(
    served: str,
    api_app: FastAPI,
    settings: Settings,
    redis_limiter: RateLimiter,
    shops: Callable[[], uuid.UUID],
) -> None:
    """A spent request window: 4429 / 429 with Retry-After; a shop at its cap: the same for its others."""
    shop = shops()
    member = Principal(tenant_id=shop, role=Role.STAFF, user_id=uuid.uuid4(), via="token")
    token = issue_access_token(settings, member)
    await spend_request_window(redis_limiter, api_app.state.platform.settings, member)
    assert await closed_with(socket(served, token)) == 4429
    async with httpx.AsyncClient(base_url=f"http://{served}", timeout=10) as http:
        refused = await http.get("/api/v1/live/events", headers={"Authorization": f"Bearer {token}"})
        assert (refused.status_code, refused.json()["code"]) == (429, "rate-limited")
        assert int(refused.headers["retry-after"]) >= 1
        api_app.state.live_hub.max_clients_per_shop = 1
        async with socket(served, token_for(settings, shop)) as first:
            assert (await frame(first))["type"] == "snapshot"
            assert await closed_with(socket(served, token_for(settings, shop))) == 4429
            full = await http.get("/api/v1/live/events", params={"access_token": token_for(settings, shop)})
            assert (full.status_code, full.headers["retry-after"]) == (429, "10")
        async with socket(served, token_for(settings, shops())) as elsewhere:  # the cap is per shop
            assert (await frame(elsewhere))["type"] == "snapshot"


@pytest.fixture
async def served_web(web_app: FastAPI) -> AsyncIterator[tuple[str, Browser]]:
    """The gateway with cheap password hashing, served on a free port, and a browser of it."""
    port = free_port()
    async with (
        serving(web_app, port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        await web_app.state.live_hub.subscribed.wait()
        yield f"127.0.0.1:{port}", Browser(client)


async def test_the_web_session_opens_the_stream_from_the_gateways_own_pages_only(
    served_web: tuple[str, Browser],
) -> None:
    """A signed-in owner's cookie streams (WS and SSE) from the own origin; a foreign origin is 4403 / 403."""
    host, owner = served_web
    await register_shop(owner)
    cookie = {"Cookie": f"folio_session={owner.client.cookies['folio_session']}"}

    def by_cookie(origin: str) -> connect:
        return connect(
            f"ws://{host}/api/v1/live/ws",
            subprotocols=["folio.live.v1"],  # type: ignore[list-item]
            additional_headers=cookie,
            origin=origin,  # type: ignore[arg-type]
        )

    async with by_cookie(f"http://{host}") as ws:
        assert (await frame(ws))["type"] == "snapshot"
    assert await closed_with(by_cookie("https://evil.example")) == 4403
    async with owner.client.stream("GET", "/api/v1/live/events", headers=cookie) as response:
        assert response.status_code == 200
        assert (await anext(events(response)))["event"] == "snapshot"
    foreign = await owner.client.get(
        "/api/v1/live/events", headers={**cookie, "Origin": "https://evil.example"}
    )
    assert (foreign.status_code, foreign.json()["code"]) == (403, "permission-denied")
    await owner.press("/app/logout")
    assert await closed_with(by_cookie(f"http://{host}")) == 4401  # the old session id is worthless
