"""The pipeline assembled from settings: the relay, the transform, the sinks, each a stage a process runs.

``Streams`` (in the platform's ``STREAMS`` slot) knows where the broker is, the topic
names and the schemas, and builds each stage's clients; ``run_stage`` runs one stage
until ``stop`` is set. ``python -m folio.entrypoints.streams <stage>`` is one process
per stage; several processes of one consumer stage share its partitions (a group).
``run_all`` runs the stages as tasks of one process (what ``folio up`` starts: one
process costs about 120 MiB, one per stage would cost that many times more); when one
stage fails the others stop too, so the process exits and its supervisor restarts it.
The ``lake`` stage (``folio.streaming.lake_sink``) writes the orders and cart events
into the lake's order tables in batches of ``streaming.lake_batch_size`` records or
``streaming.lake_flush_interval_s`` seconds, whichever comes first. The ``windows``
stage (``folio.streaming.window_stage``) sums paid orders per shop and event-time
minute; one member per group (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

import structlog

from folio.core.db import Database
from folio.core.platform import Slot
from folio.core.settings import Settings
from folio.lake.api import Lake
from folio.streaming.consumer import StreamConsumer, consumer_config
from folio.streaming.event_schemas import EventSchemas
from folio.streaming.lake_sink import LAKE_FAMILIES, LakeSink
from folio.streaming.producer import DeliveryError, EventProducer, ensure_topics, producer_config
from folio.streaming.relay import RELAY_CONSUMER, KafkaRelay
from folio.streaming.settings import StreamingSettings
from folio.streaming.sink import AnalyticsSink
from folio.streaming.topics import FACTS_FAMILY, LATE_FAMILY, WINDOWS_FAMILY, TopicNames
from folio.streaming.transform import SOURCE_FAMILY, Transform
from folio.streaming.window_stage import WindowStage

__all__ = ["RELAY_LOCK", "STAGES", "STREAMS", "Streams", "streams_for"]

log = structlog.get_logger(__name__)

STAGES = ("relay", "transform", "sink", "lake", "windows")
"""The stages ``run_stage`` (and the entry point) runs; ``all`` runs them in one process (``run_all``)."""
RELAY_LOCK = "streaming:kafka-relay"
"""The lock the relays of several processes take turns on."""


class Streams:
    """The pipeline's configuration and client factory (connects to nothing until a stage runs)."""

    def __init__(
        self,
        settings: StreamingSettings,
        *,
        bootstrap_servers: str,
        client_id: str = "folio",
        schemas: EventSchemas | None = None,
        source_family: str = SOURCE_FAMILY,
        relay_consumer: str = RELAY_CONSUMER,
        lake_families: Sequence[str] = LAKE_FAMILIES,
    ) -> None:
        """A pipeline on ``bootstrap_servers``; connects to nothing yet.

        ``source_family``, ``relay_consumer`` and ``lake_families`` are the transform's
        input family, the relay's outbox consumer and the lake stage's input families: a
        test gives its own, so its pipeline shares nothing with the platform's.
        """
        self.settings = settings
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.source_family = source_family
        self.relay_consumer = relay_consumer
        self.lake_families = tuple(lake_families)
        self.names = TopicNames(settings.topic_prefix)
        self._schemas = schemas

    @property
    def schemas(self) -> EventSchemas:
        """The event schemas (loaded once, on first use)."""
        if self._schemas is None:
            self._schemas = EventSchemas.load(self.settings.schemas_dir)
        return self._schemas

    def group(self, stage: str) -> str:
        """The consumer group of a consumer stage: ``<prefix><stage>``."""
        return f"{self.settings.topic_prefix}{stage}"

    def producer(self) -> EventProducer:
        """A new idempotent producer."""
        config = producer_config(
            self.bootstrap_servers,
            delivery_timeout_s=self.settings.delivery_timeout_s,
            client_id=self.client_id,
        )
        return EventProducer(config, delivery_timeout_s=self.settings.delivery_timeout_s)

    def consumer(
        self,
        stage: str,
        topics: list[str],
        *,
        dead_letters: EventProducer,
        batch_size: int | None = None,
        poll_timeout_s: float = 1.0,
        fill_batch: bool = False,
    ) -> StreamConsumer:
        """A member of ``stage``'s group reading ``topics``, dead-lettering through ``dead_letters``.

        ``batch_size`` defaults to ``streaming.consumer_batch_size``; ``poll_timeout_s``
        and ``fill_batch`` are ``StreamConsumer``'s.
        """
        config = consumer_config(
            self.bootstrap_servers,
            group=self.group(stage),
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
        )
        return StreamConsumer(
            config,
            topics=topics,
            schemas=self.schemas,
            dead_letters=dead_letters,
            dead_letter_topic=self.names.dead_letters,
            batch_size=batch_size or self.settings.consumer_batch_size,
            poll_timeout_s=poll_timeout_s,
            fill_batch=fill_batch,
        )

    def relay(self, db: Database, *, consumer: str | None = None) -> KafkaRelay:
        """The relay of ``streaming.relay_topics``, as outbox ``consumer`` (default: ``relay_consumer``)."""
        return KafkaRelay(
            db,
            self.producer(),
            self.schemas,
            names=self.names,
            topics=self.settings.relay_topics,
            batch_size=self.settings.relay_batch_size,
            partitions=self.settings.partitions,
            consumer=consumer or self.relay_consumer,
        )

    async def ensure_topics(self, *families: str) -> None:
        """Create the missing topics of ``families`` and the dead-letter topic."""
        names = [self.names.family(family) for family in families] + [self.names.dead_letters]
        await ensure_topics(self.bootstrap_servers, names, partitions=self.settings.partitions)

    async def topics_ready(self, stop: asyncio.Event, *families: str) -> bool:
        """``ensure_topics``, waiting out a broker that cannot be reached; False when ``stop`` came first.

        A consumer stage started before the broker (a restart of both, a cluster still
        electing) waits for it as the relay does, rather than failing until its
        supervisor gives up on it; a refusal other than the broker's absence is raised.
        """
        pause_s = StreamConsumer.MIN_BACKOFF_S
        while not stop.is_set():
            try:
                await self.ensure_topics(*families)
            except DeliveryError as exc:
                if not exc.broker_down:
                    raise
                log.warning("streaming.broker_unreachable", error=str(exc), retry_in_s=pause_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause_s)
                pause_s = min(pause_s * 2, StreamConsumer.MAX_BACKOFF_S)
            else:
                return True
        return False

    async def run_stage(
        self,
        stage: str,
        db: Database,
        *,
        stop: asyncio.Event,
        exclusive: Callable[[], AbstractAsyncContextManager[object]] | None = None,
        lake: Lake | None = None,
    ) -> None:
        """Run ``stage`` (one of ``STAGES``) until ``stop`` is set; ``exclusive`` is the relay's lock.

        The ``lake`` stage needs the ``lake`` it writes to.
        """
        producer = self.producer()
        try:
            if stage == "relay":
                await self.relay(db).run_forever(
                    stop=stop,
                    poll_interval_s=self.settings.relay_poll_interval_s,
                    exclusive=exclusive,
                    standby_s=self.settings.relay_lease_s / 3,
                )
            elif stage == "transform":
                if not await self.topics_ready(stop, self.source_family, FACTS_FAMILY):
                    return
                handler = Transform(
                    producer, self.schemas, output_topic=self.names.facts, source_family=self.source_family
                )
                source = self.names.family(self.source_family)
                consumer = self.consumer(stage, [source], dead_letters=producer)
                await consumer.run(handler, stop=stop)
            elif stage == "sink":
                if not await self.topics_ready(stop, FACTS_FAMILY):
                    return
                consumer = self.consumer(stage, [self.names.facts], dead_letters=producer)
                await consumer.run(AnalyticsSink(db), stop=stop)
            elif stage == "lake":
                if lake is None:
                    raise ValueError("the lake stage needs the lake it writes to")
                if not await self.topics_ready(stop, *self.lake_families):
                    return
                consumer = self.consumer(
                    stage,
                    [self.names.family(family) for family in self.lake_families],
                    dead_letters=producer,
                    batch_size=self.settings.lake_batch_size,
                    poll_timeout_s=self.settings.lake_flush_interval_s,
                    fill_batch=True,
                )
                await consumer.run(LakeSink(lake, families=self.lake_families), stop=stop)
            elif stage == "windows":
                if not await self.topics_ready(stop, FACTS_FAMILY, WINDOWS_FAMILY, LATE_FAMILY):
                    return
                consumer = self.consumer(stage, [self.names.facts], dead_letters=producer)
                windows = WindowStage(
                    db,
                    producer,
                    settings=self.settings,
                    group=self.group(stage),
                    names=self.names,
                    assigned=consumer.assigned,
                )
                await consumer.run(windows, stop=stop, position=windows)
            else:
                raise ValueError(f"no stage {stage!r}; the stages are {', '.join(STAGES)}")
        finally:
            await producer.close()

    async def run_all(
        self,
        db: Database,
        *,
        stop: asyncio.Event,
        exclusive: Callable[[], AbstractAsyncContextManager[object]] | None = None,
        lake: Lake | None = None,
    ) -> None:
        """Run every stage as a task of this process until ``stop`` is set, or until one of them fails.

        The ``lake`` stage runs only when a ``lake`` is given. A failing stage sets
        ``stop`` (the others finish their batch and leave their groups) and its error is
        raised once all have ended.
        """
        stages = [stage for stage in STAGES if stage != "lake" or lake is not None]
        tasks = [
            asyncio.create_task(
                self.run_stage(stage, db, stop=stop, exclusive=exclusive, lake=lake), name=stage
            )
            for stage in stages
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            stop.set()
            await asyncio.wait(tasks)


def streams_for(settings: Settings) -> Streams:
    """The pipeline of ``settings``: ``streaming.bootstrap_servers``, else ``services.kafka``'s address."""
    bootstrap = settings.streaming.bootstrap_servers or settings.services.kafka.bootstrap
    return Streams(settings.streaming, bootstrap_servers=bootstrap, client_id=settings.service_name)


STREAMS: Slot[Streams] = Slot("event pipeline")
