"""A consumer stage started before its broker waits for it, and stops waiting when told to."""

from __future__ import annotations

import asyncio

import pytest

from folio.core.settings import Settings
from folio.streaming.api import Streams
from folio.streaming.consumer import StreamConsumer
from folio.streaming.producer import DeliveryError

pytestmark = pytest.mark.unit


class FlakyBroker:
    """``ensure_topics`` as a broker answers it: unreachable ``failures`` times, then fine (or refusing)."""

    def __init__(self, failures: int, *, then: DeliveryError | None = None) -> None:
        self.failures = failures
        self.then = then
        self.calls = 0

    async def __call__(self, *families: str) -> None:
        """Fail, succeed or refuse, by the call's number; ``families`` must be some."""
        assert families
        self.calls += 1
        if self.calls <= self.failures:
            raise DeliveryError("cannot list topics: transport failure", broker_down=True)
        if self.then is not None:
            raise self.then


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> Streams:
    """Streams on an address nothing listens on, with short pauses between tries."""
    monkeypatch.setattr(StreamConsumer, "MIN_BACKOFF_S", 0.01)
    return Streams(Settings().streaming, bootstrap_servers="127.0.0.1:9")


async def test_a_stage_waits_for_an_unreachable_broker_then_goes_on(
    streams: Streams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three failed tries, then the topics exist: ready, after four calls."""
    broker = FlakyBroker(3)
    monkeypatch.setattr(streams, "ensure_topics", broker)

    assert await streams.topics_ready(asyncio.Event(), "orders") is True
    assert broker.calls == 4


async def test_stop_ends_the_wait(streams: Streams, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broker that never comes: the stage returns not ready once ``stop`` is set."""
    monkeypatch.setattr(streams, "ensure_topics", FlakyBroker(10**6))
    stop = asyncio.Event()
    waiting = asyncio.create_task(streams.topics_ready(stop, "orders"))
    await asyncio.sleep(0.1)
    assert not waiting.done()

    stop.set()

    assert await asyncio.wait_for(waiting, timeout=5) is False


async def test_a_refusal_other_than_absence_is_raised(
    streams: Streams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker that answers and refuses to create the topic is not waited out."""
    refusal = DeliveryError("cannot create folio.orders: policy violation", broker_down=False)
    monkeypatch.setattr(streams, "ensure_topics", FlakyBroker(1, then=refusal))

    with pytest.raises(DeliveryError, match="policy violation"):
        await streams.topics_ready(asyncio.Event(), "orders")
