"""The pipeline's Kafka topic names, all under one prefix (``streaming.topic_prefix``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FACTS_FAMILY", "LATE_FAMILY", "WINDOWS_FAMILY", "TopicNames"]

FACTS_FAMILY = "orders.facts"
"""The transform stage's output family: orders events enriched (schemas under ``orders.facts/``)."""
WINDOWS_FAMILY = "orders.windows"
"""The windows stage's output family: per-shop minute totals (schemas under ``orders.windows/``)."""
LATE_FAMILY = "orders.late"
"""The windows stage's side output: facts too late for their window, as read, with ``late-*`` headers."""


@dataclass(frozen=True)
class TopicNames:
    """``folio.orders`` and friends: a test gives its own prefix and shares nothing."""

    prefix: str = "folio."

    def family(self, family: str) -> str:
        """The topic of one event family (an outbox topic, or ``orders.facts``)."""
        return f"{self.prefix}{family}"

    @property
    def facts(self) -> str:
        """The transform's output topic, the sink's input."""
        return self.family(FACTS_FAMILY)

    @property
    def windows(self) -> str:
        """The windows stage's output topic: each window's emissions, keyed by shop."""
        return self.family(WINDOWS_FAMILY)

    @property
    def late(self) -> str:
        """The windows stage's side output: the facts whose window had closed."""
        return self.family(LATE_FAMILY)

    @property
    def dead_letters(self) -> str:
        """The dead-letter topic of every consumer stage."""
        return f"{self.prefix}dlq"
