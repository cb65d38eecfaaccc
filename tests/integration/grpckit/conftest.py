"""The users and orders gRPC servers, in-process on ephemeral ports, over the suite's PostgreSQL.

``grpc_pair`` starts both servers the way ``python -m folio.entrypoints.grpc`` assembles
them (Folio's interceptor, health, reflection), the orders one authorising through a
real users client, and hands the test clients that call as the gateway would.

``grpc_pair`` leaves payments out (``start_pair(payments=False)``): the orders server
would open each new order's payment on the gateway's ``/stripe`` at ``gateway.url``,
which the pair's tests do not run, and the ``stripe`` library's retries of the refused
connection cost about a second per order placed. A test that means payments serves the
gateway there (``tests.integration.orders.conftest.rig``) and keeps them. Shops
and listings come from the orders tests' helpers; ``pg_database`` is the primary only,
as there (a read right after a write must not race the replica).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import grpc
import pytest
from prometheus_client import CollectorRegistry

from folio.bootstrap import Platform, build_platform
from folio.core.db import Database, open_database
from folio.core.settings import Settings
from folio.core.settings.grpc import GrpcServiceSettings
from folio.entrypoints.grpc import orders_server, users_server
from folio.grpckit import GrpcMetrics, GrpcServer, ServiceCredentials
from folio.orders.api import OrdersClient
from folio.users.api import UsersClient


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL primary, as the application role (RLS applies)."""
    async with open_database(migrated_postgres.database, migrated_postgres.database_url) as database:
        yield database


def with_targets(settings: Settings, *, users: str | None = None, orders: str | None = None) -> Settings:
    """``settings`` whose clients dial ``users`` and ``orders`` (``host:port``)."""
    grpc_settings = settings.grpc
    update: dict[str, GrpcServiceSettings] = {}
    if users is not None:
        update["users"] = grpc_settings.users.model_copy(update={"target": users})
    if orders is not None:
        update["orders"] = grpc_settings.orders.model_copy(update={"target": orders})
    return settings.model_copy(update={"grpc": grpc_settings.model_copy(update=update)})


@dataclass
class Pair:
    """Both services running, and clients that call them as the gateway does."""

    settings: Settings
    db: Database
    users_port: int
    orders_port: int
    orders: OrdersClient
    users: UsersClient
    metrics: GrpcMetrics
    """The servers' metrics (a registry of the test's own)."""
    orders_server: GrpcServer
    platform: Platform
    """The orders server's platform (its users client)."""

    @property
    def orders_target(self) -> str:
        """``host:port`` of the orders server."""
        return f"127.0.0.1:{self.orders_port}"

    def credentials(self, service: str = "gateway") -> ServiceCredentials:
        """Credentials signing as ``service``."""
        return ServiceCredentials(self.settings.grpc, service=service)


def without_redis(settings: Settings) -> Settings:
    """``settings`` whose counters and caches live in the process: the gRPC services need no Redis."""
    return settings.model_copy(update={"cache": settings.cache.model_copy(update={"backend": "memory"})})


async def start_pair(
    settings: Settings,
    db: Database,
    *,
    orders_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    payments: bool = True,
) -> tuple[Pair, list[object]]:
    """Start users then orders (the latter's users client dialling the former); what to stop after.

    ``payments``: the orders server opens each new order's payment through the platform's
    provider (the gateway's ``/stripe`` at ``gateway.url``, which the test serves); False:
    orders are placed unpaid and no payments app is dialled (see the module docstring).
    """
    metrics = GrpcMetrics(CollectorRegistry())
    settings = without_redis(settings)
    users_platform = build_platform(settings, database=db)
    users = users_server(users_platform, metrics=metrics)
    users_port = await users.start("127.0.0.1:0")
    wired = with_targets(settings, users=f"127.0.0.1:{users_port}")
    orders_platform = build_platform(wired, database=db)
    orders = orders_server(
        orders_platform, metrics=metrics, extra_interceptors=orders_interceptors, payments=payments
    )
    orders_port = await orders.start("127.0.0.1:0")
    wired = with_targets(wired, orders=f"127.0.0.1:{orders_port}")
    credentials = ServiceCredentials(wired.grpc, service="gateway")
    client_metrics = GrpcMetrics(CollectorRegistry())
    pair = Pair(
        settings=wired,
        db=db,
        users_port=users_port,
        orders_port=orders_port,
        orders=OrdersClient(
            wired.grpc.orders.address, credentials, default_timeout_s=5, metrics=client_metrics
        ),
        users=UsersClient(wired.grpc.users.address, credentials, default_timeout_s=5, metrics=client_metrics),
        metrics=metrics,
        orders_server=orders,
        platform=orders_platform,
    )
    return pair, [pair.orders, pair.users, orders, users, orders_platform, users_platform]


async def stop_all(parts: list[object]) -> None:
    """Close clients, stop servers, close platforms, in the order given."""
    for part in parts:
        if isinstance(part, GrpcServer):
            await part.stop(0)
        else:
            await part.aclose()  # type: ignore[attr-defined]  # clients and platforms


@pytest.fixture
async def grpc_pair(migrated_postgres: Settings, pg_database: Database) -> AsyncIterator[Pair]:
    """Users and orders in-process over PostgreSQL, payments left out; clients calling as the gateway."""
    pair, parts = await start_pair(migrated_postgres, pg_database, payments=False)
    try:
        yield pair
    finally:
        await stop_all(parts)
