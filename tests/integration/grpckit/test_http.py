"""The gateway's /api/v1/cart and /api/v1/orders, answered through the orders gRPC service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from folio.entrypoints.gateway.health import add_service_checks
from tests.integration.grpckit.conftest import Pair
from tests.integration.orders.conftest import Shop, new_listing
from tests.support.identity import Session, add_member_and_login, fast_argon2, register_and_login

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def migrated_postgres(migrated_postgres: Settings) -> Settings:
    """Cheap password hashing: these tests sign members up over HTTP."""
    return fast_argon2(migrated_postgres)


@pytest.fixture
async def gateway(
    grpc_pair: Pair, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app whose orders client dials the pair's orders server."""
    platform = build_platform(grpc_pair.settings, database=pg_database, rate_limiter=redis_limiter)
    app = create_app(grpc_pair.settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://folio.test") as client:
            yield client
    await platform.aclose()


async def test_checkout_over_http_goes_through_the_orders_service(
    gateway: httpx.AsyncClient, grpc_pair: Pair, pg_database: Database
) -> None:
    """Cart, checkout with Idempotency-Key (twice, one order), list with a cursor, get, and a refused move."""
    owner = await register_and_login(gateway)
    customer = await add_member_and_login(gateway, owner, "customer")
    shop = Shop(
        owner=_principal(owner),
        staff=_principal(owner),
        customer=_principal(customer),
        settings=grpc_pair.settings,
    )
    listing = await new_listing(pg_database, shop, price=450, stock=4)

    cart = await gateway.put(
        f"/api/v1/cart/items/{listing.id}", json={"quantity": 2}, headers=customer.headers
    )
    first = await gateway.post("/api/v1/orders", headers={**customer.headers, "Idempotency-Key": "http-1"})
    second = await gateway.post("/api/v1/orders", headers={**customer.headers, "Idempotency-Key": "http-1"})
    keyless = await gateway.post("/api/v1/orders", headers=customer.headers)
    order = first.json()
    listed = await gateway.get("/api/v1/orders", params={"limit": 1}, headers=owner.headers)
    fetched = await gateway.get(first.headers["Location"], headers=customer.headers)
    packed = await gateway.post(f"/api/v1/orders/{order['id']}/pack", headers=customer.headers)
    unpaid = await gateway.post(f"/api/v1/orders/{order['id']}/pack", headers=owner.headers)

    assert cart.status_code == 200
    assert cart.json()["total_minor"] == 900
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == order["id"]
    assert first.headers["ETag"] == f'"{order["version"]}"'
    assert keyless.status_code == 422
    assert listed.json()["data"][0]["id"] == order["id"]
    assert listed.json()["has_more"] is False
    assert fetched.json() == order
    assert packed.status_code == 403
    assert packed.headers["content-type"] == "application/problem+json"
    assert unpaid.status_code == 409
    assert unpaid.json()["code"] == "illegal-transition"


async def test_an_unknown_order_is_the_orders_problem(gateway: httpx.AsyncClient) -> None:
    """The service's order-not-found comes back as the same problem+json, with the request's id."""
    owner = await register_and_login(gateway)

    missing = await gateway.get(
        "/api/v1/orders/00000000-0000-0000-0000-000000000001",
        headers={**owner.headers, "X-Request-ID": "trace-me-1"},
    )

    assert missing.status_code == 404
    assert missing.json()["code"] == "order-not-found"
    assert missing.json()["correlation_id"] == "trace-me-1"


def _principal(session: Session) -> Principal:
    """The principal a logged-in member acts as (for the catalogue helpers)."""
    return Principal(tenant_id=session.tenant_id, role=session.role, user_id=session.user_id, via="token")


async def test_readyz_reports_the_orders_service_and_degrades_without_it(
    grpc_pair: Pair, pg_database: Database, redis_limiter: RateLimiter
) -> None:
    """The gateway's readiness asks the orders server's gRPC health: ok while up, degraded once it stops."""
    platform = add_service_checks(
        build_platform(grpc_pair.settings, database=pg_database, rate_limiter=redis_limiter)
    )
    app = create_app(grpc_pair.settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://folio.test") as http:
            up = await http.get("/readyz")
            await grpc_pair.orders_server.stop(0)
            down = await http.get("/readyz")
            alive = await http.get("/healthz")
    await platform.aclose()

    assert up.status_code == 200
    assert up.json()["status"] == "ready"
    assert up.json()["checks"]["orders"] == "ok"
    assert down.status_code == 200
    assert down.json()["status"] == "degraded"
    assert down.json()["checks"]["orders"].startswith("failed: ServiceUnavailableError")
    others = set(up.json()["checks"]) - {"orders"}
    assert others
    assert {name for name, value in down.json()["checks"].items() if value == "ok"} == others
    assert alive.status_code == 200
