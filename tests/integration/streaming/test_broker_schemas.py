"""Tansu refuses what the event schemas refuse: a broker of the test's own, started with the registry."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer

from folio.streaming.api import TopicNames, aggregate_key, ensure_topics, producer_config
from tests.integration.streaming.conftest import OwnBroker, order_payload
from tests.integration.streaming.test_pipeline import read_topic

pytestmark = pytest.mark.integration


def _produce(producer: Producer, topic: str, key: bytes, value: bytes) -> KafkaError | None:
    """Produce one record and wait for its delivery report: the broker's error, or ``None``."""
    reports: list[KafkaError | None] = []
    producer.produce(topic, key=key, value=value, on_delivery=lambda error, _message: reports.append(error))
    producer.flush(30)
    assert len(reports) == 1, "no delivery report"
    return reports[0]


def _encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


async def test_the_broker_refuses_a_value_no_schema_of_its_topic_accepts(
    own_broker: OwnBroker,
) -> None:
    """A paid order is written; a negative total is refused with INVALID_RECORD and never stored.

    The key is Folio's ``<shop>:<order>`` text: the registry leaves keys free. After a
    refusal Tansu 0.6 fences the idempotent producer (a fresh one carries on), and the
    dead-letter topic, with no schema, takes any bytes.
    """
    names = TopicNames(own_broker.settings.streaming.topic_prefix)
    orders = names.family("orders")
    await ensure_topics(own_broker.bootstrap, [orders, names.dead_letters], partitions=1)
    config = producer_config(own_broker.bootstrap, delivery_timeout_s=10.0, client_id="broker-schemas-test")
    order = uuid.uuid4()
    key = aggregate_key(uuid.uuid4(), str(order)).encode()
    paid = order_payload(order, "paid", version=2)
    delivered = {**paid, "version": 3}

    first = Producer(config)
    assert _produce(first, orders, key, _encoded(paid)) is None
    refused = _produce(first, orders, key, _encoded({**paid, "total_minor": -1}))
    fenced = _produce(first, orders, key, _encoded(paid))
    second = Producer(config)
    dead_letter = _produce(second, names.dead_letters, key, b"not JSON at all")
    after = _produce(second, orders, key, _encoded(delivered))

    assert refused is not None
    assert refused.code() == KafkaError.INVALID_RECORD
    assert fenced is not None
    assert fenced.code() == KafkaError.PRODUCER_FENCED
    assert dead_letter is None
    assert after is None
    stored = [json.loads(message.value()) for message in read_topic(own_broker.bootstrap, orders, 2)]
    assert stored == [paid, delivered]
