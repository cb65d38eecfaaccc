"""The quixstreams peer of Folio's events benchmark: orders events in, their facts upserted into PostgreSQL.

The same pipeline as Folio's transform and sink (``folio.streaming``), written the way
quixstreams is meant to be used: a ``StreamingDataFrame`` over the orders topic derives
each event's facts (the arithmetic of ``folio.streaming.transform.order_facts``, copied:
this environment cannot import Folio), maps them to a row of the analytics table, and
quixstreams' own ``PostgreSQLSink`` inserts the rows with ``ON CONFLICT (event_id) DO
NOTHING``, flushed at each checkpoint before the offsets are committed (at least once,
idempotent, like Folio's sink).

Runs from its own environment (``pyproject.toml`` and ``uv.lock`` beside this file:
quixstreams needs an older pydantic-settings than Folio's lock), started by
``benchmarks/bench_events.py`` as ``python facts_app.py '<json>'`` with the database
URL in ``FOLIO_BENCH_PEER_DSN``; it stops on SIGTERM. The JSON names ``bootstrap``,
``topic``, ``group``, ``table``, ``batch`` (records per checkpoint) and ``wait_s`` (the
longest time between checkpoints).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

# quixstreams is imported where it is used: Folio's tests load ``order_facts`` from this file in
# Folio's environment, which has no quixstreams, to check it derives what Folio's transform does.

_ZERO_DIGITS = {
    *("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW"),
    *("PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"),
}
_THREE_DIGITS = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}

Headers = list[tuple[str, bytes]]


def _header(headers: Headers | None, name: str) -> str:
    return next(value.decode() for key, value in headers or () if key == name)


def order_facts(payload: dict[str, Any], headers: Headers | None) -> dict[str, Any]:
    """The ``OrderFacts`` of one orders event (as ``folio.streaming.transform.order_facts`` derives them)."""
    currency = str(payload["currency"]).upper()
    total, refunded = int(payload["total_minor"]), int(payload["refunded_minor"])
    event_type = _header(headers, "event-type")
    occurred_at = dt.datetime.fromisoformat(_header(headers, "occurred-at"))
    return {
        "event_id": _header(headers, "event-id"),
        "schema_version": int(_header(headers, "schema-version")),
        "order_id": payload["order_id"],
        "tenant_id": _header(headers, "tenant-id"),
        "event_type": event_type,
        "status": payload["status"],
        "currency": currency,
        "minor_unit_digits": 0 if currency in _ZERO_DIGITS else 3 if currency in _THREE_DIGITS else 2,
        "total_minor": total,
        "refunded_minor": refunded,
        "net_minor": total - refunded,
        "revenue_minor": total if event_type == "OrderPaid" else 0,
        "line_count": len(payload["lines"]),
        "item_count": sum(int(line["quantity"]) for line in payload["lines"]),
        "order_version": int(payload["version"]),
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(),
    }


def analytics_row(facts: dict[str, Any]) -> dict[str, Any]:
    """The analytics table's row of ``facts``: where it was read, less what the table does not keep."""
    from quixstreams import message_context  # type: ignore[import-not-found,unused-ignore]

    context = message_context()
    row = {key: value for key, value in facts.items() if key not in {"minor_unit_digits", "revenue_minor"}}
    return {
        **row,
        "source_topic": context.topic,
        "source_partition": context.partition,
        "source_offset": context.offset,
    }


def postgres_sink(dsn: str, table: str) -> Any:
    """The PostgreSQL sink of quixstreams into ``table`` (which exists), skipping event ids already there."""
    from quixstreams.sinks.community.postgresql import PostgreSQLSink  # type: ignore[import-not-found,unused-ignore]

    url = urlsplit(dsn)
    return PostgreSQLSink(
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        dbname=url.path.lstrip("/"),
        user=unquote(url.username or ""),
        password=unquote(url.password or ""),
        table_name=table,
        # The table is the benchmark's copy of analytics_order_events: no ALTER TABLE per batch.
        schema_auto_update=False,
        include_metadata=False,
        primary_key_columns="event_id",
        on_conflict_do_nothing=True,
    )


def main(config: dict[str, Any]) -> None:
    """Run the application until SIGTERM."""
    from quixstreams import Application  # type: ignore[import-not-found,unused-ignore]

    app = Application(
        broker_address=config["bootstrap"],
        consumer_group=config["group"],
        auto_offset_reset="earliest",
        commit_every=config["batch"],
        commit_interval=config["wait_s"],
        # The group settings Folio's consumers use on this broker (quick joins).
        consumer_extra_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000},
        auto_create_topics=False,
        use_changelog_topics=False,
        loglevel="WARNING",
    )
    orders = app.topic(config["topic"], value_deserializer="json")
    frame = app.dataframe(orders)
    frame = frame.apply(lambda value, _key, _timestamp, headers: order_facts(value, headers), metadata=True)
    frame = frame.apply(analytics_row)
    frame.sink(postgres_sink(os.environ["FOLIO_BENCH_PEER_DSN"], config["table"]))
    app.run()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
