"""The pipeline's Kafka topic names, all under one prefix (``streaming.topic_prefix``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FACTS_FAMILY", "TopicNames"]

FACTS_FAMILY = "orders.facts"
"""The transform stage's output family: orders events enriched (schemas under ``orders.facts/``)."""


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
    def dead_letters(self) -> str:
        """The dead-letter topic of every consumer stage."""
        return f"{self.prefix}dlq"
