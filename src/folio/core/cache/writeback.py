"""Write-back: writes buffered in the process and handed to the origin in batches.

Why: some writes are frequent, cheap to lose and costly one by one (a "last used"
timestamp touched on every request). ``WriteBack`` keeps the latest value per key in
memory and flushes the batch when it reaches ``max_batch`` keys or every ``interval_s``,
whichever comes first, so the origin sees one batched write instead of one per call.

The trade-off, against ``Cache.write_through`` (origin first, then the cache, in the
caller's call): what is pending when the process is killed (SIGKILL, OOM, power) is
lost, up to ``max_batch - 1`` keys or ``interval_s`` of writes. ``aclose`` flushes, so a
clean shutdown loses nothing. Use it only where Folio accepts that loss: never orders,
money, or quota enforcement (docs/caching.md lists where it is used).

Failures: a failed flush keeps its writes pending (a newer write of a key wins) and the
interval flush retries them; size-bound flushes pause until one succeeds, so writers do
not each pay a failing origin call. Pending writes are bounded by the distinct keys
written while the origin fails, since each key holds one value.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Generic, TypeVar

import structlog

from folio.core.background import Periodic
from folio.core.cache import metrics

__all__ = ["WriteBack"]

log = structlog.get_logger("folio.cache")

V = TypeVar("V")


class WriteBack(Generic[V]):
    """The latest value per key, pending until ``flush`` hands the batch to the origin."""

    def __init__(
        self,
        name: str,
        flush: Callable[[Mapping[str, V]], Awaitable[None]],
        *,
        max_batch: int,
        interval_s: float,
    ) -> None:
        """``flush(batch)`` writes a batch to the origin (all or nothing); ``name`` labels the metrics.

        Nothing runs until the first ``write``; the owner calls ``aclose`` at shutdown.
        """
        if max_batch <= 0 or interval_s <= 0:
            raise ValueError("a write-back buffer needs a positive batch size and interval")
        self.name = name
        self.max_batch = max_batch
        self.interval_s = interval_s
        self._origin = flush
        self._pending: dict[str, V] = {}
        self._lock = asyncio.Lock()
        self._timer = Periodic(
            partial(self._flush_logged, "interval"), interval_s=interval_s, name=f"write-back {name}"
        )
        self._failing = False
        self._pending_gauge = metrics.WRITE_BACK_PENDING.labels(name)

    @property
    def pending(self) -> int:
        """How many keys have writes the origin has not seen."""
        return len(self._pending)

    async def write(self, key: str, value: V) -> None:
        """Record ``value`` as ``key``'s; it reaches the origin with the next flush.

        When ``max_batch`` keys are pending the caller awaits the flush (backpressure);
        a failure of that flush is logged, not raised: the writes stay pending.
        """
        self._pending[key] = value
        self._pending_gauge.set(len(self._pending))
        self._timer.start()  # at the first write: a buffer never written to runs no loop
        if len(self._pending) >= self.max_batch and not self._failing:
            await self._flush_logged("size")

    async def flush(self) -> int:
        """Hand every pending write to the origin now; how many were written.

        Flushes run one at a time, in order. If the origin raises, the batch stays
        pending (newer writes of its keys win) and the error propagates.
        """
        async with self._lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                await self._origin(batch)
            except BaseException:
                self._pending = {**batch, **self._pending}
                self._failing = True
                raise
            finally:
                self._pending_gauge.set(len(self._pending))
            self._failing = False
            metrics.WRITE_BACK_FLUSHED.labels(self.name).inc(len(batch))
            return len(batch)

    async def aclose(self) -> None:
        """Stop the interval flushes and flush what is pending (errors propagate: those writes are lost)."""
        await self._timer.stop()  # an interval flush in flight finishes first
        await self.flush()

    async def _flush_logged(self, why: str) -> None:
        try:
            await self.flush()
        # Broad on purpose: the origin is the caller's (SQL, Redis, HTTP); whatever it
        # raises, the writes stay pending and the next flush retries them.
        except Exception as error:  # noqa: BLE001
            log.warning(
                "write-back flush failed", buffer=self.name, why=why, pending=self.pending, error=repr(error)
            )
