"""The public surface of the folder-watch inbox.

Key contracts (docs/inbox.md): ``watch_inbox(platform, stop=...)`` loads every complete
CSV, JSON Lines or Parquet file dropped in ``inbox_folder(settings)`` into its
dataset's lake table, once per content (the ledger, by SHA-256), and moves it to
``loaded/`` or, with a reason file, to ``quarantine/``. Datasets are declared in TOML
(``inbox_datasets``). Importing this module loads neither pyarrow nor watchdog.
"""

from __future__ import annotations

from folio.inbox.datasets import (
    ColumnDeclaration,
    DatasetDeclaration,
    FileFormat,
    InvalidDeclarationError,
    load_declarations,
)
from folio.inbox.ledger import FileStatus, LedgerEntry, LedgerSummary
from folio.inbox.service import inbox_datasets, inbox_folder, inbox_status, watch_inbox, watcher_name

__all__ = [
    "ColumnDeclaration",
    "DatasetDeclaration",
    "FileFormat",
    "FileStatus",
    "InvalidDeclarationError",
    "LedgerEntry",
    "LedgerSummary",
    "inbox_datasets",
    "inbox_folder",
    "inbox_status",
    "load_declarations",
    "watch_inbox",
    "watcher_name",
]
