"""The ``streaming`` section: where the Kafka pipeline's topics are, and how its stages batch and wait.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the package.
Where the broker is, when ``bootstrap_servers`` is unset, comes from ``services.kafka``
(the harness's Tansu, or the external cluster configured there).
"""

from __future__ import annotations

from pathlib import Path

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting


class StreamingSettings(FolioSettingsBase):
    """The event pipeline on Kafka: the relay of the outbox, the consumer groups, the dead-letter topic."""

    settings_path = ("streaming",)

    bootstrap_servers: str | None = setting(
        None,
        description="`host:port` list of the Kafka cluster the pipeline uses; unset: "
        "`services.kafka`'s bootstrap address (the harness's broker or its external cluster).",
    )
    topic_prefix: str = setting(
        "folio.",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Prefix of every topic the pipeline writes: `<prefix><outbox topic>` per event "
        "family (`folio.orders`), `<prefix>orders.facts` for the transform's output, `<prefix>dlq`.",
    )
    partitions: int = setting(
        6,
        ge=1,
        le=1_000,
        description="Partitions of each topic the relay or a stage creates when it is missing (an "
        "existing topic keeps its own): the most consumers of one group that share a topic.",
    )
    relay_topics: list[str] = setting(
        default_factory=lambda: ["orders", "payments", "catalog", "carts", "identity", "tasks"],
        description="Outbox topics the Kafka relay publishes, one Kafka topic each (empty: no relay "
        "runs). `orders` and `payments` are subscribed by migration `0016_analytics`, others when "
        "the relay starts.",
    )
    relay_batch_size: int = setting(
        500, ge=1, le=10_000, description="Outbox events the Kafka relay claims and publishes per round."
    )
    relay_poll_interval_s: float = setting(
        0.5, gt=0, le=60, description="How long an idle relay waits before it looks at the outbox again."
    )
    relay_lease_s: float = setting(
        15.0,
        gt=0,
        le=600,
        description="Lease of the relay's lock (`streaming:kafka-relay`): one relay at a time; a dead "
        "holder's lease lapses after this long.",
    )
    delivery_timeout_s: float = setting(
        30.0,
        gt=0,
        le=600,
        description="How long the producer keeps trying to deliver a record (`message.timeout.ms`); "
        "then the event stays in the outbox (or the batch is not committed) and is tried again.",
    )
    consumer_batch_size: int = setting(
        200, ge=1, le=10_000, description="Records a consumer stage handles per batch (one commit each)."
    )
    lake_batch_size: int = setting(
        5_000,
        ge=1,
        le=100_000,
        description="Records the lake sink writes per batch: one Parquet file per day and shop each "
        "(fewer, larger files; compaction merges the rest).",
    )
    lake_flush_interval_s: float = setting(
        10.0,
        gt=0,
        le=3_600,
        description="The longest the lake sink waits to fill a batch before it writes what it has "
        "(how stale the lake may be).",
    )
    metrics_host: str = setting(
        LOOPBACK, description="Interface the pipeline process's Prometheus `/metrics` binds."
    )
    metrics_port: int = setting(
        21482,
        ge=0,
        le=65_535,
        description="Port of the pipeline process's Prometheus `/metrics` (HTTP); 0: not served. "
        "Each hand-started per-stage process needs its own (or 0).",
    )
    session_timeout_ms: int = setting(
        6_000,
        ge=1_000,
        le=300_000,
        description="Consumer group session timeout: how long a silent member keeps its partitions.",
    )
    heartbeat_interval_ms: int = setting(
        1_000,
        ge=100,
        le=60_000,
        description="Consumer group heartbeat interval (a third of the session or less).",
    )
    window_size_s: int = setting(
        60,
        ge=1,
        le=86_400,
        description="Length of the `windows` stage's tumbling event-time windows (per shop and "
        "currency: revenue and paid orders), aligned on the epoch.",
    )
    window_out_of_orderness_s: float = setting(
        10.0,
        ge=0,
        le=3_600,
        description="How far out of event-time order the `windows` stage expects facts to arrive: the "
        "watermark trails the slowest partition's latest event time by this much.",
    )
    window_allowed_lateness_s: float = setting(
        60.0,
        ge=0,
        le=86_400,
        description="How long after its end (in watermark time) a fired window still takes late events "
        "and is emitted again as an update; later events go to `<prefix>orders.late`.",
    )
    window_idle_timeout_s: float = setting(
        30.0,
        gt=0,
        le=3_600,
        description="Processing time after which a partition that delivered nothing stops holding the "
        "`windows` stage's watermark back (until it delivers again).",
    )
    schemas_dir: Path | None = setting(
        None,
        description="Folder of the event schemas (`<topic>/<Type>.v<N>.json`); unset: the repository's "
        "`schemas/events`.",
    )
