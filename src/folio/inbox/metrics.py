"""The inbox's Prometheus metrics, in the default registry, served on ``inbox.metrics_port``.

Module-level for the reason the cache's are (``folio.core.cache.metrics``): the default
registry refuses a second metric of one name, so the families exist once per process
and every watcher labels them. ``dataset`` is a declared dataset's name, or
``unknown`` for a file that matches none; ``format`` is ``csv``, ``jsonl`` or
``parquet`` (``unknown`` for another suffix).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["FAILURES", "FILES", "LOAD_SECONDS", "ROWS", "SETTLING"]

FILES = Counter(
    "folio_inbox_files_total",
    "Files the inbox finished with, by outcome: loaded, duplicate (its content loaded before), quarantined.",
    ["dataset", "format", "outcome"],
)
ROWS = Counter("folio_inbox_rows_total", "Rows the inbox appended to the lake.", ["dataset"])
FAILURES = Counter(
    "folio_inbox_failures_total",
    "Failed attempts at a file, by kind: invalid (quarantined at once) or transient (retried).",
    ["dataset", "kind"],
)
LOAD_SECONDS = Histogram(
    "folio_inbox_load_seconds",
    "Time from a file's claim to its outcome (hash, read, validate, append; retries' waits excluded).",
    ["format"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
SETTLING = Gauge(
    "folio_inbox_settling_files", "Files seen in the inbox folder and not yet complete (waiting to settle)."
)
