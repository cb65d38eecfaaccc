"""The watcher: watchdog's events for one folder, the settle check, and per-format workers.

::

    watchdog observer thread --events--> loop: Settler (complete yet?) --> queue per format
                                                                             |
                                            workers_per_format tasks each: FileLoader.handle

- watchdog (inotify on Linux) reports files created, written, closed and renamed in the
  folder (not its sub-folders: ``loaded/`` and ``quarantine/`` are inside it). Its
  thread only hands events to the loop (``call_soon_threadsafe``); everything else runs
  on the loop.
- At start the folder is scanned too: files dropped while no watcher ran are handled.
- A file is queued once it is complete (``folio.inbox.completeness``), on the queue of
  its format: CSV, JSON Lines and Parquet each have ``inbox.workers_per_format``
  workers, so a queue of large CSV files never holds up a Parquet file; files with
  another suffix share one worker (they are quarantined at once).
- A file queued, being loaded or waiting for its retry is *active*: events about it
  are ignored until its outcome, so it is never queued twice in one watcher.
- ``run(stop)`` returns after ``stop`` is set: loads in flight finish (within the
  grace period), queued files stay in the folder for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import structlog
from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from folio.core.background import STOP_GRACE_S, stop_tasks
from folio.inbox import metrics
from folio.inbox.completeness import Settler, is_temporary
from folio.inbox.datasets import FileFormat, format_of
from folio.inbox.loader import FileLoader, FileOutcome, Handled

__all__ = ["InboxWatcher"]

log = structlog.get_logger(__name__)

_FAILED_HANDLE_RETRY_S = 30.0
"""Wait before a file whose handling raised (the ledger's database unreachable) is tried again."""

_Route = FileFormat | None
"""A worker pool: one per format, and one (None) for files of no known format."""


class _Forward(FileSystemEventHandler):
    """Hands each file event from watchdog's thread to the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[str, Path], None]) -> None:
        self.loop = loop
        self.deliver = deliver

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        path = Path(str(event.src_path))
        if isinstance(event, FileMovedEvent):
            self.loop.call_soon_threadsafe(self.deliver, "gone", path)
            self.loop.call_soon_threadsafe(self.deliver, "seen", Path(str(event.dest_path)))
        elif isinstance(event, FileDeletedEvent):
            self.loop.call_soon_threadsafe(self.deliver, "gone", path)
        elif isinstance(event, FileCreatedEvent | FileModifiedEvent | FileClosedEvent):
            # FileClosedEvent is a close after writing (inotify's IN_CLOSE_WRITE); opens and
            # read-only closes (the loader's own reads among them) say nothing new.
            self.loop.call_soon_threadsafe(self.deliver, "seen", path)


class InboxWatcher:
    """Watches ``folder`` and hands its complete files to ``loader`` (see the module docstring)."""

    def __init__(
        self,
        folder: Path,
        loader: FileLoader,
        *,
        settle_s: float,
        poll_interval_s: float,
        workers_per_format: int,
        settler: Settler | None = None,
        on_outcome: Callable[[Path, FileOutcome], None] | None = None,
    ) -> None:
        """``on_outcome`` hears every file's outcome; ``settler`` replaces the default one (tests)."""
        self.folder = folder.absolute()
        self.loader = loader
        self.poll_interval_s = poll_interval_s
        self.workers_per_format = workers_per_format
        self.settler = settler or Settler(settle_s=settle_s)
        self.on_outcome = on_outcome
        self._active: set[Path] = set()
        self._queues: dict[_Route, asyncio.Queue[Path | None]] = {}
        self._retries: list[asyncio.TimerHandle] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop`` is set (see the module docstring)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        routes: list[_Route] = [*FileFormat, None]
        self._queues = {route: asyncio.Queue() for route in routes}
        workers = [
            asyncio.create_task(self._work(route), name=f"inbox-{route or 'other'}-{n}")
            for route in routes
            for n in range(self.workers_per_format if route is not None else 1)
        ]
        observer = Observer()
        observer.schedule(_Forward(loop, self._deliver), str(self.folder), recursive=False)
        observer.start()
        try:
            # After the observer starts: a file dropped during the scan is seen either way.
            for entry in sorted(self.folder.iterdir()):
                if entry.is_file():
                    self._deliver("seen", entry)
            log.info("inbox.watching", folder=str(self.folder), settle_s=self.settler.settle_s)
            while not stop.is_set():
                for path in self.settler.due():
                    self._enqueue(path)
                metrics.SETTLING.set(len(self.settler))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_interval_s)
        finally:
            observer.stop()
            await asyncio.to_thread(observer.join, STOP_GRACE_S)
            for handle in self._retries:
                handle.cancel()
            for route in routes:
                for _ in range(self.workers_per_format):
                    self._queues[route].put_nowait(None)  # a worker ends at its first None
            _, pending = await asyncio.wait(workers, timeout=STOP_GRACE_S)
            await stop_tasks(pending)
            log.info("inbox.stopped", folder=str(self.folder))

    def _deliver(self, what: str, path: Path) -> None:
        """One event, on the loop: a file to wait for, or one that went away."""
        if path.parent != self.folder:
            return  # moved into loaded/ or quarantine/, or an event from elsewhere
        if what == "gone":
            self.settler.forget(path)
        elif path not in self._active and not is_temporary(path):
            self.settler.observe(path)

    def _enqueue(self, path: Path) -> None:
        self._active.add(path)
        self._queues[format_of(path)].put_nowait(path)

    async def _work(self, route: _Route) -> None:
        queue = self._queues[route]
        while (path := await queue.get()) is not None:
            try:
                outcome = await self.loader.handle(path)
            except Exception as exc:  # noqa: BLE001 - the ledger is down: keep the file, try later
                log.warning(
                    "inbox.handle_failed", file=path.name, error=repr(exc), retry_in_s=_FAILED_HANDLE_RETRY_S
                )
                self._retry_later(_FAILED_HANDLE_RETRY_S, path)
                continue
            if outcome.handled is Handled.RETRY:
                self._retry_later(outcome.retry_in_s, path)
            else:
                self._active.discard(path)
            if self.on_outcome is not None:
                self.on_outcome(path, outcome)

    def _retry_later(self, delay_s: float, path: Path) -> None:
        loop = asyncio.get_running_loop()
        self._retries = [handle for handle in self._retries if handle.when() > loop.time()]  # drop fired ones
        self._retries.append(loop.call_later(delay_s, self._enqueue, path))
