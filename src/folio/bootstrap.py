"""The one place concrete adapters are chosen and wired from settings.

Entry points call ``build_platform`` in their lifespan (never at import time) and
close it at shutdown; tests build their own ``Platform`` to swap a part.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from folio.core.data_migrations import DataMigration
from folio.core.db import Database
from folio.core.objectstore import ObjectStore, object_store_for
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.search.api import SearchBackend, search_backend, search_enabled

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the dependency it checks is not usable; returns None when it is."""


@dataclass
class Platform:
    """The wired adapters a process uses, and the readiness checks they bring."""

    settings: Settings
    database: Database
    rate_limiter: RateLimiter
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    object_store: ObjectStore | None = None  # None: adapters build one from settings (object_store_for)
    search: SearchBackend | None = None  # None: no search engine (lite mode), or adapters open one per use

    async def aclose(self) -> None:
        """Release every connection the platform holds."""
        await self.database.dispose()
        await self.rate_limiter.aclose()
        if self.search is not None:
            await self.search.aclose()


def build_platform(settings: Settings) -> Platform:
    """Wire the adapters the settings choose; connects to nothing yet."""
    database = Database.from_urls(settings.database, settings.database_url, settings.database_replica_url)
    # The checks go through the engines' circuit breakers: while one is open the check
    # fails at once naming its state, and once half-open a probe is its trial call.
    readiness: dict[str, ReadinessCheck] = {"database": database.check_ready}
    if database.replica is not None:
        readiness["database-replica"] = lambda: database.check_ready(readonly=True)
    rate_limiter = RateLimiter(settings.cache_url)
    if settings.cache.backend == "redis" or settings.cache.url is not None:
        readiness["cache"] = rate_limiter.check
    search = search_backend(settings) if search_enabled(settings) else None
    return Platform(
        settings=settings,
        database=database,
        rate_limiter=rate_limiter,
        readiness=readiness,
        object_store=object_store_for(settings),  # connects to nothing until first used
        search=search,
    )


def data_migrations() -> list[DataMigration]:
    """Every context's per-tenant data migrations, in the order ``folio tenants migrate`` runs them.

    Contexts declare theirs as ``DATA_MIGRATIONS`` in their ``api`` module; a context
    whose migrations read another's data comes after it here. Imported here, not at the
    top: only ``folio tenants migrate`` needs them.
    """
    from folio.tasks.api import DATA_MIGRATIONS as TASKS_DATA_MIGRATIONS

    return [*TASKS_DATA_MIGRATIONS]
