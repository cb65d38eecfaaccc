"""Write-back durability, measured: a child process writes N keys, is SIGKILLed, and the origin is counted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from folio.core.settings import Settings

pytestmark = pytest.mark.integration

WRITES = 1050
BATCH = 100
REPO_ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
async def origin(
    settings: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[tuple[str, Redis]]:
    """A Redis hash of this test's own standing for the origin, and a client to count it."""
    require_service("redis")
    client = Redis.from_url(settings.services.redis.urls[0])
    key = f"test-{uuid.uuid4().hex[:8]}:write-back-origin"
    yield key, client
    await client.delete(key)
    await client.aclose()


def run_child(settings: Settings, origin_key: str, ending: str) -> int:
    """Run the writing child to its ``written`` line (then SIGKILL it, or let it close); its pending count."""
    argv = [sys.executable, "-m", "tests.support.cache", settings.services.redis.urls[0], origin_key]
    child = subprocess.Popen(
        [*argv, str(WRITES), str(BATCH), ending], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("written "), line
        if ending == "kill":
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    return int(line.split()[1])


async def test_sigkill_loses_the_writes_not_yet_flushed(
    settings: Settings, origin: tuple[str, Redis]
) -> None:
    """1050 writes in batches of 100, killed before the next flush: 1000 reached the origin, 50 are lost."""
    key, client = origin
    pending = run_child(settings, key, "kill")
    reached = await client.hlen(key)
    print(  # noqa: T201 - the figure the issue asks for, shown with -s
        f"\nwrite-back, SIGKILL after {WRITES} writes (batches of {BATCH}): "
        f"{reached} reached the origin, {WRITES - reached} lost"
    )
    assert (reached, pending) == (WRITES - WRITES % BATCH, WRITES % BATCH)


async def test_a_clean_shutdown_loses_nothing(settings: Settings, origin: tuple[str, Redis]) -> None:
    """The same writes, closed instead of killed: every one reaches the origin."""
    key, client = origin
    run_child(settings, key, "close")
    assert await client.hlen(key) == WRITES
