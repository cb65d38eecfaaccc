"""Redis round trips with redis.asyncio: values and expiry, under a unique key prefix per test."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from folio.core.settings import Settings
from folio.ops.manager import ServiceManager

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(settings: Settings, require_service: Callable[[str], None]) -> AsyncIterator[Redis]:
    """A client of the first Redis instance, decoding replies to str."""
    require_service("redis")
    client = Redis.from_url(settings.services.redis.urls[0], decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    value = f"test:{uuid.uuid4().hex[:12]}:"
    try:
        yield value
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{value}*")]
        if keys:
            await redis.delete(*keys)


async def test_value_set_is_read_back(redis: Redis, prefix: str) -> None:
    """SET then GET returns the value; a key never set reads as None."""
    assert await redis.set(f"{prefix}title", "Villette") is True
    assert await redis.get(f"{prefix}title") == "Villette"
    assert await redis.get(f"{prefix}missing") is None


async def test_counter_increments_atomically(redis: Redis, prefix: str) -> None:
    """Concurrent INCRs on one key all count."""
    await asyncio.gather(*(redis.incr(f"{prefix}views") for _ in range(50)))
    assert await redis.get(f"{prefix}views") == "50"


async def test_key_with_expiry_disappears(redis: Redis, prefix: str) -> None:
    """A key set with a 300 ms expiry has a TTL, then is gone once it elapses."""
    await redis.set(f"{prefix}session", "s-1", px=300)
    assert 0 < await redis.pttl(f"{prefix}session") <= 300
    for _ in range(100):  # at most ~5 s
        if not await redis.exists(f"{prefix}session"):
            break
        await asyncio.sleep(0.05)
    assert await redis.get(f"{prefix}session") is None


def _three_free_consecutive_ports() -> int:
    """The first of three consecutive free loopback ports."""
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base: int = probe.getsockname()[1]
        if base + 2 > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + 3):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    pytest.fail("no three consecutive free ports")


async def test_three_independent_instances_for_redlock(settings: Settings) -> None:
    """instances=3 starts three servers on consecutive ports that share no data, and stops them."""
    base = _three_free_consecutive_ports()
    redis_settings = settings.services.redis.model_copy(update={"port": base, "instances": 3})
    # Beside the shared servers' data, never in the checkout or a pytest temporary folder.
    root = settings.services.data_dir.absolute() / f"test-redlock-{uuid.uuid4().hex[:8]}"
    services = settings.services.model_copy(update={"data_dir": root, "redis": redis_settings})
    isolated = settings.model_copy(update={"services": services})
    manager = ServiceManager(isolated)
    started = await asyncio.to_thread(manager.up, ["redis"])
    try:
        assert [spec.name for spec in started] == [f"redis.instance-{i}" for i in range(3)]
        clients = [Redis.from_url(url, decode_responses=True) for url in redis_settings.urls]
        try:
            await clients[0].set("lock:order-1", "owner-a")
            assert await clients[0].get("lock:order-1") == "owner-a"
            assert await clients[1].get("lock:order-1") is None
            assert await clients[2].get("lock:order-1") is None
        finally:
            for client in clients:
                await client.aclose()
    finally:
        stopped = await asyncio.to_thread(manager.down, ["redis"])
    assert sorted(stopped) == [f"redis.instance-{i}" for i in range(3)]
    shutil.rmtree(root)
