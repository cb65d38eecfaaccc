"""The ``inbox`` section: which folder the inbox watches, when a file counts as complete, how failures retry.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import model_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting


class InboxSettings(FolioSettingsBase):
    """The folder-watch inbox: its folder, completeness rule, workers, retry policy and metrics port."""

    settings_path = ("inbox",)

    path: Path | None = setting(
        None,
        description="The folder the inbox watches (`quarantine/` and `loaded/` are made inside it); "
        "unset: `<home>/inbox`.",
    )
    datasets_file: Path | None = setting(
        None,
        description="A TOML file of dataset declarations used instead of the built-in ones "
        "(`folio/inbox/datasets.toml`; same shape, see docs/inbox.md).",
    )
    settle_s: float = setting(
        2.0,
        ge=0,
        le=3_600,
        description="How long a file's size and modification time must stay unchanged (and no process "
        "hold it open for writing) before it is read. A file renamed into the folder still waits this.",
    )
    poll_interval_s: float = setting(
        0.5, gt=0, le=60, description="How often files waiting to settle are looked at again."
    )
    workers_per_format: int = setting(
        2,
        ge=1,
        le=32,
        description="Files of one format (CSV, JSON Lines, Parquet) loaded at once; each format has its "
        "own workers, so a queue of large CSVs never holds up a Parquet file.",
    )
    max_attempts: int = setting(
        3,
        ge=1,
        le=50,
        description="Attempts at a file that fails for a reason that may pass (the database or the lake "
        "down, a read error); after the last one it is quarantined. An invalid file is quarantined "
        "at its first attempt: reading it again changes nothing.",
    )
    first_backoff_s: float = setting(
        2.0, ge=0, le=3_600, description="Wait after a file's first failed attempt; doubled after each one."
    )
    max_backoff_s: float = setting(
        60.0, ge=0, le=86_400, description="The longest wait between two attempts at one file."
    )
    lease_s: float = setting(
        600.0,
        gt=0,
        le=86_400,
        description="How long a watcher's claim on a file holds before another watcher may take it over "
        "(a watcher that died mid-load); longer than any one load.",
    )
    metrics_host: str = setting(LOOPBACK, description="Interface the watcher's Prometheus `/metrics` binds.")
    metrics_port: int = setting(
        21481,
        ge=0,
        le=65_535,
        description="Port of the watcher's Prometheus `/metrics` (HTTP); 0: not served.",
    )

    @model_validator(mode="after")
    def _backoff_in_order(self) -> Self:
        if self.max_backoff_s < self.first_backoff_s:
            raise ValueError("inbox.max_backoff_s must be at least inbox.first_backoff_s")
        return self
