"""The locks' public surface, their settings, and which backend bootstrap wires."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

import folio.locks.api
from folio.bootstrap import build_platform
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings, load_settings
from folio.locks.api import LOCKS, LocalLocks, Redlock, locks_are_local, locks_for
from folio.locks.backends import lock_namespace

pytestmark = pytest.mark.unit


def test_public_surface() -> None:
    """folio.locks.api exports exactly what contexts, bootstrap and entry points may use."""
    assert sorted(folio.locks.api.__all__) == [
        "FencingError",
        "HeldLease",
        "InvalidLockRequestError",
        "LOCKS",
        "Lease",
        "LeaseCache",
        "LeaseLostError",
        "LocalLocks",
        "LockNotAcquiredError",
        "Locks",
        "LocksUnavailableError",
        "Redlock",
        "fence",
        "hold",
        "locks_are_local",
        "locks_for",
    ]


def test_redlock_defaults_to_the_harness_instances(clean_env: Path) -> None:
    """With no locks.urls, Redlock uses services.redlock: three instances on 21427-21429."""
    settings = Settings()

    assert settings.lock_urls == [f"redis://127.0.0.1:{port}/0" for port in (21427, 21428, 21429)]


def test_lock_urls_from_the_environment_point_at_other_servers(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FOLIO_LOCKS_URLS (a JSON list) replaces the harness's instances: configuration only."""
    urls = ["redis://a.internal:6379/0", "redis://b.internal:6379/0", "redis://c.internal:6379/0"]
    monkeypatch.setenv("FOLIO_LOCKS_URLS", '["' + '", "'.join(urls) + '"]')
    monkeypatch.setenv("FOLIO_LOCKS_BACKEND", "redlock")

    settings = load_settings(platform_file=None)
    locks = locks_for(settings)

    assert settings.lock_urls == urls
    assert isinstance(locks, Redlock)
    assert [client.connection_pool.connection_kwargs["host"] for client in locks.instances] == [
        "a.internal",
        "b.internal",
        "c.internal",
    ]
    assert locks.quorum == 2


@pytest.mark.parametrize(
    ("backend", "database", "local"),
    [
        ("auto", "sqlite", True),
        ("auto", "postgres", False),
        ("local", "postgres", True),
        ("redlock", "sqlite", False),
    ],
)
def test_auto_means_local_locks_in_lite_mode_only(
    clean_env: Path, backend: str, database: str, local: bool
) -> None:
    """Backend auto: this process's locks on SQLite (lite mode), Redlock otherwise; explicit backends win."""
    base = Settings()
    settings = base.model_copy(
        update={
            "locks": base.locks.model_copy(update={"backend": backend, "urls": [SecretStr("redis://x:1/0")]}),
            "database": base.database.model_copy(update={"backend": database}),
        }
    )

    assert locks_are_local(settings) is local
    assert isinstance(locks_for(settings), LocalLocks if local else Redlock)


async def test_lite_mode_platform_has_local_locks(clean_env: Path) -> None:
    """`folio up --lite` settings (SQLite, memory cache) get LocalLocks in the platform's LOCKS slot."""
    base = Settings()
    settings = base.model_copy(update={"cache": base.cache.model_copy(update={"backend": "memory"})})
    platform = build_platform(settings, rate_limiter=RateLimiter("memory://"))
    try:
        locks = platform.get(LOCKS)
        lease = await locks.acquire("orders:expirer", ttl_s=5)
        assert isinstance(locks, LocalLocks)
        assert lease.fencing_token > 0
    finally:
        await platform.aclose()


def _on_database(base: Settings, url: str, namespace: str = "") -> Settings:
    return base.model_copy(
        update={
            "database": base.database.model_copy(update={"url": SecretStr(url)}),
            "locks": base.locks.model_copy(update={"namespace": namespace}),
        }
    )


def test_each_database_has_its_own_lock_namespace(clean_env: Path) -> None:
    """Installations sharing Redis hold distinct locks; a new password keeps an installation's keys."""
    base = Settings()
    shop_a = _on_database(base, "postgresql+asyncpg://folio:one@db.internal:5432/shop_a")
    shop_a_rotated = _on_database(base, "postgresql+asyncpg://folio:two@db.internal:5432/shop_a")
    shop_b = _on_database(base, "postgresql+asyncpg://folio:one@db.internal:5432/shop_b")

    assert lock_namespace(shop_a) == lock_namespace(shop_a_rotated)
    assert lock_namespace(shop_a) != lock_namespace(shop_b)
    assert lock_namespace(shop_a).startswith("folio:")


def test_an_explicit_lock_namespace_wins(clean_env: Path) -> None:
    """locks.namespace, when set, is the prefix whatever the database."""
    settings = _on_database(Settings(), "postgresql+asyncpg://folio@db.internal/shop", namespace="eu-shops")

    assert lock_namespace(settings) == "eu-shops"
