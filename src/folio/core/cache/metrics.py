"""The cache's Prometheus metrics, per cache name and layer, in the default registry.

Why module-level: the default registry (the one the gateway's ``/metrics`` and the
workers' exporters read) refuses a second metric of one name, so the families are
created once per process and every ``Cache`` labels them with its name. Layers are
``l1`` (this process) and ``l2`` (Redis); the origin is what a miss finally calls.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "EARLY_REFRESHES",
    "EVICTIONS",
    "FILLS_REFUSED",
    "HITS",
    "MISSES",
    "ORIGIN_CALLS",
    "ORIGIN_SECONDS",
    "STALE_SERVES",
    "WRITE_BACK_FLUSHED",
    "WRITE_BACK_PENDING",
]

_LABELS = ["cache", "layer"]

HITS = Counter("folio_cache_hits_total", "Reads a cache layer answered with a fresh value.", _LABELS)
MISSES = Counter("folio_cache_misses_total", "Reads a cache layer could not answer.", _LABELS)
STALE_SERVES = Counter(
    "folio_cache_stale_serves_total",
    "Reads answered with a value past its TTL but inside its stale window (a refresh ran behind).",
    _LABELS,
)
EVICTIONS = Counter(
    "folio_cache_evictions_total", "Entries a layer's entry or byte bound pushed out.", _LABELS
)
ORIGIN_CALLS = Counter(
    "folio_cache_origin_calls_total", "Calls to the origin (the loader), failed ones included.", ["cache"]
)
ORIGIN_SECONDS = Histogram(
    "folio_cache_origin_seconds", "Time the origin (the loader) took per call.", ["cache"]
)
EARLY_REFRESHES = Counter(
    "folio_cache_early_refreshes_total",
    "Background refreshes of a still-fresh value started by probabilistic early refresh (XFetch).",
    ["cache"],
)
FILLS_REFUSED = Counter(
    "folio_cache_fills_refused_total",
    "Loaded values not stored in L2 because the key or a tag was invalidated while the origin was read.",
    ["cache"],
)
WRITE_BACK_FLUSHED = Counter(
    "folio_cache_write_back_flushed_total", "Writes a write-back buffer handed to its origin.", ["buffer"]
)
WRITE_BACK_PENDING = Gauge(
    "folio_cache_write_back_pending",
    "Writes a write-back buffer holds that its origin has not seen (lost if the process is killed).",
    ["buffer"],
)
