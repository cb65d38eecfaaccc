"""The inbox's use cases: watch a folder until told to stop, and read the ledger's summary."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from folio.inbox.datasets import DatasetDeclaration, load_declarations
from folio.inbox.ledger import LedgerSummary, ledger_summary

if TYPE_CHECKING:
    from folio.core.db import Database
    from folio.core.platform import Platform
    from folio.core.settings import Settings
    from folio.inbox.loader import FileOutcome

__all__ = ["inbox_datasets", "inbox_folder", "inbox_status", "watch_inbox", "watcher_name"]


def inbox_folder(settings: Settings) -> Path:
    """The folder the inbox watches: ``inbox.path``, else ``<home>/inbox``."""
    return Path(settings.inbox.path or Path(settings.home) / "inbox")


def inbox_datasets(settings: Settings) -> dict[str, DatasetDeclaration]:
    """The dataset declarations in force: ``inbox.datasets_file``'s, else the built-in ones."""
    return load_declarations(settings.inbox.datasets_file)


def watcher_name() -> str:
    """This process's name in the ledger's claims: ``<host>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def watch_inbox(
    platform: Platform,
    *,
    stop: asyncio.Event,
    folder: Path | None = None,
    settle_s: float | None = None,
    on_outcome: Callable[[Path, FileOutcome], None] | None = None,
) -> None:
    """Watch ``folder`` (default ``inbox_folder``) and load its files into the platform's lake until ``stop``.

    ``settle_s`` overrides ``inbox.settle_s``; ``on_outcome`` hears each file's outcome.

    Preconditions: the platform's database is migrated (the ledger, ``inbox_files``) and
    its lake slot is wired (bootstrap does both in every process).
    """
    # watchdog and pyarrow load here, in the one process that watches.
    from folio.inbox.loader import FileLoader
    from folio.inbox.watcher import InboxWatcher
    from folio.lake.api import LAKE

    settings = platform.settings
    config = settings.inbox
    loader = FileLoader(
        database=platform.database,
        lake=platform.get(LAKE),
        datasets=inbox_datasets(settings),
        settings=config,
        owner=watcher_name(),
    )
    watcher = InboxWatcher(
        folder or inbox_folder(settings),
        loader,
        settle_s=config.settle_s if settle_s is None else settle_s,
        poll_interval_s=config.poll_interval_s,
        workers_per_format=config.workers_per_format,
        on_outcome=on_outcome,
    )
    await watcher.run(stop)


async def inbox_status(database: Database, *, failures: int = 10) -> LedgerSummary:
    """The ledger's summary: files per status, rows loaded, the ``failures`` latest failures."""
    return await ledger_summary(database, failures=failures)
