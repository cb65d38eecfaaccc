"""The public surface of ``folio.datasets``: the manifest and the fetcher."""

from __future__ import annotations

from folio.datasets.catalog import DataSource, UnknownDatasetError, get_source_or_raise, load_sources
from folio.datasets.fetch import ChecksumMismatchError, fetch, is_fetched

__all__ = [
    "ChecksumMismatchError",
    "DataSource",
    "UnknownDatasetError",
    "fetch",
    "get_source_or_raise",
    "is_fetched",
    "load_sources",
]
