"""Test doubles for ``folio.core.cache``: a clock that moves when told, origins that count or block."""

from __future__ import annotations

import asyncio


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
