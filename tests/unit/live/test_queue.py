"""A client's bounded queue: coalesce per series, drop with a resync, disconnect when too far behind."""

from __future__ import annotations

import asyncio

import pytest

from folio.live.api import ClientQueue, ClientTooSlowError, LiveMessage, Offered, QueuePolicy

pytestmark = pytest.mark.unit


def message(seq: int, series: str) -> LiveMessage:
    """A message of ``series`` with sequence number ``seq``."""
    return LiveMessage(seq=seq, series=series, text=f'{{"seq":{seq},"series":"{series}","value":{seq}}}')


def test_a_newer_value_replaces_the_waiting_one_of_its_series_and_keeps_sequence_order() -> None:
    """Coalescing: one message per series waits, the latest, and the queue stays in seq order."""
    queue = ClientQueue(QueuePolicy(capacity=8))
    assert queue.offer(message(1, "orders_placed")) is Offered.QUEUED
    assert queue.offer(message(2, "revenue")) is Offered.QUEUED
    assert queue.offer(message(3, "orders_placed")) is Offered.COALESCED
    taken = queue.take_nowait()
    assert [m.seq for m in taken.messages] == [2, 3]
    assert not taken.resync


def test_a_full_queue_drops_the_oldest_and_the_next_take_starts_with_a_snapshot() -> None:
    """Dropping: the queue never holds more than its capacity, and a drop asks for a resync."""
    queue = ClientQueue(QueuePolicy(capacity=3, max_drops=100))
    outcomes = [queue.offer(message(seq, f"stock_alert:{seq}")) for seq in range(1, 11)]
    assert outcomes.count(Offered.DROPPED) == 7
    assert len(queue) == 3
    taken = queue.take_nowait()
    assert [m.seq for m in taken.messages] == [8, 9, 10]
    assert taken.resync
    assert not queue.take_nowait().resync


def test_a_client_that_stays_too_far_behind_is_disconnected_and_its_memory_freed() -> None:
    """Disconnecting: past max_drops without a take the queue closes, empties and refuses more."""
    queue = ClientQueue(QueuePolicy(capacity=2, max_drops=5))
    outcomes = [queue.offer(message(seq, f"s{seq}")) for seq in range(1, 9)]
    assert outcomes[:2] == [Offered.QUEUED, Offered.QUEUED]
    assert outcomes[2:7] == [Offered.DROPPED] * 5
    assert outcomes[7] is Offered.DISCONNECTED
    assert queue.closed
    assert len(queue) == 0
    assert queue.offer(message(9, "s9")) is Offered.CLOSED
    with pytest.raises(ClientTooSlowError):
        queue.take_nowait()


def test_taking_resets_the_drop_count() -> None:
    """A client that keeps taking, however slowly, is never disconnected for drops between takes."""
    queue = ClientQueue(QueuePolicy(capacity=1, max_drops=2))
    seq = 0
    for _ in range(10):
        for _ in range(3):  # two drops per round: at the limit, not past it
            seq += 1
            queue.offer(message(seq, f"s{seq}"))
        assert not queue.closed
        queue.take_nowait()


async def test_take_waits_for_a_message_and_wakes_on_close() -> None:
    """``take`` blocks until something is offered; a queue closed meanwhile raises in the reader."""
    queue = ClientQueue(QueuePolicy())
    waiting = asyncio.create_task(queue.take())
    await asyncio.sleep(0)
    assert not waiting.done()
    queue.offer(message(1, "orders_paid"))
    assert [m.seq for m in (await waiting).messages] == [1]
    closed = asyncio.create_task(queue.take())
    await asyncio.sleep(0)
    queue.close()
    with pytest.raises(ClientTooSlowError):
        await closed
