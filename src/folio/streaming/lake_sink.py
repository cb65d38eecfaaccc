"""The lake sink: orders and cart events from Kafka into the lake's order tables, each event once.

The stage reads the ``orders`` and ``carts`` families (not the facts: a placed order's
lines, titles and prices, and the cart events, are in the source events only) and
appends each batch to ``order_events`` (every event) and ``order_lines`` (the lines of
each ``OrderPlaced``), one Parquet file per day and shop partition. The lake's
compaction (``folio lake compact``, the daily flow) merges the small files later.

Delivery is at least once, so a batch may come again (a crash after the append and
before the offsets' commit, a rebalance). Before appending, the sink asks the lake
which of the batch's event ids the touched day partitions already hold (one DuckDB
query per table, reading the ``event_id`` column of those partitions only) and writes
the others: an event read twice is written once. Each table is checked on its own,
because the two appends are two manifest commits and a crash may fall between them.
The check assumes one writer per partition of the topic, which the consumer group
gives (a member that lost its partitions in a rebalance finishes its batch before the
new owner reads it, as the commit after it is refused).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from folio.lake.api import CART_ITEM_ADDED, Lake, LakeTable, order_events_table, order_lines_table
from folio.streaming.consumer import Rejected
from folio.streaming.envelope import StreamRecord

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["LAKE_FAMILIES", "LakeSink", "LakeWrite"]

LAKE_FAMILIES = ("orders", "carts")
"""The outbox families the lake sink reads."""
_PLACED = "OrderPlaced"


class LakeWrite:
    """The rows one batch adds to each order table (before the lake says which it already holds)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []

    def add(self, record: StreamRecord) -> None:
        """The rows of one good record of a lake family with a shop."""
        payload = record.payload
        occurred = record.occurred_at.astimezone(dt.UTC)
        common = {"event_id": record.event_id, "occurred_at": occurred, "date": occurred.date()}
        shop = str(record.tenant_id)
        if record.type == CART_ITEM_ADDED:
            self.events.append(
                {**common, "event_type": record.type, "shop_id": shop, "customer_id": payload["customer_id"]}
            )
            return
        self.events.append(
            {
                **common,
                "event_type": record.type,
                "shop_id": shop,
                "order_id": payload["order_id"],
                "customer_id": payload["customer_id"],
                "status": payload["status"],
                "currency": str(payload["currency"]).upper(),
                "total_minor": int(payload["total_minor"]),
                "refunded_minor": int(payload["refunded_minor"]),
            }
        )
        if record.type == _PLACED:
            self.lines += [
                {
                    **common,
                    "order_id": payload["order_id"],
                    "shop_id": shop,
                    "position": position,
                    "listing_id": line["listing_id"],
                    "work_id": line["work_id"],
                    "title": line.get("title"),
                    "quantity": int(line["quantity"]),
                    # Events published before lines carried prices say nothing of them: 0, not a guess.
                    "unit_price_minor": int(line.get("unit_price_minor", 0)),
                    "currency": str(payload["currency"]).upper(),
                }
                for position, line in enumerate(payload["lines"], start=1)
            ]


def _known_event_ids(lake: Lake, table: str, rows: Sequence[dict[str, Any]]) -> set[str]:
    """The event ids of ``rows`` that ``table`` already holds, reading only the partitions they touch."""
    if table not in lake.tables():
        return set()
    days = sorted({row["date"] for row in rows})
    ids = sorted({row["event_id"] for row in rows})
    found = lake.query(
        f'SELECT DISTINCT event_id FROM "{table}" WHERE date IN (SELECT unnest(?)) '  # noqa: S608 - a declared table
        "AND event_id IN (SELECT unnest(?))",
        [days, ids],
    )
    return {str(value) for value in found.column("event_id").to_pylist()}


def _append_new(lake: Lake, table: LakeTable, rows: list[dict[str, Any]], *, source: str) -> int:
    """Append the rows whose event the table does not hold yet; how many were appended."""
    if not rows:
        return 0
    import pyarrow as pa

    known = _known_event_ids(lake, table.name, rows)
    fresh = [row for row in rows if row["event_id"] not in known]
    if fresh:
        data: pa.Table = pa.Table.from_pylist(fresh, schema=table.schema)
        lake.append(table, data, source=source)
    return len(fresh)


class LakeSink:
    """The stage's handler: a batch's new events appended to the lake before it returns (module docstring)."""

    def __init__(self, lake: Lake, *, families: Sequence[str] = LAKE_FAMILIES) -> None:
        self.lake = lake
        self.families = tuple(families)

    async def __call__(self, records: list[StreamRecord]) -> list[Rejected]:
        """Append the events of ``records`` the lake lacks; refuse other families and shopless events."""
        rejected: list[Rejected] = []
        write = LakeWrite()
        for record in records:
            if record.family not in self.families or record.tenant_id is None:
                rejected.append(
                    Rejected(record, f"the lake sink reads shops' {'/'.join(self.families)} events")
                )
            else:
                write.add(record)
        if write.events or write.lines:
            source = "kafka:" + ",".join(sorted({record.topic for record in records}))
            await asyncio.to_thread(self._write, write, source)
        return rejected

    def _write(self, write: LakeWrite, source: str) -> None:
        _append_new(self.lake, order_lines_table(), write.lines, source=source)
        _append_new(self.lake, order_events_table(), write.events, source=source)
