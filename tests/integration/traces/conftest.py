"""The brokers' fixtures the trace tests share with the messaging and streaming tests (no copies)."""

from tests.integration.messaging.conftest import broker, work_queue
from tests.integration.streaming.conftest import private

__all__ = ["broker", "private", "work_queue"]
