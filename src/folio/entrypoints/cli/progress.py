"""A rich progress bar that implements ``folio.ops.reporting.Reporter``."""

from __future__ import annotations

from types import TracebackType

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


class RichReporter:
    """Draws install and start phases as progress bars on the console."""

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

    def __enter__(self) -> RichReporter:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

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
