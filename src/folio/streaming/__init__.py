"""The event pipeline on Kafka: outbox relay, schemas, consumer stages, analytics sink (docs/events.md)."""
