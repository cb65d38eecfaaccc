"""The one place concrete adapters are chosen and wired from settings.

Every process (the gateway and the web app in it, the CLI, workers) calls
``build_platform`` once it runs (never at import time) and closes the ``Platform`` at
shutdown. Lite mode is decided here and nowhere else: it wires no search engine, and
the adapters that need one answer "not in lite mode" when its slot is empty. Tests
build their own platform to swap a part (``build_platform(settings, database=...)``).
"""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

from redis.asyncio import Redis

from folio.catalog.api import CATALOG_READS, READS_CACHE, CatalogReads
from folio.core.cache import CACHES, Caches
from folio.core.data_migrations import DataMigration
from folio.core.db import Database
from folio.core.objectstore import object_store_for
from folio.core.platform import Platform, ReadinessCheck
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.grpckit import ServiceCredentials
from folio.httpkit.principal import AUTHENTICATOR
from folio.identity.api import (
    API_KEYS,
    API_KEYS_CACHE,
    VerifiedApiKeys,
    VerifiedTokens,
    authenticate_credentials,
    last_used_buffer,
)
from folio.lake.api import LAKE, lake_for
from folio.locks.api import LOCKS, locks_for
from folio.messaging.api import BROKER, broker_for
from folio.orders.api import (
    ORDERS_CLIENT,
    PAYMENT_PROVIDER,
    PAYMENT_WEBHOOK_SECRETS,
    OrdersClient,
    StripePayments,
    WebhookSecretsOf,
    payment_events_url,
)
from folio.payments.api import orders_account, orders_webhook_secrets
from folio.search.api import FACETS_CACHE, SEARCH_BACKEND, FacetCache, search_backend, search_enabled
from folio.streaming.api import STREAMS, streams_for
from folio.tasks.api import PAGES_CACHE, TASK_PAGES, TASK_UNIT_OF_WORK, SqlAlchemyTaskUnitOfWork, TaskPages
from folio.usage.api import API_CALL_METER, LIMITS_CACHE, ApiCallMeter
from folio.users.api import USERS_CLIENT, UsersClient
from folio.webkit.session_store import SESSION_REDIS, session_redis, sessions_in_redis

__all__ = ["Platform", "ReadinessCheck", "build_platform", "data_migrations"]


def build_platform(
    settings: Settings, *, database: Database | None = None, rate_limiter: RateLimiter | None = None
) -> Platform:
    """Wire the adapters the settings choose; connects to nothing yet.

    A ``database`` or ``rate_limiter`` passed in is used instead of a new one and stays
    open when the platform closes: its owner (a test's shared fixture) closes it.
    """
    owned_database = database is None
    database = database or Database.from_urls(
        settings.database, settings.database_url, settings.database_replica_url
    )
    owned_limiter = rate_limiter is None
    rate_limiter = rate_limiter or RateLimiter(settings.cache_url)
    platform = Platform(
        settings=settings,
        database=database,
        rate_limiter=rate_limiter,
        object_store=object_store_for(settings),  # connects to nothing until first used
        readiness=_readiness(settings, database, rate_limiter),
    )
    if owned_database:
        platform.own(database.dispose)
    if owned_limiter:
        platform.own(rate_limiter.aclose)
    # The caches use the rate limiter's Redis server (a pool of their own); lite mode: L1 only.
    caches = Caches(
        settings.cache, redis=Redis.from_url(settings.cache_url) if _cache_in_redis(settings) else None
    )
    platform.provide(CACHES, caches, aclose=caches.aclose)
    # API keys' last uses are written back in batches (a few seconds lost if killed:
    # docs/caching.md); owned after the database, so closed (flushed) before it.
    last_used = last_used_buffer(database)
    platform.own(last_used.aclose)
    api_keys = VerifiedApiKeys(database, caches.named(API_KEYS_CACHE), last_used=last_used)
    platform.provide(API_KEYS, api_keys)
    platform.provide(
        AUTHENTICATOR,
        partial(
            authenticate_credentials,
            database,
            settings,
            tokens=VerifiedTokens(settings),
            api_keys=api_keys,
            last_used=last_used,
        ),
    )
    meter = ApiCallMeter(rate_limiter, settings, limits=caches.named(LIMITS_CACHE))
    platform.provide(API_CALL_METER, meter)
    platform.own(database.on_committed(meter.forget_changed_limits))
    catalog_reads = CatalogReads(caches.named(READS_CACHE))
    platform.provide(CATALOG_READS, catalog_reads)
    # The catalogue's outbox events of every unit this process commits drop the reads
    # they made stale at once (other processes hear of it through the cache's broadcast).
    platform.own(database.on_committed(catalog_reads.forget_changes))
    task_pages = TaskPages(caches.named(PAGES_CACHE))
    platform.provide(TASK_PAGES, task_pages)
    platform.provide(
        TASK_UNIT_OF_WORK, SqlAlchemyTaskUnitOfWork(database, settings, on_change=task_pages.forget_shop)
    )
    # The gRPC services' clients (docs/grpc.md): channels open on the first call, on its loop;
    # they dial the servers, or Envoy's listeners when grpc.mesh is "envoy".
    credentials = ServiceCredentials(settings.grpc, service=settings.service_name)
    timeout_s = settings.grpc.call_timeout_s
    users = UsersClient(settings.grpc.client_address("users"), credentials, default_timeout_s=timeout_s)
    platform.provide(USERS_CLIENT, users, aclose=users.aclose)
    orders = OrdersClient(settings.grpc.client_address("orders"), credentials, default_timeout_s=timeout_s)
    platform.provide(ORDERS_CLIENT, orders, aclose=orders.aclose)
    # The checkout saga pays through the official stripe library, on Folio's own test mode
    # (the gateway's /stripe): each shop's key and webhook endpoint come from payments.
    payments = StripePayments(
        api_base=f"{settings.gateway.url}/stripe", key_of=partial(_orders_payments_key, database, settings)
    )
    platform.provide(PAYMENT_PROVIDER, payments, aclose=payments.aclose)
    webhook_secrets: WebhookSecretsOf = partial(_orders_webhook_secrets, database, settings)
    platform.provide(PAYMENT_WEBHOOK_SECRETS, webhook_secrets)
    # Redlock on its own instances (services.redlock or locks.urls); lite mode: this process's locks.
    locks = locks_for(settings)
    platform.provide(LOCKS, locks, aclose=locks.aclose)
    # The data lake (Parquet on the object store, or a folder in lite mode): opens nothing until used.
    platform.provide(LAKE, lake_for(settings))
    if not settings.lite_mode:
        # RabbitMQ: the workers consume it, the relay publishes to it; it connects on first use.
        broker = broker_for(settings)
        platform.provide(BROKER, broker, aclose=broker.aclose)
        # The Kafka event pipeline's clients (docs/events.md): each stage opens its own when it runs.
        platform.provide(STREAMS, streams_for(settings))
    if search_enabled(settings):
        backend = search_backend(settings, facets=FacetCache(caches.named(FACETS_CACHE)))
        platform.provide(SEARCH_BACKEND, backend, aclose=backend.aclose)
    if sessions_in_redis(settings):
        # The web app's sessions: a sync client (Flask views run in threads), so its
        # blocking close runs in a thread too.
        sessions = session_redis(settings)
        platform.provide(SESSION_REDIS, sessions, aclose=partial(asyncio.to_thread, sessions.close))
    return platform


def _readiness(
    settings: Settings, database: Database, rate_limiter: RateLimiter
) -> dict[str, ReadinessCheck]:
    # The checks go through the engines' circuit breakers: while one is open the check
    # fails at once naming its state, and once half-open a probe is its trial call.
    readiness: dict[str, ReadinessCheck] = {"database": database.check_ready}
    if database.replica is not None:
        readiness["database-replica"] = lambda: database.check_ready(readonly=True)
    if _cache_in_redis(settings):
        readiness["cache"] = rate_limiter.check
    return readiness


def _cache_in_redis(settings: Settings) -> bool:
    return settings.cache.backend == "redis" or settings.cache.url is not None


def data_migrations() -> list[DataMigration]:
    """Every context's per-tenant data migrations, in the order ``folio tenants migrate`` runs them.

    Contexts declare theirs as ``DATA_MIGRATIONS`` in their ``api`` module; a context
    whose migrations read another's data comes after it here. Imported here, not at the
    top: only ``folio tenants migrate`` needs them.
    """
    from folio.tasks.api import DATA_MIGRATIONS as TASKS_DATA_MIGRATIONS

    return [*TASKS_DATA_MIGRATIONS]


async def _orders_payments_key(database: Database, settings: Settings, tenant_id: uuid.UUID) -> str:
    """The key the orders service uses on a shop's payments account, its webhook endpoint ensured."""
    webhook_url = payment_events_url(settings.gateway.url, tenant_id)
    return await orders_account(database, settings=settings, tenant_id=tenant_id, webhook_url=webhook_url)


async def _orders_webhook_secrets(database: Database, settings: Settings, tenant_id: uuid.UUID) -> list[str]:
    """The live secrets signing a shop's payment events to the orders' route."""
    webhook_url = payment_events_url(settings.gateway.url, tenant_id)
    return await orders_webhook_secrets(database, tenant_id=tenant_id, webhook_url=webhook_url)
