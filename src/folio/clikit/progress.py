"""Rich progress bars for long commands: install and start phases, per-shop data migrations."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

if TYPE_CHECKING:
    from folio.core.data_migrations import DataMigration, TenantTarget

__all__ = ["RichMigrationProgress", "RichReporter"]


class _LiveProgress:
    """A rich ``Progress`` shown while the ``with`` block runs (the subclass builds ``_progress``)."""

    _progress: Progress

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()


class RichReporter(_LiveProgress):
    """Draws install and start phases as progress bars (``folio.ops.reporting.Reporter``, by its shape)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._phase = ""

    def begin(self, total: int, description: str) -> None:
        """Start a bar for a new phase."""
        self._phase = description
        self._task = self._progress.add_task(description, total=total)

    def step(self, description: str) -> None:
        """Advance to the next step (the previous one is complete)."""
        if self._task is None:
            return
        task = self._progress.tasks[self._task]
        if task.description != self._phase:
            self._progress.advance(self._task)
        self._progress.update(self._task, description=f"{self._phase}: {description}")

    def done(self, description: str) -> None:
        """Complete the bar."""
        if self._task is not None:
            self._progress.update(
                self._task, description=description, completed=self._progress.tasks[self._task].total
            )
        self._task = None


class RichMigrationProgress(_LiveProgress):
    """Draws one progress bar per data migration, advancing a shop at a time.

    The progress ``folio.core.data_migrations.apply_data_migrations`` reports to.
    """

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rows]} row(s)"),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}

    def begin(self, migration: DataMigration, total: int) -> None:
        """Start the migration's bar."""
        self._tasks[migration.id] = self._progress.add_task(migration.id, total=total, rows=0)

    def advance(self, migration: DataMigration, tenant: TenantTarget, rows: int | None) -> None:
        """One more shop done for the migration."""
        task = self._tasks[migration.id]
        done = self._progress.tasks[task].fields["rows"] + (rows or 0)
        self._progress.update(task, advance=1, rows=done, description=f"{migration.id}: {tenant.label}")
