"""The public surface of ``folio.datasets``: the manifest, the fetcher and the streaming readers.

Fetch first (``fetch(name, data_dir=...)`` returns the folder), then read:
``read_book_crossing_books(folder)`` yields one ``RawRow`` per line (fields or an error, never
validated), ``read_public_domain_texts(name, folder)`` one ``PublicDomainText`` per work.
"""

from __future__ import annotations

from folio.datasets.archives import UnreadableArchiveError, UnsafeArchiveError
from folio.datasets.bookcrossing import (
    BOOK_FIELDS,
    RATING_FIELDS,
    USER_FIELDS,
    RawRow,
    read_book_crossing_books,
    read_book_crossing_ratings,
    read_book_crossing_users,
)
from folio.datasets.catalog import (
    DataSource,
    InvalidManifestError,
    UnknownDatasetError,
    get_source_or_raise,
    load_sources,
)
from folio.datasets.errors import DatasetFormatError, DatasetNotFetchedError
from folio.datasets.fetch import ChecksumMismatchError, fetch, is_fetched
from folio.datasets.texts import NotATextSourceError, PublicDomainText, read_public_domain_texts

__all__ = [
    "BOOK_FIELDS",
    "RATING_FIELDS",
    "USER_FIELDS",
    "ChecksumMismatchError",
    "DataSource",
    "DatasetFormatError",
    "DatasetNotFetchedError",
    "InvalidManifestError",
    "NotATextSourceError",
    "PublicDomainText",
    "RawRow",
    "UnknownDatasetError",
    "UnreadableArchiveError",
    "UnsafeArchiveError",
    "fetch",
    "get_source_or_raise",
    "is_fetched",
    "load_sources",
    "read_book_crossing_books",
    "read_book_crossing_ratings",
    "read_book_crossing_users",
    "read_public_domain_texts",
]
