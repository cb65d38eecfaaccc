"""Test doubles for ``folio.core.cache``: a clock that moves when told, origins that count or block.

Run as ``python -m tests.support.cache URL HASH WRITES BATCH kill|close`` it is the child
process of the write-back durability test (``write_back_child``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping


class FakeClock:
    """Wall-clock seconds that move only when a test sets ``now``."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


class Origin:
    """A cache loader that counts its calls and answers ``value`` after ``delay_s``, or raises ``error``."""

    def __init__(self, value: bytes = b"v1", *, delay_s: float = 0.0) -> None:
        self.value = value
        self.delay_s = delay_s
        self.error: Exception | None = None
        self.calls = 0

    async def __call__(self) -> bytes:
        """Count the call, wait ``delay_s``, then answer or raise."""
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.value


class BlockingOrigin:
    """A loader that reads ``value`` at once, then waits for ``release`` before answering it.

    It lets a test run an invalidation while a load is between reading the origin and
    filling the cache: ``read`` is set once the value was read.
    """

    def __init__(self, value: bytes) -> None:
        self.value = value
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self) -> bytes:
        """Read the value, signal ``read``, wait for ``release``, answer what was read."""
        value = self.value
        self.read.set()
        await self.release.wait()
        return value


async def write_back_child(
    redis_url: str, origin_hash: str, writes: int, max_batch: int, ending: str
) -> None:
    """A process that writes ``writes`` keys through a ``WriteBack`` whose origin is a Redis hash.

    Prints ``written <pending>`` once every write returned. ``ending`` ``"kill"``: then
    waits forever (the test SIGKILLs it); ``"close"``: closes the buffer and exits.
    """
    from redis.asyncio import Redis

    from folio.core.cache import WriteBack

    client = Redis.from_url(redis_url)

    async def flush(batch: Mapping[str, bytes]) -> None:
        await client.hset(origin_hash, items=[part for pair in batch.items() for part in pair])

    buffer: WriteBack[bytes] = WriteBack("child", flush, max_batch=max_batch, interval_s=3600)
    for index in range(writes):
        await buffer.write(f"key:{index}", b"used")
    print(f"written {buffer.pending}", flush=True)  # noqa: T201 - the parent reads it
    if ending == "kill":
        await asyncio.Event().wait()
    await buffer.aclose()
    await client.aclose()


if __name__ == "__main__":
    url, hash_key, count, batch, end = sys.argv[1:]
    asyncio.run(write_back_child(url, hash_key, int(count), int(batch), end))
