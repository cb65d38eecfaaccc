"""The live state on the real Redis: sequence numbers, counting once, resume, snapshots, the fan-out."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncGenerator, Callable

import pytest
from redis.asyncio import Redis

from folio.live.api import (
    ClientTooSlowError,
    Frame,
    LiveHub,
    LiveStore,
    QueuePolicy,
    ResumePlan,
    Update,
    live_channel,
)

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


async def placed(store: LiveStore, tenant_id: uuid.UUID, count: int) -> None:
    """``count`` distinct OrderPlaced events of ``tenant_id`` (one ``orders_placed`` update each)."""
    for _ in range(count):
        await store.record(
            tenant_id, event_id=uuid.uuid4().hex, at=AT, updates=[Update("orders_placed", "count", amount=1)]
        )


async def test_an_event_counts_once_and_sequence_numbers_follow_each_other(
    store: LiveStore, shops: Callable[[], uuid.UUID]
) -> None:
    """Each update takes the shop's next seq; the same event id again changes nothing; shops count apart."""
    shop, other = shops(), shops()
    paid = [Update("orders_paid", "count", amount=1), Update("revenue", "sum", field="EUR", amount=1490)]
    first = await store.record(shop, event_id="outbox-1", at=AT, updates=paid)
    assert first is not None
    assert [(m.seq, m.series) for m in first] == [(1, "orders_paid"), (2, "revenue")]
    revenue = {"seq": 2, "series": "revenue", "value": {"EUR": 1490}, "at": "2026-12-04T12:00:00Z"}
    assert json.loads(first[1].text) == revenue
    assert await store.record(shop, event_id="outbox-1", at=AT, updates=paid) is None
    in_sek = [paid[0], Update("revenue", "sum", field="SEK", amount=300)]
    more = await store.record(shop, event_id="outbox-2", at=AT, updates=in_sek)
    assert more is not None
    assert [json.loads(m.text)["value"] for m in more] == [2, {"EUR": 1490, "SEK": 300}]
    assert [m.seq for m in await store.record(other, event_id="outbox-1", at=AT, updates=paid) or []] == [
        1,
        2,
    ]


async def test_a_client_resumes_with_exactly_what_it_missed_or_a_snapshot_when_too_far_behind(
    redis: Redis, shops: Callable[[], uuid.UUID]
) -> None:
    """Replay from the history while it reaches back; past its length, every series' latest value."""
    store = LiveStore(redis, history_length=5)
    shop = shops()
    await placed(store, shop, 3)
    await store.record(
        shop, event_id="carts", at=AT, updates=[Update("active_carts", "cart_open", field="c1")]
    )
    await placed(store, shop, 2)  # seqs 1-3 placed, 4 carts, 5-6 placed
    replay = await store.backlog(shop, 4)
    assert (replay.plan, replay.seq, [m.seq for m in replay.messages]) == (ResumePlan.REPLAY, 6, [5, 6])
    assert (await store.backlog(shop, 6)).plan is ResumePlan.NOTHING
    assert [m.seq for m in (await store.backlog(shop, 1)).messages] == [2, 3, 4, 5, 6]  # 2 is the oldest kept
    snapshot = await store.backlog(shop, 0)  # 1 was trimmed
    assert snapshot.plan is ResumePlan.SNAPSHOT
    assert [(m.seq, m.series) for m in snapshot.messages] == [(4, "active_carts"), (6, "orders_placed")]
    assert json.loads(snapshot.messages[1].text)["value"] == 5


async def test_a_cart_event_read_after_its_customers_order_opens_nothing(
    store: LiveStore, shops: Callable[[], uuid.UUID]
) -> None:
    """An order closes the cart; an older cart event read late does not reopen it, a newer one does."""
    shop = shops()

    async def carts(operation: str, at: dt.datetime) -> object:
        update = Update("active_carts", operation, field="customer-1")  # type: ignore[arg-type]
        recorded = await store.record(shop, event_id=uuid.uuid4().hex, at=at, updates=[update])
        assert recorded is not None
        return json.loads(recorded[0].text)["value"]

    assert await carts("cart_open", AT) == 1
    assert await carts("cart_close", AT + dt.timedelta(seconds=60)) == 0
    assert await carts("cart_open", AT + dt.timedelta(seconds=30)) == 0  # older than the order
    assert await carts("cart_open", AT + dt.timedelta(seconds=90)) == 1  # a new cart


async def _collect(frames: asyncio.Queue[Frame], stream: AsyncGenerator[Frame, None]) -> None:
    async for frame in stream:
        await frames.put(frame)


async def test_a_slow_client_never_delays_a_fast_one_and_is_disconnected_with_bounded_memory(
    redis: Redis, store: LiveStore, shops: Callable[[], uuid.UUID]
) -> None:
    """Through the real pub/sub: the fast client gets all 40 in order, the stalled one is bounded and cut off.

    The stalled client never holds more than its capacity and is disconnected once it
    dropped more than ``max_drops``; counted in queued messages, never in time.
    """
    shop = shops()
    policy = QueuePolicy(capacity=16, max_drops=10)  # the stalled client is cut off at its 27th
    hub = LiveHub(redis, store=store, policy=policy)
    async with hub.running():
        await hub.subscribed.wait()
        fast_frames: asyncio.Queue[Frame] = asyncio.Queue()
        fast = asyncio.create_task(_collect(fast_frames, hub.stream(shop, None)))
        slow = hub.stream(shop, None)
        assert (await anext(slow)).kind == "snapshot"  # then it stops reading
        assert (await asyncio.wait_for(fast_frames.get(), 5)).kind == "snapshot"  # both registered
        lengths = []
        for seq in range(1, 41):
            await store.record(
                shop,
                event_id=f"e{seq}",
                at=AT,
                updates=[Update(f"stock_alert:{seq}", "json", value={"n": seq})],
            )
            lengths.append(max(hub.queue_lengths(shop)))
        received = [await asyncio.wait_for(fast_frames.get(), 5) for _ in range(40)]
        assert [frame.seq for frame in received] == list(range(1, 41))
        assert max(lengths) <= policy.capacity
        assert hub.metrics.registry.get_sample_value("folio_live_disconnected_slow_total") == 1
        with pytest.raises(ClientTooSlowError):
            await anext(slow)
        assert hub.clients_of(shop) == 1
        fast.cancel()


async def test_messages_reach_only_their_shops_clients(
    redis: Redis, store: LiveStore, shops: Callable[[], uuid.UUID]
) -> None:
    """A message on one shop's channel reaches that shop's clients only; a bad message is ignored."""
    shop, other = shops(), shops()
    hub = LiveHub(redis, store=store)
    async with hub.running():
        await hub.subscribed.wait()
        mine, theirs = hub.stream(shop, 0), hub.stream(other, 0)
        await placed(store, shop, 1)
        await redis.publish(live_channel(other), "not json")
        frame = await asyncio.wait_for(anext(mine), 5)
        assert (frame.kind, frame.seq) == ("update", 1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(theirs), 0.3)
        await mine.aclose()
