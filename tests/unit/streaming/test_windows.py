"""Tumbling event-time windows: known totals under shuffling, lateness, duplicates, partitions, restarts."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import random
import uuid

import pytest

from folio.streaming.consumer import commit_offsets
from folio.streaming.windows import LateEvent, PaidOrder, TumblingWindows, WindowKey, WindowResult

pytestmark = pytest.mark.unit

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
"""A window boundary: windows of a minute start at T0, T0 + 60 s, ..."""
NOW = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)
"""Processing time, fixed unless a test moves it (idleness)."""
SHOP, OTHER_SHOP = uuid.UUID(int=1), uuid.UUID(int=2)
TOPIC = "test.orders.facts"
MINUTE = dt.timedelta(minutes=1)


def operator(
    *,
    out_of_orderness_s: float = 5,
    lateness_s: float = 60,
    watermark: dt.datetime | None = None,
    revisions: dict[WindowKey, int] | None = None,
) -> TumblingWindows:
    """One-minute windows with the given bound and lateness, a 30 s idle timeout; restored if told."""
    return TumblingWindows(
        size=MINUTE,
        out_of_orderness=dt.timedelta(seconds=out_of_orderness_s),
        allowed_lateness=dt.timedelta(seconds=lateness_s),
        idle_timeout=dt.timedelta(seconds=30),
        watermark=watermark,
        revisions=revisions,
    )


def paid(
    at_s: float,
    revenue: int = 100,
    *,
    shop: uuid.UUID = SHOP,
    currency: str = "EUR",
    partition: int = 0,
    event_id: str | None = None,
) -> PaidOrder:
    """A paid order at ``T0 + at_s`` (its offset is set when a ``Feed`` delivers it)."""
    return PaidOrder(
        event_id=event_id or uuid.uuid4().hex,
        shop=shop,
        currency=currency,
        revenue_minor=revenue,
        occurred_at=T0 + dt.timedelta(seconds=at_s),
        source=(TOPIC, partition),
        offset=-1,
    )


@dataclasses.dataclass
class Feed:
    """Delivers orders one at a time, in order, each partition's offsets counting up; keeps what came out."""

    windows: TumblingWindows
    results: list[WindowResult] = dataclasses.field(default_factory=list)
    late: list[LateEvent] = dataclasses.field(default_factory=list)
    offsets: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)

    def __call__(self, *orders: PaidOrder, now: dt.datetime = NOW) -> list[WindowResult]:
        """Add each order and drain after each; the emissions of this call."""
        emitted: list[WindowResult] = []
        for order in orders:
            partition = order.source[1]
            delivered = dataclasses.replace(order, offset=self.offsets[partition])
            self.offsets[partition] += 1
            late = self.windows.add(delivered, now)
            if late is not None:
                self.late.append(late)
            emitted += self.windows.drain()
        self.results += emitted
        return emitted

    def latest(self) -> dict[WindowKey, WindowResult]:
        """Each window's last emission."""
        return {result.key: result for result in self.results}


def totals(results: dict[WindowKey, WindowResult]) -> dict[tuple[uuid.UUID, str, int], tuple[int, int]]:
    """``(shop, currency, minute index) -> (revenue, orders)`` of the given emissions."""
    return {
        (key.shop, key.currency, (key.start - T0) // MINUTE): (result.revenue_minor, result.orders)
        for key, result in results.items()
    }


def test_events_shuffled_within_the_bound_give_exactly_the_known_totals() -> None:
    """Out of order by less than the bound: every window fires once, final, with its exact totals."""
    feed = Feed(operator(out_of_orderness_s=5, lateness_s=0))
    feed(paid(1, 100), paid(58, 200), paid(55, 300), paid(62, 400), paid(59, 500), paid(61, 600))
    feed(paid(66, 700), paid(119, 800), paid(121, 900), paid(117, 1000), paid(200, 1))  # 200 s closes both
    assert totals(feed.latest()) == {
        (SHOP, "EUR", 0): (100 + 200 + 300 + 500, 4),
        (SHOP, "EUR", 1): (400 + 600 + 700 + 800 + 1000, 5),
        (SHOP, "EUR", 2): (900, 1),
    }
    assert [(r.revision, r.final) for r in feed.results] == [(1, True), (1, True), (1, True)]
    assert feed.late == []


def test_a_window_fires_when_the_watermark_passes_its_end_not_before() -> None:
    """Watermark = latest event time - bound: an event at 64 s leaves minute 0 open, one at 65 s fires it."""
    feed = Feed(operator(out_of_orderness_s=5, lateness_s=30))
    assert feed(paid(10), paid(64)) == []
    [fired] = feed(paid(65))
    assert (fired.key.start, fired.end, fired.revision, fired.update, fired.final) == (
        T0,
        T0 + MINUTE,
        1,
        False,
        False,
    )
    assert fired.watermark == T0 + MINUTE


def test_a_late_event_within_allowed_lateness_updates_the_window_with_revision_plus_one() -> None:
    """Fired at 100 + 300; a late 50 arrives within the lateness: revision 2 says 450 and 3 orders."""
    feed = Feed(operator(out_of_orderness_s=0, lateness_s=60))
    feed(paid(5, 100), paid(30, 300))
    [fired] = feed(paid(70, 7))
    assert (fired.revenue_minor, fired.orders, fired.revision, fired.final) == (400, 2, 1, False)
    [update] = feed(paid(59, 50))
    assert (update.revenue_minor, update.orders, update.revision, update.update, update.final) == (
        450,
        3,
        2,
        True,
        False,
    )
    [final] = [r for r in feed(paid(120 + 1)) if r.key.start == T0]  # watermark at end + lateness
    assert (final.revenue_minor, final.orders, final.revision, final.final) == (450, 3, 3, True)


def test_events_beyond_the_lateness_go_to_the_side_output_and_never_change_a_final_window() -> None:
    """After end + lateness the window is final; a later event is set aside with how late it was."""
    feed = Feed(operator(out_of_orderness_s=0, lateness_s=10))
    feed(paid(5, 100), paid(80, 1))
    [final] = [r for r in feed.results if r.key.start == T0 and r.final]
    emitted_before = len(feed.results)
    assert feed(paid(59, 999, event_id="too-late")) == []
    [late] = feed.late
    assert late.event.event_id == "too-late"
    assert (late.window_start, late.window_end, late.watermark) == (
        T0,
        T0 + MINUTE,
        T0 + dt.timedelta(seconds=80),
    )
    assert late.behind_watermark == dt.timedelta(seconds=21)
    assert "closed" in late.reason
    assert "10 s" in late.reason
    feed(paid(200, 1))  # more windows fire; the first stays as it was
    assert all(r.key.start != T0 for r in feed.results[emitted_before:])
    assert (final.revenue_minor, final.orders) == (100, 1)


def test_duplicate_deliveries_count_once() -> None:
    """The same event id twice (at-least-once delivery), before and after the window fired: one order."""
    feed = Feed(operator(out_of_orderness_s=0, lateness_s=60))
    once = paid(10, 100, event_id="outbox-1")
    feed(once, once, paid(20, 5))
    feed(paid(61, 1))
    assert feed(once) == []  # a redelivery after firing changes nothing, so emits nothing
    feed(paid(500, 1))
    assert totals(feed.latest())[(SHOP, "EUR", 0)] == (105, 2)


def test_currencies_and_shops_are_kept_apart() -> None:
    """One minute, two currencies and two shops: four windows, never summed across."""
    feed = Feed(operator(out_of_orderness_s=0, lateness_s=0))
    feed(
        paid(1, 100, currency="EUR"),
        paid(2, 2000, currency="JPY"),
        paid(3, 30, currency="EUR"),
        paid(4, 7, shop=OTHER_SHOP, currency="EUR"),
        paid(300, 1),
    )
    assert {k: v for k, v in totals(feed.latest()).items() if k[2] == 0} == {
        (SHOP, "EUR", 0): (130, 2),
        (SHOP, "JPY", 0): (2000, 1),
        (OTHER_SHOP, "EUR", 0): (7, 1),
    }


def test_the_watermark_is_the_minimum_over_the_partitions() -> None:
    """Partition 1 lags at 20 s: partition 0 at 300 s fires nothing until partition 1 passes the minute."""
    windows = operator(out_of_orderness_s=0, lateness_s=0)
    feed = Feed(windows)
    feed(paid(10, 1, partition=0), paid(20, 2, partition=1), paid(300, 3, partition=0))
    assert windows.watermark == T0 + dt.timedelta(seconds=20)
    assert feed.results == []
    feed(paid(45, 4, partition=1))  # within the minute still: counted, not late
    [fired] = feed(paid(61, 5, partition=1))
    assert (fired.key.start, fired.revenue_minor, fired.orders) == (T0, 1 + 2 + 4, 3)
    assert windows.watermark == T0 + dt.timedelta(seconds=61)


def test_a_silent_partition_holds_the_watermark_until_it_is_idle() -> None:
    """Assigned but silent: nothing fires; after the idle timeout it no longer holds anything back."""
    windows = operator(out_of_orderness_s=0, lateness_s=0)
    windows.track([(TOPIC, 0), (TOPIC, 1)], NOW)
    feed = Feed(windows)
    feed(paid(10, 1), paid(200, 2))
    assert windows.watermark is None
    assert feed.results == []
    later = NOW + dt.timedelta(seconds=31)
    [fired] = [r for r in feed(paid(201, 3), now=later) if r.key.start == T0]
    assert windows.watermark == T0 + dt.timedelta(seconds=201)
    assert (fired.revenue_minor, fired.final) == (1, True)


def test_safe_offsets_stop_at_the_first_record_of_an_open_window() -> None:
    """Offsets 0..2 of partition 0 sit in the open first minute; once it is final everything read is safe."""
    windows = operator(out_of_orderness_s=0, lateness_s=30)
    feed = Feed(windows)
    feed(paid(10, partition=0), paid(70, partition=1), paid(20, partition=0), paid(30, partition=0))
    assert windows.safe_offsets() == {(TOPIC, 0): 0, (TOPIC, 1): 0}
    feed(paid(95, partition=0), paid(95, partition=1))  # minute 0 final; minute 1 (offset 0 of p1) open
    assert windows.safe_offsets() == {(TOPIC, 0): 3, (TOPIC, 1): 0}
    feed(paid(200, partition=0), paid(200, partition=1))
    assert windows.safe_offsets() == {(TOPIC, 0): 4, (TOPIC, 1): 2}


def test_the_consumer_commits_no_further_than_the_safe_offset() -> None:
    """One past the batch's last record, lowered to the safe offset; a quiet partition only while assigned."""
    last = {("t", 0): 9, ("t", 1): 4, ("t", 2): 7}
    safe = {("t", 0): 3, ("t", 1): 8, ("t", 3): 6, ("t", 4): 2}
    assert commit_offsets(last, safe, {("t", 3)}) == {("t", 0): 3, ("t", 1): 5, ("t", 2): 8, ("t", 3): 6}
    assert commit_offsets(last, {}, set()) == {("t", 0): 10, ("t", 1): 5, ("t", 2): 8}


def test_a_restart_from_the_stored_watermark_rebuilds_open_windows_and_sets_final_ones_aside() -> None:
    """Replayed from the safe offsets: a final window's records are late, an open one goes on revising."""
    first = Feed(operator(out_of_orderness_s=0, lateness_s=60))
    first(paid(10, 100, event_id="a"), paid(70, 200, event_id="b"), paid(130, 1, event_id="c"))
    first(paid(115, 300, event_id="d"))  # minute 0 final (watermark 130 s); minute 1 fired, updated: rev 2
    watermark = first.windows.watermark
    open_revisions = {r.key: r.revision for r in first.latest().values() if not r.final}
    assert watermark == T0 + dt.timedelta(seconds=130)
    assert {(k.start - T0) // MINUTE: v for k, v in open_revisions.items()} == {1: 2}

    restarted = Feed(
        operator(out_of_orderness_s=0, lateness_s=60, watermark=watermark, revisions=open_revisions)
    )
    # What a restart reads again: everything from the first offset of an open window (here: all).
    restarted(paid(10, 100, event_id="a"), paid(70, 200, event_id="b"), paid(130, 1, event_id="c"))
    restarted(paid(115, 300, event_id="d"), paid(250, 1, event_id="e"))
    assert [late.event.event_id for late in restarted.late] == ["a"]
    rebuilt = restarted.latest()
    minute_1 = WindowKey(SHOP, "EUR", T0 + MINUTE)
    assert (rebuilt[minute_1].revenue_minor, rebuilt[minute_1].orders) == (500, 2)
    assert rebuilt[minute_1].revision > open_revisions[minute_1]
    assert rebuilt[minute_1].final
    assert WindowKey(SHOP, "EUR", T0) not in rebuilt


def test_generated_shuffled_orders_match_a_plain_group_by() -> None:
    """Generated, seeded, shuffled within the bound: the final windows equal a plain group-by.

    600 generated orders over 10 minutes, 3 shops, 2 currencies, 3 partitions.
    """
    rng = random.Random(20260301)  # noqa: S311 - generated test data, not secrets
    shops = [uuid.UUID(int=n) for n in (11, 12, 13)]
    generated = [
        paid(
            rng.uniform(0, 600),
            rng.randint(1, 10_000),
            shop=rng.choice(shops),
            currency=rng.choice(["EUR", "GBP"]),
            partition=rng.randrange(3),
        )
        for _ in range(600)
    ]
    expected: collections.Counter[tuple[uuid.UUID, str, int]] = collections.Counter()
    counts: collections.Counter[tuple[uuid.UUID, str, int]] = collections.Counter()
    for order in generated:
        group = (order.shop, order.currency, int((order.occurred_at - T0).total_seconds() // 60))
        expected[group] += order.revenue_minor
        counts[group] += 1

    bound = 8.0
    # Each partition delivers its orders shuffled: each one's place moved by a jitter under the bound.
    by_partition = [
        sorted(
            (order for order in generated if order.source[1] == partition),
            key=lambda order: order.occurred_at + dt.timedelta(seconds=rng.uniform(0, bound)),
        )
        for partition in range(3)
    ]
    windows = operator(out_of_orderness_s=bound, lateness_s=0)
    windows.track([(TOPIC, partition) for partition in range(3)], NOW)
    feed = Feed(windows)
    while any(by_partition):  # round-robin over the partitions, as a consumer fetching all three
        for queue in by_partition:
            if queue:
                feed(queue.pop(0))
    feed(*(paid(2000, 0, shop=shops[0], partition=partition) for partition in range(3)))  # close all

    got = {k: v for k, v in totals(feed.latest()).items() if (k[0], k[1], k[2]) in expected}
    assert got == {group: (expected[group], counts[group]) for group in expected}
    assert feed.late == []
    assert all(result.final for result in feed.latest().values() if result.key.start < T0 + 10 * MINUTE)
