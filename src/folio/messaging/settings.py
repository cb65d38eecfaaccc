"""The ``messaging`` section: how the workers consume, retry and shut down, and what the relay publishes.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the package.
Where the broker is comes from ``services.rabbitmq``.
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting


class MessagingSettings(FolioSettingsBase):
    """Work queues on RabbitMQ: the workers' prefetch, concurrency, retry ladder and shutdown; the relay."""

    settings_path = ("messaging",)

    replicas: int = setting(
        2,
        ge=0,
        le=16,
        description="Worker processes `folio up` runs (0: none). Each consumes every queue; two share "
        "the work of a two-core machine, one saves about 190 MB where memory is tight.",
    )
    prefetch: int = setting(
        16,
        ge=1,
        le=1_000,
        description="Unacknowledged messages the broker hands one worker per queue and lane (AMQP "
        "`basic.qos`): how far a worker reads ahead of its handlers.",
    )
    concurrency: int = setting(
        8,
        ge=1,
        le=256,
        description="Messages one worker process handles at once, over all its queues; urgent ones take "
        "a free slot before normal ones. Each holds at most one database connection.",
    )
    retry_delays_s: list[float] = setting(
        default_factory=lambda: [1.0, 5.0, 30.0, 120.0, 600.0],
        min_length=0,
        max_length=20,
        description="The retry ladder: after its n-th transient failure a message waits the n-th delay "
        "in a queue of its own, then goes back to its work queue; one failure more than there are "
        "rungs dead-letters it. A queue's own ladder (`WorkQueue.retry_delays_s`) overrides it.",
    )
    delivery_limit: int = setting(
        20,
        ge=1,
        le=1_000,
        description="Deliveries after which the broker dead-letters a message itself (`x-delivery-limit`): "
        "the safety net for a message that kills its worker or is returned at every shutdown. Fixed "
        "when a queue is first declared.",
    )
    shutdown_grace_s: float = setting(
        20.0,
        ge=0,
        le=600,
        description="How long a stopping worker lets its in-flight messages finish before it returns "
        "them to their queue (`folio up`'s stop timeout is this plus a margin).",
    )
    publish_timeout_s: float = setting(
        10.0, gt=0, le=120, description="How long a publish waits for the broker's confirm before it fails."
    )
    connect_timeout_s: float = setting(
        5.0, gt=0, le=120, description="How long connecting to the broker may take before it counts as down."
    )
    relay_topics: list[str] = setting(
        default_factory=lambda: ["payments", "orders"],
        description="Outbox topics the relay publishes to RabbitMQ's `folio.events` exchange, and only "
        "these (empty: no relay runs; the events of its subscribed topics wait in the outbox).",
    )
    relay_batch_size: int = setting(
        200, ge=1, le=5_000, description="Outbox events the relay claims and publishes per round."
    )
    relay_poll_interval_s: float = setting(
        0.5, gt=0, le=60, description="How long the relay waits between rounds when the outbox is empty."
    )
    relay_lease_s: float = setting(
        15.0,
        gt=0,
        le=600,
        description="Time to live of the lock that lets one relay run at a time (renewed while it runs).",
    )
    urgent_events: list[str] = setting(
        default_factory=lambda: ["*refund*", "*password_reset*", "*passwordreset*"],
        description="Patterns (shell-style, case-insensitive) on `<topic>.<type>`: matching events go to "
        "their queues' urgent lane, which workers serve first.",
    )
    metrics_host: str = setting(LOOPBACK, description="Interface a worker's Prometheus `/metrics` binds.")
    metrics_port: int = setting(
        21491,
        ge=0,
        le=65_535,
        description="Port of a worker's Prometheus `/metrics` (HTTP); 0: not served. Under `folio up` it is "
        "the first replica's: replica n serves on this port plus n - 1 (21491-21492 for two replicas).",
    )
    inbox_retention_days: int = setting(
        14,
        ge=1,
        le=3_650,
        description="How long processed message ids are kept in the inbox: a copy of a message "
        "redelivered later than this would be applied again.",
    )

    @model_validator(mode="after")
    def _ladder_ascends(self) -> Self:
        delays = self.retry_delays_s
        if any(delay <= 0 for delay in delays) or delays != sorted(delays):
            raise ValueError("retry_delays_s must be positive and ascending")
        return self
