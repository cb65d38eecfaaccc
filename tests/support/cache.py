"""Test doubles for ``folio.core.cache``: a clock that moves when told, an origin that counts its calls."""

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
