"""Fixtures for the locks: the harness's Redlock instances, a namespace per test, Redlock clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from redis.asyncio import Redis

from folio.core.settings import Settings
from folio.locks.api import Redlock
from folio.locks.settings import LockSettings

MakeLocks = Callable[..., Redlock]
"""``make_locks(urls=None, **settings)``: a new Redlock (own clients) in the test's namespace."""


@pytest.fixture(scope="session")
def redlock_urls(settings: Settings, require_service: Callable[[str], None]) -> list[str]:
    """The three Redlock instances `folio services up` started (service ``redlock``)."""
    require_service("redlock")
    return settings.services.redlock.urls


@pytest.fixture
async def namespace(redlock_urls: list[str]) -> AsyncIterator[str]:
    """A key prefix of the test's own on every instance, its keys deleted afterwards."""
    value = f"test-{uuid.uuid4().hex[:10]}"
    yield value
    for url in redlock_urls:
        client = Redis.from_url(url)
        try:
            keys = [key async for key in client.scan_iter(match=f"{value}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@pytest.fixture
async def make_locks(settings: Settings, redlock_urls: list[str], namespace: str) -> AsyncIterator[MakeLocks]:
    """Builds Redlocks as separate processes would have them (own clients), closed afterwards."""
    made: list[Redlock] = []

    def make(urls: Sequence[str] | None = None, **overrides: object) -> Redlock:
        lock_settings: LockSettings = settings.locks.model_copy(update=overrides)
        locks = Redlock.from_urls(list(urls or redlock_urls), lock_settings, namespace=namespace)
        made.append(locks)
        return locks

    yield make
    for locks in made:
        await locks.aclose()
