"""One complete file, start to finish: hash, claim, read and validate, append to the lake, record, move.

``FileLoader.handle`` is what every worker runs for a file the watcher found complete.
Its outcomes:

- ``LOADED``: the rows are in the lake table (``source`` in the manifest is
  ``inbox:<name>#sha256:<hash>``), the ledger says ``loaded``, the file is in ``loaded/``.
- ``DUPLICATE``: the ledger has that content loaded already; nothing is appended and
  the file goes to ``loaded/`` too.
- ``BUSY``: another watcher holds the file; it is left alone (that watcher moves it).
- ``RETRY``: an attempt failed for a reason that may pass (the lake's store or the
  database down, a read error); the watcher tries again after ``retry_in_s``.
- ``QUARANTINED``: the file is invalid (``InvalidFileError``, ``LakeSchemaError``:
  reading it again changes nothing), is no dataset's, or failed ``inbox.max_attempts``
  times; it is in ``quarantine/`` with ``<name>.reason.txt``.
- ``GONE``: it vanished before it was read (renamed, deleted).

A watcher that died after the lake append and before the ledger write leaves a row in
``loading``; whoever takes it over (``Claim.taken_over``) first looks for the file's
``source`` in the table's manifest, so the rows are never appended twice.

Each attempt is an ``inbox load`` span (a root: a dropped file carries no trace context)
with the file's name, dataset, format and outcome; a retry or a quarantine marks it an
error, so tail sampling keeps its trace, and ``folio_inbox_load_seconds`` carries its trace
id as exemplar.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from folio.core.columns import utcnow
from folio.core.errors import ValidationFailedError
from folio.core.exemplars import observe
from folio.core.outbox import RetryPolicy
from folio.core.telemetry import mark_error, tracer
from folio.inbox import metrics
from folio.inbox.datasets import DatasetDeclaration, FileFormat, dataset_for, format_of
from folio.inbox.files import move_to_loaded, quarantine, sha256_of
from folio.inbox.ledger import Claim, ClaimOutcome, claim_file, record_failure, record_loaded
from folio.lake.api import Lake, LakeTable, LakeTableNotFoundError

if TYPE_CHECKING:
    from folio.core.db import Database
    from folio.inbox.settings import InboxSettings

__all__ = ["FileLoader", "FileOutcome", "Handled", "lake_table", "source_of"]

log = structlog.get_logger(__name__)

UNKNOWN = "unknown"
"""The dataset and format label of a file that matches no declaration or no reader."""


class Handled(StrEnum):
    """What became of a file (see the module docstring)."""

    LOADED = "loaded"
    DUPLICATE = "duplicate"
    BUSY = "busy"
    RETRY = "retry"
    QUARANTINED = "quarantined"
    GONE = "gone"


@dataclass(frozen=True)
class FileOutcome:
    """The outcome of one attempt at one file."""

    handled: Handled
    rows: int = 0
    moved_to: Path | None = None
    retry_in_s: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class _Labels:
    """A file's metric labels: its dataset and format, or ``unknown``."""

    dataset: str
    format: str


def source_of(name: str, content_hash: str) -> str:
    """The ``source`` the lake records for a file's rows: ``inbox:<name>#sha256:<hash>``."""
    return f"inbox:{name}#sha256:{content_hash}"


class FileLoader:
    """Loads complete inbox files into the lake, once per content (see the module docstring)."""

    def __init__(
        self,
        *,
        database: Database,
        lake: Lake,
        datasets: dict[str, DatasetDeclaration],
        settings: InboxSettings,
        owner: str,
    ) -> None:
        """``owner`` names this watcher in the ledger's claims (host and PID: unique per process)."""
        self.database = database
        self.lake = lake
        self.datasets = datasets
        self.settings = settings
        self.owner = owner
        self.policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            first_backoff_s=settings.first_backoff_s,
            max_backoff_s=settings.max_backoff_s,
        )
        self._tables = {name: lake_table(dataset) for name, dataset in datasets.items()}

    async def handle(self, path: Path) -> FileOutcome:
        """One attempt at the complete file ``path``; ``FileOutcome`` says what became of it.

        Raises only what the ledger raises (the database unreachable through its own
        retries): the caller tries the file again later.
        """
        file_format = format_of(path)
        dataset = dataset_for(path, self.datasets)
        labels = _Labels(dataset.name if dataset else UNKNOWN, file_format.value if file_format else UNKNOWN)
        attributes = {"inbox.file": path.name, "inbox.dataset": labels.dataset, "inbox.format": labels.format}
        with tracer().start_as_current_span(
            "inbox load", attributes=attributes, record_exception=True, set_status_on_exception=True
        ) as span:
            outcome = await self._handle(path, dataset, file_format, labels)
            span.set_attribute("inbox.outcome", outcome.handled.value)
            if outcome.handled in {Handled.RETRY, Handled.QUARANTINED}:
                mark_error(span, outcome.error or outcome.handled.value)
            return outcome

    async def _handle(
        self,
        path: Path,
        dataset: DatasetDeclaration | None,
        file_format: FileFormat | None,
        labels: _Labels,
    ) -> FileOutcome:
        dataset_label, format_label = labels.dataset, labels.format
        try:
            content_hash = await asyncio.to_thread(sha256_of, path)
        except FileNotFoundError:
            return FileOutcome(Handled.GONE)
        claim = await claim_file(
            self.database,
            content_hash=content_hash,
            file_name=path.name,
            dataset=dataset_label,
            table_name=dataset.table if dataset else UNKNOWN,
            owner=self.owner,
            lease_s=self.settings.lease_s,
        )
        if claim.outcome is ClaimOutcome.BUSY:
            return FileOutcome(Handled.BUSY)
        if claim.outcome is ClaimOutcome.DUPLICATE:
            moved = await asyncio.to_thread(move_to_loaded, path, content_hash=content_hash)
            metrics.FILES.labels(dataset_label, format_label, Handled.DUPLICATE.value).inc()
            log.info("inbox.duplicate", file=path.name, sha256=content_hash)
            return FileOutcome(Handled.DUPLICATE, moved_to=moved)
        started = time.perf_counter()
        try:
            return await self._attempt(path, content_hash, claim, dataset, file_format)
        finally:
            observe(metrics.LOAD_SECONDS.labels(format_label), time.perf_counter() - started)

    async def _attempt(
        self,
        path: Path,
        content_hash: str,
        claim: Claim,
        dataset: DatasetDeclaration | None,
        file_format: FileFormat | None,
    ) -> FileOutcome:
        """Read, validate and append the claimed file; record and move it by the outcome."""
        labels = _Labels(dataset.name if dataset else UNKNOWN, file_format.value if file_format else UNKNOWN)
        attempt = claim.attempts + 1
        if dataset is None or file_format is None:
            reason = (
                f"{path.name}: no declared dataset or format matches this name; a file is "
                f"`<dataset>[-…].csv|.jsonl|.ndjson|.parquet` with a dataset of {sorted(self.datasets)}"
            )
            metrics.FAILURES.labels(labels.dataset, "invalid").inc()
            return await self._quarantine(path, content_hash, attempt, reason, labels)
        try:
            rows = await self._load(path, dataset, file_format, content_hash, taken_over=claim.taken_over)
        except ValidationFailedError as exc:  # InvalidFileError, LakeSchemaError: the file itself is wrong
            metrics.FAILURES.labels(labels.dataset, "invalid").inc()
            return await self._quarantine(path, content_hash, attempt, str(exc), labels)
        except Exception as exc:  # noqa: BLE001 - anything else may pass: the retry policy decides
            metrics.FAILURES.labels(labels.dataset, "transient").inc()
            return await self._failed(path, content_hash, attempt, f"{type(exc).__name__}: {exc}", labels)
        await record_loaded(self.database, content_hash=content_hash, rows=rows)
        moved = await asyncio.to_thread(move_to_loaded, path, content_hash=content_hash)
        metrics.FILES.labels(labels.dataset, labels.format, Handled.LOADED.value).inc()
        metrics.ROWS.labels(labels.dataset).inc(rows)
        log.info("inbox.loaded", file=path.name, dataset=labels.dataset, rows=rows, sha256=content_hash)
        return FileOutcome(Handled.LOADED, rows=rows, moved_to=moved)

    async def _failed(
        self, path: Path, content_hash: str, attempt: int, error: str, labels: _Labels
    ) -> FileOutcome:
        """A failed attempt that may pass: retry after the policy's backoff, or quarantine after the last."""
        if attempt >= self.policy.max_attempts:
            reason = f"failed {attempt} time(s), the last: {error}"
            return await self._quarantine(path, content_hash, attempt, reason, labels)
        delay = self.policy.backoff_s(attempt)
        await record_failure(
            self.database,
            content_hash=content_hash,
            error=error,
            quarantined=False,
            # Held through the backoff: no other watcher retries it meanwhile.
            hold_until=utcnow() + dt.timedelta(seconds=delay + self.settings.lease_s),
        )
        log.warning("inbox.retry", file=path.name, attempt=attempt, retry_in_s=delay, error=error)
        return FileOutcome(Handled.RETRY, retry_in_s=delay, error=error)

    async def _load(
        self,
        path: Path,
        dataset: DatasetDeclaration,
        file_format: FileFormat,
        content_hash: str,
        *,
        taken_over: bool,
    ) -> int:
        """Append the file's rows to its table unless an earlier attempt did; the rows it holds."""
        from folio.inbox.validation import read_file  # pyarrow: only where files are read

        table = self._tables[dataset.name]
        source = source_of(path.name, content_hash)
        if taken_over:
            earlier = await asyncio.to_thread(self._rows_from, table.name, content_hash)
            if earlier is not None:
                log.info("inbox.already_in_lake", file=path.name, rows=earlier, sha256=content_hash)
                return earlier
        rows = await asyncio.to_thread(read_file, path, dataset, file_format)
        report = await asyncio.to_thread(self.lake.append, table, rows, source=source)
        return report.rows

    def _rows_from(self, table: str, content_hash: str) -> int | None:
        """Rows the table's manifest holds from this content (any file name), or None when none."""
        try:
            manifest = self.lake.manifest(table)
        except LakeTableNotFoundError:
            return None
        suffix = f"#sha256:{content_hash}"
        files = [file for file in manifest.files if file.source and file.source.endswith(suffix)]
        return sum(file.rows for file in files) if files else None

    async def _quarantine(
        self, path: Path, content_hash: str, attempt: int, error: str, labels: _Labels
    ) -> FileOutcome:
        await record_failure(self.database, content_hash=content_hash, error=error, quarantined=True)
        reason = "\n".join(
            [
                f"file: {path.name}",
                f"sha256: {content_hash}",
                f"dataset: {labels.dataset}",
                f"attempts: {attempt}",
                f"quarantined at: {utcnow().isoformat(timespec='seconds')}",
                f"by: {self.owner}",
                "",
                error,
            ]
        )
        moved = await asyncio.to_thread(quarantine, path, content_hash=content_hash, reason=reason)
        metrics.FILES.labels(labels.dataset, labels.format, Handled.QUARANTINED.value).inc()
        log.warning("inbox.quarantined", file=path.name, attempts=attempt, error=error)
        return FileOutcome(Handled.QUARANTINED, moved_to=moved, error=error)


def lake_table(dataset: DatasetDeclaration) -> LakeTable:
    """The lake table a dataset's rows land in."""
    return LakeTable(
        name=dataset.table,
        schema=dataset.schema(),
        partition_by=dataset.partition_by,
        schema_version=dataset.schema_version,
        description=dataset.description,
    )
