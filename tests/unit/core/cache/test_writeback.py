"""Write-back: batches by size and by interval, the last write per key, failed flushes kept and retried."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import pytest
from prometheus_client import REGISTRY

from folio.core.cache import WriteBack

pytestmark = pytest.mark.unit


class BatchOrigin:
    """A batch writer that records each batch, or raises ``error``."""

    def __init__(self) -> None:
        self.batches: list[dict[str, int]] = []
        self.error: Exception | None = None

    async def __call__(self, batch: Mapping[str, int]) -> None:
        """Record ``batch`` (or raise)."""
        if self.error is not None:
            raise self.error
        self.batches.append(dict(batch))


def buffer(origin: BatchOrigin, *, max_batch: int = 3, interval_s: float = 3600) -> WriteBack[int]:
    """A write-back buffer of this test's own (its own metric labels) on ``origin``."""
    return WriteBack(f"wb-{uuid.uuid4().hex[:8]}", origin, max_batch=max_batch, interval_s=interval_s)


async def test_the_size_bound_flushes_one_batch() -> None:
    """Nothing reaches the origin until ``max_batch`` keys are pending; then one batch of them."""
    origin = BatchOrigin()
    writes = buffer(origin)
    await writes.write("a", 1)
    await writes.write("b", 2)
    assert (origin.batches, writes.pending) == ([], 2)
    await writes.write("c", 3)
    assert (origin.batches, writes.pending) == ([{"a": 1, "b": 2, "c": 3}], 0)
    flushed = REGISTRY.get_sample_value("folio_cache_write_back_flushed_total", {"buffer": writes.name})
    assert flushed == 3
    await writes.aclose()


async def test_writes_of_one_key_coalesce_to_the_last() -> None:
    """A key written twice is one pending write, with the later value."""
    origin = BatchOrigin()
    writes = buffer(origin)
    await writes.write("a", 1)
    await writes.write("a", 2)
    assert writes.pending == 1
    assert await writes.flush() == 1
    assert origin.batches == [{"a": 2}]
    await writes.aclose()


async def test_the_interval_flushes_what_is_pending() -> None:
    """Below the size bound, the writes reach the origin within the interval."""
    origin = BatchOrigin()
    writes = buffer(origin, max_batch=100, interval_s=0.02)
    await writes.write("a", 1)
    await asyncio.sleep(0.1)
    assert origin.batches == [{"a": 1}]
    await writes.aclose()


async def test_a_failed_flush_keeps_the_writes_and_the_next_one_retries() -> None:
    """A failing origin loses nothing: writes stay pending (newer values win) until a flush succeeds."""
    origin = BatchOrigin()
    writes = buffer(origin, max_batch=2)
    origin.error = RuntimeError("origin down")
    await writes.write("a", 1)
    await writes.write("b", 1)  # the size flush fails, logged, not raised
    with pytest.raises(RuntimeError):
        await writes.flush()
    await writes.write("b", 2)
    await writes.write("c", 3)  # no size flush while failing: the writer does not pay for it
    assert (origin.batches, writes.pending) == ([], 3)
    origin.error = None
    await writes.aclose()
    assert origin.batches == [{"a": 1, "b": 2, "c": 3}]


async def test_aclose_flushes_what_is_pending() -> None:
    """A clean shutdown loses no write."""
    origin = BatchOrigin()
    writes = buffer(origin, max_batch=100)
    for key in "xyz":
        await writes.write(key, 0)
    await writes.aclose()
    assert origin.batches == [{"x": 0, "y": 0, "z": 0}]
