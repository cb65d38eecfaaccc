"""Folio's own trace backend: an OTLP/HTTP receiver with tail sampling, a bounded store, search pages."""
