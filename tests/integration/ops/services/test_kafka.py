"""Kafka-protocol round trips against the broker (Tansu): partitions, consumer groups, durability."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

# NewTopic is documented here, but the module re-exports it without __all__.
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from folio.core.settings import Settings
from folio.ops.manager import ServiceManager
from folio.ops.process import read_pid_file, stop

pytestmark = pytest.mark.integration

PARTITIONS = 3
MESSAGES = 60
KEYS = 10
TIMEOUT_S = 30.0
# Long enough for a consumer that was handed old records to have fetched them.
QUIET_WINDOW_S = 4.0


@pytest.fixture
def bootstrap(settings: Settings, require_service: Callable[[str], None]) -> str:
    """The broker's bootstrap address, once the broker is known to be healthy."""
    require_service("kafka")
    return settings.services.kafka.bootstrap


def _create_topic(bootstrap: str, partitions: int) -> str:
    topic = f"test-{uuid.uuid4().hex[:12]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    futures[topic].result(timeout=TIMEOUT_S)
    metadata = admin.list_topics(topic, timeout=TIMEOUT_S)
    assert len(metadata.topics[topic].partitions) == partitions
    return topic


def _produce(bootstrap: str, topic: str, records: list[tuple[str, str]]) -> dict[str, set[int]]:
    """Produce keyed records and wait for every delivery; returns the partitions each key went to."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    failures: list[KafkaError] = []
    partitions_by_key: dict[str, set[int]] = {}

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            failures.append(error)
            return
        key = (message.key() or b"").decode()
        partitions_by_key.setdefault(key, set()).add(message.partition() or 0)

    for key, value in records:
        producer.produce(topic, key=key.encode(), value=value.encode(), on_delivery=delivered)
    assert producer.flush(TIMEOUT_S) == 0
    assert failures == []
    return partitions_by_key


def _consumer(bootstrap: str, topic: str, group: str) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
    )
    consumer.subscribe([topic])
    return consumer


def _consume(consumer: Consumer, count: int, timeout_s: float = TIMEOUT_S) -> list[Message]:
    """Poll until ``count`` records arrived or ``timeout_s`` passed."""
    received: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(received) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        assert message.error() is None, message.error()
        received.append(message)
    return received


def _wait_for_assignment(consumer: Consumer, timeout_s: float = TIMEOUT_S) -> None:
    """Poll until the group coordinator has assigned partitions to ``consumer``."""
    deadline = time.monotonic() + timeout_s
    while not consumer.assignment() and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        assert message is None, "a consumer expected to have nothing to read received a record"
    assert consumer.assignment(), "the consumer was never assigned partitions"


def _values(messages: list[Message]) -> list[str]:
    return [(m.value() or b"").decode() for m in messages]


def test_consumer_groups_honour_committed_offsets(bootstrap: str) -> None:
    """A group resumes at its committed offsets, while another group reads from the earliest record."""
    topic = _create_topic(bootstrap, PARTITIONS)
    records = [(f"key-{i % KEYS}", f"{i}") for i in range(MESSAGES)]
    partitions_by_key = _produce(bootstrap, topic, records)
    assert all(len(partitions) == 1 for partitions in partitions_by_key.values())
    assert len({p for partitions in partitions_by_key.values() for p in partitions}) > 1
    group = f"group-{uuid.uuid4().hex[:12]}"

    first = _consumer(bootstrap, topic, group)
    try:
        received = _consume(first, MESSAGES)
        assert sorted(_values(received), key=int) == [value for _, value in records]
        for key in {key for key, _ in records}:
            per_key = [
                int(v) for m, v in zip(received, _values(received), strict=True) if m.key() == key.encode()
            ]
            assert per_key == sorted(per_key), f"records of {key} arrived out of order"
        committed = first.commit(asynchronous=False) or []
        assert sum(tp.offset for tp in committed) == MESSAGES
    finally:
        first.close()

    resumed = _consumer(bootstrap, topic, group)
    try:
        _wait_for_assignment(resumed)
        stored = resumed.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=TIMEOUT_S)
        assert sum(tp.offset for tp in stored) == MESSAGES
        assert _consume(resumed, 1, timeout_s=QUIET_WINDOW_S) == []
        _produce(bootstrap, topic, [("key-new", "new")])
        assert _values(_consume(resumed, 1)) == ["new"]
    finally:
        resumed.close()

    other = _consumer(bootstrap, topic, f"other-{uuid.uuid4().hex[:12]}")
    try:
        everything = _consume(other, MESSAGES + 1)
        assert sorted(_values(everything)) == sorted([value for _, value in records] + ["new"])
    finally:
        other.close()


# The broker is started again in a process of its own, as `folio services up` would:
# started from the test process, it would be that process's child still running when
# the suite ends (Python's "subprocess ... is still running" warning at exit).
_START_KAFKA = """
import json
from folio.core.settings import load_settings
from folio.ops.manager import ServiceManager
print(json.dumps([spec.name for spec in ServiceManager(load_settings(platform_file=None)).up(["kafka"])]))
"""


def _start_kafka_elsewhere() -> list[str]:
    """``ServiceManager.up(["kafka"])`` in a fresh process; the names of what it started."""
    done = subprocess.run(
        [sys.executable, "-c", _START_KAFKA], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    names: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return names


def test_records_survive_a_broker_restart(settings: Settings, bootstrap: str) -> None:
    """Records produced before the broker restarts are consumed after it (the log lives in S3)."""
    topic = _create_topic(bootstrap, PARTITIONS)
    records = [(f"key-{i % KEYS}", f"durable-{i}") for i in range(MESSAGES)]
    _produce(bootstrap, topic, records)

    manager = ServiceManager(settings)
    kafka = manager.all["kafka"]
    (spec,) = kafka.processes()
    before = read_pid_file(spec.pid_file)
    assert before is not None
    # Only the broker restarts: ``manager.down(["kafka"])`` would stop the object
    # store it depends on as well, and the point is that the log outlives the broker.
    assert stop(spec)
    assert _start_kafka_elsewhere() == ["kafka"]
    after = read_pid_file(spec.pid_file)
    assert after is not None
    assert after.pid != before.pid

    consumer = _consumer(bootstrap, topic, f"group-{uuid.uuid4().hex[:12]}")
    try:
        received = _consume(consumer, MESSAGES)
    finally:
        consumer.close()
    assert sorted(_values(received)) == sorted(value for _, value in records)
