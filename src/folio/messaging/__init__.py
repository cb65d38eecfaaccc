"""Messaging: Folio's work queues on RabbitMQ (topology, confirmed publishing, workers, the outbox relay)."""
