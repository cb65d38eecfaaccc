"""Events end to end (outbox, Kafka, transform, sink): events/s, p99 lag vs confluent-kafka and quixstreams.

Three contenders turn the same GENERATED orders events (``generated_order_events``:
realistic lifecycles of orders that pass the orders schemas, none of them real) into
rows of an analytics table on the services' Tansu and PostgreSQL:

- **Folio**: ``folio.streaming``'s transform and sink stages (one process, as ``folio up``
  runs them), through the ``orders.facts`` topic into ``analytics_order_events``;
- **confluent-kafka loop**: a plain consume-and-insert loop (``consume`` a batch,
  ``order_facts`` of each record, one ``executemany`` ``INSERT ... ON CONFLICT DO
  NOTHING`` with asyncpg, commit the offsets), no schema checks, no dead letters;
- **quixstreams**: the same facts and rows in a ``StreamingDataFrame`` with quixstreams'
  ``PostgreSQLSink`` (``benchmarks/peers/quixstreams``, its own environment).

Every contender is one process of its own reading the same topic (``bench-events-<tag>.``
prefix, its own outbox family: nothing shared with the platform's), which Folio's Kafka
relay fills from the outbox, with the same batch (``streaming.consumer_batch_size``) and
the same longest wait (1 s); the peers write to copies of ``analytics_order_events``
(same columns, same primary key on the event id), as the owner role of their tables.

0. **relay**: ``EVENTS`` events are committed to the outbox; the relay publishes them
   (reported, not compared: the same relay feeds every contender).
1. **events/s**: each contender, in its own consumer group, drains the topic from its
   start (``EVENTS`` plus the earlier contenders' live events). Rows made visible per
   second from the first row seen to the last (a watcher polls the table every
   ``POLL_S``), and the contender's CPU per event (``/proc``) over the same span.
2. **lag**: with the contender caught up, ``LIVE_EVENTS`` more are committed at
   ``LIVE_RATE`` events/s (below the relay's rate); lag is each event's outbox commit to
   its row being visible (the watcher's poll, so up to ``POLL_S`` late), through the relay
   (the platform's settings: 500 per round, 0.5 s between rounds when idle).

Rows lost or duplicated count as errors. The ratio is Folio's events/s over the peer's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from benchmarks.harness import RESULTS_DIR, BenchResult, Measurement, process_cpu_seconds
from folio.core.db import Database
from folio.core.migrations import upgrade
from folio.core.outbox import EventDraft, add_outbox_events, count_pending
from folio.core.settings import Settings, load_settings
from folio.streaming.api import (
    FACTS_FAMILY,
    EventSchemas,
    SchemaKey,
    Streams,
    consumer_config,
    decode_record,
    order_facts,
)

NAME = "events"
EVENTS = int(os.environ.get("FOLIO_BENCH_EVENTS", "20000"))
LIVE_EVENTS = int(os.environ.get("FOLIO_BENCH_LIVE_EVENTS", "1500"))
LIVE_RATE = int(os.environ.get("FOLIO_BENCH_LIVE_RATE", "200"))
"""Events/s committed in the lag phase: under the relay's rate (about 450/s here), so lag is not a queue."""
POLL_S = 0.05
WAIT_S = 1.0
"""The longest a contender waits to fill a batch: Folio's consumer poll timeout."""
PHASE_TIMEOUT_S = float(os.environ.get("FOLIO_BENCH_PHASE_TIMEOUT_S", "300"))
FOLIO_ENV = {"FOLIO_DATABASE_BACKEND": "postgres"}
PEER_DSN_ENV = "FOLIO_BENCH_PEER_DSN"
QUIX_PROJECT = Path(__file__).parent / "peers" / "quixstreams"
QUIX_VENV = RESULTS_DIR / "peers" / "quixstreams-venv"
ANALYTICS_TABLE = "analytics_order_events"
CURRENCIES = ("EUR", "EUR", "EUR", "GBP", "USD", "CHF", "JPY")
LIFECYCLES = (
    (("OrderPlaced", "pending_payment"), ("OrderCancelled", "cancelled")),
    (("OrderPlaced", "pending_payment"), ("OrderPaid", "paid")),
    (("OrderPlaced", "pending_payment"), ("OrderPaid", "paid"), ("OrderPacked", "packed")),
    (
        ("OrderPlaced", "pending_payment"),
        ("OrderPaid", "paid"),
        ("OrderPacked", "packed"),
        ("OrderShipped", "shipped"),
        ("OrderDelivered", "delivered"),
    ),
    (("OrderPlaced", "pending_payment"), ("OrderPaid", "paid"), ("OrderRefunded", "refunded")),
    (
        ("OrderPlaced", "pending_payment"),
        ("OrderPaid", "paid"),
        ("OrderPartiallyRefunded", "partially_refunded"),
    ),
)
"""What happens to a generated order: its events in order, each with the status it leaves."""

EventKey = tuple[str, str]
"""One orders event as the analytics row shows it: order id, event type (one of each per lifecycle)."""


# --- the generated events --------------------------------------------------------------------


def generated_order_events(count: int, *, family: str, shop: uuid.UUID, seed: int) -> list[EventDraft]:
    """``count`` GENERATED orders events of ``shop`` in outbox ``family``, whole lifecycles, in order.

    Orders of one to four lines (real-looking prices and quantities, a few currencies,
    guests and customers) that are placed, then paid or cancelled, some packed, shipped
    and delivered, some refunded in part or in full: every payload passes its
    ``orders`` schema. The last lifecycle is cut short to make ``count``.
    """
    rng = random.Random(seed)
    drafts: list[EventDraft] = []
    while len(drafts) < count:
        order = uuid.uuid4()
        lines: list[dict[str, Any]] = [
            {
                "listing_id": str(uuid.uuid4()),
                "work_id": str(uuid.uuid4()),
                "quantity": rng.choice((1, 1, 1, 2, 3)),
                "title": f"Generated work {rng.randrange(100_000)}",
                "unit_price_minor": rng.randrange(399, 4_999),
            }
            for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))
        ]
        total = sum(int(line["quantity"]) * int(line["unit_price_minor"]) for line in lines)
        refunds = {"OrderRefunded": total, "OrderPartiallyRefunded": int(lines[0]["unit_price_minor"])}
        base = {
            "order_id": str(order),
            "customer_id": rng.choice((None, str(uuid.uuid4()))),
            "currency": rng.choice(CURRENCIES),
            "total_minor": total,
            "lines": lines,
        }
        for version, (kind, status) in enumerate(rng.choice(LIFECYCLES), start=1):
            payload = {**base, "status": status, "refunded_minor": refunds.get(kind, 0), "version": version}
            drafts.append(
                EventDraft(topic=family, key=str(order), type=kind, payload=payload, tenant_id=shop)
            )
    return drafts[:count]


def private_schemas(family: str) -> EventSchemas:
    """The orders schemas under outbox ``family`` (so the relay and the transform take it), and the facts'."""
    real = EventSchemas.load()
    documents = {
        SchemaKey(family, key.type, key.version): doc
        for key, doc in real.documents.items()
        if key.topic == "orders"
    }
    documents |= {key: doc for key, doc in real.documents.items() if key.topic == FACTS_FAMILY}
    return EventSchemas(documents)


async def publish(db: Database, drafts: Sequence[EventDraft], *, rate: int | None) -> dict[EventKey, float]:
    """Commit ``drafts`` to the outbox (at ``rate`` events/s, or as fast as it goes); each one's commit time.

    Times are ``time.perf_counter`` just after the commit returned.
    """
    chunk = max(rate // 10, 1) if rate else 250
    committed: dict[EventKey, float] = {}
    start = time.perf_counter()
    for index in range(0, len(drafts), chunk):
        if rate:
            await asyncio.sleep(max(start + index / rate - time.perf_counter(), 0.0))
        batch = drafts[index : index + chunk]

        async def commit(session: AsyncSession, batch: Sequence[EventDraft] = batch) -> None:
            await add_outbox_events(session, batch)

        await db.run(commit)
        now = time.perf_counter()
        committed.update({(str(draft.payload["order_id"]), draft.type): now for draft in batch})
    return committed


def on_table(statement: str, table: str) -> str:
    """``statement`` with ``{table}`` replaced by the quoted name ``table`` (one of the run's own)."""
    if not table.replace("_", "").isalnum():
        raise ValueError(f"not a table name of this benchmark: {table!r}")
    return statement.format(table=f'"{table}"')


# --- watching rows appear ---------------------------------------------------------------------


@dataclass
class Sighting:
    """One poll of the watcher: when, how many of the shop's rows were visible, the contender's CPU."""

    at: float
    rows: int
    cpu_s: float


@dataclass
class Watched:
    """What the watcher saw of one shop's rows: the polls, and when each row was first visible."""

    sightings: list[Sighting] = field(default_factory=list)
    visible_at: dict[EventKey, float] = field(default_factory=dict)
    duplicated: int = 0

    def drain(self, expected: int) -> tuple[float, float, float]:
        """Rows per second and CPU seconds per row from the first poll that saw rows to the last; seconds."""
        seen = [sighting for sighting in self.sightings if sighting.rows]
        first, last = seen[0], seen[-1]
        if last.at == first.at:  # everything in one poll: count from the poll before it
            first = Sighting(self.sightings[0].at, 0, self.sightings[0].cpu_s)
        rows = expected - first.rows
        seconds = last.at - first.at
        return rows / seconds, (last.cpu_s - first.cpu_s) / max(rows, 1), seconds


async def watch(
    owner: AsyncEngine, table: str, shops: Sequence[uuid.UUID], expected: int, *, pid: int, died: Any
) -> Watched:
    """Poll ``table`` every ``POLL_S`` until ``shops`` have ``expected`` rows; when each became visible.

    A row's visibility is its inserting transaction's (``xmin``): the poll that first
    counts a transaction dates all its rows. ``died`` raises if the contender exited.
    """
    seen_tx: dict[str, float] = {}
    watched = Watched()
    by_tx = text(
        on_table(
            "SELECT xmin::text AS tx, count(*) FROM {table} WHERE tenant_id = ANY(:shops) GROUP BY 1", table
        )
    )
    deadline = time.perf_counter() + PHASE_TIMEOUT_S
    async with owner.connect() as connection:
        while True:
            rows = (await connection.execute(by_tx, {"shops": list(shops)})).all()
            await connection.commit()
            now = time.perf_counter()
            for tx, _count in rows:
                seen_tx.setdefault(tx, now)
            visible = sum(count for _tx, count in rows)
            watched.sightings.append(Sighting(now, visible, process_cpu_seconds(pid)))
            if visible >= expected:
                break
            died()
            if now > deadline:
                raise TimeoutError(f"{table}: {visible} of {expected} rows after {PHASE_TIMEOUT_S:.0f} s")
            await asyncio.sleep(POLL_S)
        rows_by_tx = text(
            on_table(
                "SELECT order_id::text, event_type, xmin::text FROM {table} WHERE tenant_id = ANY(:shops)",
                table,
            )
        )
        for order_id, event_type, tx in (await connection.execute(rows_by_tx, {"shops": list(shops)})).all():
            key = (order_id, event_type)
            if key in watched.visible_at:
                watched.duplicated += 1
            watched.visible_at.setdefault(key, seen_tx[tx])
    return watched


# --- the contenders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    """One side: its label, the table it writes, and how its process starts."""

    key: str
    label: str
    table: str

    def argv(self, config: dict[str, Any]) -> list[str]:
        """The command of this contender's process reading ``config['topic']``."""
        if self.key == "quixstreams":
            return [quix_python(), str(QUIX_PROJECT / "facts_app.py"), json.dumps(config)]
        return [sys.executable, "-m", "benchmarks.bench_events", self.key, json.dumps(config)]


def quix_python() -> str:
    """The quixstreams peer's python, its environment synced from its lock first (offline after once)."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        raise RuntimeError(
            "uv is needed to build the quixstreams peer's environment (run through `make bench`)"
        )
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(QUIX_VENV.absolute())}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([uv, "sync", "--locked", "--project", str(QUIX_PROJECT), "--quiet"], env=env, check=True)
    return str(QUIX_VENV.absolute() / "bin" / "python")


@contextlib.contextmanager
def started(argv: list[str], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    """Run ``argv`` (its output to a file: a chatty child never blocks on a pipe); SIGTERM it after."""
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=output, stderr=output)
        try:
            yield proc, output
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def exited_check(proc: subprocess.Popen[bytes], output: IO[bytes], label: str) -> Any:
    """A callable that raises with the tail of ``label``'s output once its process has exited."""

    def check() -> None:
        if proc.poll() is not None:
            output.seek(0)
            said = output.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{label} exited with {proc.returncode}: {said}")

    return check


@dataclass
class Outcome:
    """One contender's figures."""

    drain_rate: float
    drain_s: float
    cpu_s_per_event: float
    lags_s: list[float]
    lost: int
    duplicated: int

    def measurement(self, label: str) -> Measurement:
        """As the harness reports it: events/s over the drain, lag percentiles of the live phase."""
        lags = sorted(self.lags_s)
        centiles = statistics.quantiles(lags, n=100, method="inclusive")
        return Measurement(
            label=label,
            requests=EVENTS,
            seconds=self.drain_s,
            rps=self.drain_rate,
            p50_ms=statistics.median(lags) * 1000,
            p95_ms=centiles[94] * 1000,
            p99_ms=centiles[98] * 1000,
            errors=self.lost + self.duplicated,
            cpu_ms_per_request=self.cpu_s_per_event * 1000,
        )


class Bench:
    """The databases, the broker and the names of one run (``bench-events-<tag>``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database.from_urls(settings.database, settings.database_url)
        self.owner = create_async_engine(settings.database_migration_url)
        self.tag = uuid.uuid4().hex[:8]
        self.prefix = f"bench-events-{self.tag}."
        self.bootstrap = settings.services.kafka.bootstrap
        self.family, self.relay_consumer = f"bench{self.tag}", f"bench-relay-{self.tag}"
        self.streams = self.streams_of(self.family, self.relay_consumer)
        self.stop = asyncio.Event()
        self.relay: asyncio.Task[None] | None = None
        self.relay_rate = 0.0
        self.shops: list[uuid.UUID] = []
        self.tables: list[str] = []
        self.batch = settings.streaming.consumer_batch_size

    def contenders(self) -> list[Contender]:
        """Folio on the platform's table, each peer on a copy of its own."""
        return [
            Contender("folio", "folio.streaming", ANALYTICS_TABLE),
            Contender("plain", "confluent-kafka loop", f"bench_events_{self.tag}_plain"),
            Contender("quixstreams", "quixstreams", f"bench_events_{self.tag}_quixstreams"),
        ]

    async def create_table(self, table: str) -> None:
        """A copy of the analytics table (columns, primary key, indexes); rows stamped on insert."""
        async with self.owner.begin() as connection:
            await connection.execute(
                text(on_table(f"CREATE TABLE {{table}} (LIKE {ANALYTICS_TABLE} INCLUDING ALL)", table))
            )
            await connection.execute(
                text(on_table("ALTER TABLE {table} ALTER COLUMN ingested_at SET DEFAULT now()", table))
            )
        self.tables.append(table)

    def streams_of(self, family: str, relay_consumer: str) -> Streams:
        """The pipeline of one contender: outbox ``family`` relayed to ``<prefix><family>``."""
        config = self.settings.streaming.model_copy(
            update={"topic_prefix": self.prefix, "relay_topics": [family]}
        )
        return Streams(
            config,
            bootstrap_servers=self.bootstrap,
            schemas=private_schemas(family),
            source_family=family,
            relay_consumer=relay_consumer,
        )

    def peer_dsn(self) -> str:
        """The owner's URL as libpq and asyncpg take it (the peers' tables are the owner's)."""
        url = make_url(self.settings.database_migration_url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    async def fill(self) -> None:
        """Start the relay of the run's outbox family; commit ``EVENTS`` events and time their relaying."""
        await self.streams.relay(self.db).subscribe()
        self.relay = asyncio.create_task(self.streams.run_stage("relay", self.db, stop=self.stop))
        drain_shop = uuid.uuid4()
        self.shops.append(drain_shop)
        started_at = time.perf_counter()
        await publish(
            self.db, generated_order_events(EVENTS, family=self.family, shop=drain_shop, seed=0), rate=None
        )
        while True:  # until the relay has published them all
            if not await count_pending(self.db, consumer=self.relay_consumer):
                break
            await asyncio.sleep(0.1)
        self.relay_rate = EVENTS / (time.perf_counter() - started_at)

    async def run(self, contender: Contender, index: int) -> Outcome:
        """The contender drains the topic from its start, then is fed live (see the module docstring).

        The topic then holds ``EVENTS`` plus the earlier contenders' live events: the drain
        counts them all, so each contender's rate is rows per second over all it read.
        """
        if contender.table != ANALYTICS_TABLE:
            await self.create_table(contender.table)
        on_topic = EVENTS + LIVE_EVENTS * index
        config = {
            "bootstrap": self.bootstrap,
            "topic": self.streams.names.family(self.family),
            "family": self.family,
            "prefix": self.prefix,
            "group": f"{self.prefix}{contender.key}",
            "table": contender.table,
            "batch": self.batch,
            "wait_s": WAIT_S,
        }
        env = {**FOLIO_ENV, PEER_DSN_ENV: self.peer_dsn()}
        live_shop = uuid.uuid4()
        with started(contender.argv(config), env) as (proc, output):
            died = exited_check(proc, output, contender.label)
            drained = await watch(self.owner, contender.table, self.shops, on_topic, pid=proc.pid, died=died)
            self.shops.append(live_shop)
            live = generated_order_events(LIVE_EVENTS, family=self.family, shop=live_shop, seed=1 + index)
            committed, lived = await asyncio.gather(
                publish(self.db, live, rate=LIVE_RATE),
                watch(self.owner, contender.table, [live_shop], LIVE_EVENTS, pid=proc.pid, died=died),
            )
        rate, cpu, seconds = drained.drain(on_topic)
        lags = [lived.visible_at[key] - at for key, at in committed.items() if key in lived.visible_at]
        return Outcome(
            drain_rate=rate,
            drain_s=seconds,
            cpu_s_per_event=cpu,
            lags_s=lags,
            lost=(on_topic - len(drained.visible_at)) + (LIVE_EVENTS - len(lags)),
            duplicated=drained.duplicated + lived.duplicated,
        )

    async def clean(self) -> None:
        """Stop the relay; drop the run's rows, tables, outbox events and subscription, and topics."""
        self.stop.set()
        if self.relay is not None:
            await self.relay
        async with self.owner.begin() as connection:
            await connection.execute(
                text(on_table("DELETE FROM {table} WHERE tenant_id = ANY(:shops)", ANALYTICS_TABLE)),
                {"shops": self.shops},
            )
            for table in self.tables:
                await connection.execute(text(on_table("DROP TABLE IF EXISTS {table}", table)))
            await connection.execute(
                text("DELETE FROM outbox_events WHERE topic = :family"), {"family": self.family}
            )
            await connection.execute(
                text("DELETE FROM outbox_consumers WHERE name = :name"), {"name": self.relay_consumer}
            )
        await asyncio.to_thread(self._delete_topics)
        await self.db.dispose()
        await self.owner.dispose()

    def _delete_topics(self) -> None:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        topics = [name for name in admin.list_topics(timeout=10).topics if name.startswith(self.prefix)]
        for future in admin.delete_topics(topics).values() if topics else ():
            with contextlib.suppress(Exception):  # a broker without topic deletion keeps them: harmless
                future.result(10)


async def _run(settings: Settings) -> list[BenchResult]:
    bench = Bench(settings)
    outcomes: dict[str, Outcome] = {}
    labels: dict[str, str] = {}
    try:
        await bench.fill()
        for index, contender in enumerate(bench.contenders()):
            outcomes[contender.key] = await bench.run(contender, index)
            labels[contender.key] = contender.label
    finally:
        await bench.clean()
    folio = outcomes["folio"].measurement(labels["folio"])
    parameters: dict[str, object] = {
        "events": EVENTS,
        "live_events": LIVE_EVENTS,
        "live_rate_per_s": LIVE_RATE,
        "partitions": settings.streaming.partitions,
        "batch": bench.batch,
        "wait_s": WAIT_S,
        "poll_s": POLL_S,
        "relay_events_per_s": round(bench.relay_rate),
        "lag_p99_ms": {key: round(outcome.measurement(key).p99_ms) for key, outcome in outcomes.items()},
        "data": "GENERATED orders events (generated_order_events), not real orders",
        "timer": "events/s: rows visible per second, first to last row of the drain; "
        "lag: outbox commit to row visible (polled every poll_s) at live_rate_per_s",
    }
    results = []
    for key, ratio_label in (
        ("plain", "folio/confluent-kafka loop events/s"),
        ("quixstreams", "folio/quixstreams events/s"),
    ):
        peer = outcomes[key].measurement(labels[key])
        results.append(
            BenchResult.comparing(
                __doc__,
                name=f"{NAME}_vs_{key}",
                folio=folio,
                peer=peer,
                ratio_label=ratio_label,
                parameters={**parameters, "p99_lag_ratio": round(folio.p99_ms / peer.p99_ms, 2)},
            )
        )
    return results


def run() -> list[BenchResult]:
    """The three contenders, one after the other, on the services' Tansu and PostgreSQL."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    return asyncio.run(_run(settings))


# --- the contenders' processes (``python -m benchmarks.bench_events <folio|plain> '<json>'``) ---


def _stop_on_sigterm() -> asyncio.Event:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    return stop


async def folio_stages(config: dict[str, Any]) -> None:
    """Folio's transform and sink stages as tasks of one process (``folio up``'s ``streams``, no relay)."""
    settings = load_settings()
    streaming = settings.streaming.model_copy(
        update={"topic_prefix": config["prefix"], "relay_topics": [config["family"]]}
    )
    streams = Streams(
        streaming,
        bootstrap_servers=config["bootstrap"],
        schemas=private_schemas(config["family"]),
        source_family=config["family"],
    )
    db = Database.from_urls(settings.database, settings.database_url)
    stop = _stop_on_sigterm()
    try:
        await asyncio.gather(*(streams.run_stage(stage, db, stop=stop) for stage in ("transform", "sink")))
    finally:
        await db.dispose()


INSERT_ROW = (
    "INSERT INTO {table} (event_id, tenant_id, order_id, event_type, schema_version, status, currency, "
    "total_minor, refunded_minor, net_minor, line_count, item_count, order_version, occurred_at, "
    "source_topic, source_partition, source_offset) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
    "ON CONFLICT (event_id) DO NOTHING"
)


async def plain_loop(config: dict[str, Any]) -> None:
    """The plain peer: consume a batch, derive each record's facts, insert them in one transaction, commit."""
    import asyncpg
    from confluent_kafka import Consumer

    settings = consumer_config(
        config["bootstrap"], group=config["group"], session_timeout_ms=6000, heartbeat_interval_ms=1000
    )
    # Folio's client settings, but offsets stored as consumed: a plain loop commits what it read.
    consumer = Consumer({**settings, "enable.auto.offset.store": True})
    consumer.subscribe([config["topic"]])
    connection = await asyncpg.connect(os.environ[PEER_DSN_ENV])
    insert = INSERT_ROW.format(table=config["table"])
    stop = _stop_on_sigterm()
    try:
        while not stop.is_set():
            messages = [
                message
                for message in await asyncio.to_thread(consumer.consume, config["batch"], config["wait_s"])
                if message.error() is None
            ]
            rows = []
            for message in messages:
                record = decode_record(
                    topic=str(message.topic()),
                    partition=int(message.partition() or 0),
                    offset=int(message.offset() or 0),
                    key=message.key(),
                    value=message.value(),
                    headers=message.headers(),
                )
                facts = order_facts(record)
                rows.append(
                    (
                        record.event_id,
                        uuid.UUID(facts["tenant_id"]),
                        uuid.UUID(facts["order_id"]),
                        facts["event_type"],
                        record.schema_version,
                        facts["status"],
                        facts["currency"],
                        facts["total_minor"],
                        facts["refunded_minor"],
                        facts["net_minor"],
                        facts["line_count"],
                        facts["item_count"],
                        facts["order_version"],
                        dt.datetime.fromisoformat(facts["occurred_at"]),
                        record.topic,
                        record.partition,
                        record.offset,
                    )
                )
            if rows:
                async with connection.transaction():
                    await connection.executemany(insert, rows)
            if messages:
                consumer.commit(asynchronous=False)
    finally:
        consumer.close()
        await connection.close()


if __name__ == "__main__":
    side, raw = sys.argv[1], sys.argv[2]
    asyncio.run({"folio": folio_stages, "plain": plain_loop}[side](json.loads(raw)))
