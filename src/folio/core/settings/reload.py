"""Dynamic reload: re-read the settings on SIGHUP or when the config file changes.

Only fields declared ``reloadable`` change in a running process; a change to any
other field is reported as needing a restart and the running value is kept, so a
half-applied configuration can never exist.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import RELOADABLE, has_marker
from folio.core.settings.loader import SettingsError
from folio.core.settings.tree import Settings

log = structlog.get_logger(__name__)

ReloadListener = Callable[[Settings, list[str]], None]


@dataclass
class ReloadResult:
    """What one reload did: the paths it applied and those that need a restart."""

    applied: list[str] = field(default_factory=list)
    needs_restart: list[str] = field(default_factory=list)
    error: str | None = None


class SettingsReloader:
    """Keeps a live ``Settings`` object up to date with its sources.

    ``load`` builds a fresh tree (usually ``functools.partial(load_settings, ...)``);
    listeners are called with the live settings and the changed paths after every
    reload that applied something.
    """

    def __init__(self, settings: Settings, load: Callable[[], Settings]) -> None:
        self.settings = settings
        self._load = load
        self._listeners: list[ReloadListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def subscribe(self, listener: ReloadListener) -> None:
        """Call ``listener(settings, changed_paths)`` after each applied reload."""
        self._listeners.append(listener)

    def reload(self) -> ReloadResult:
        """Re-read the sources now and apply the reloadable changes."""
        try:
            fresh = self._load()
        except SettingsError as exc:
            log.error("settings.reload_rejected", error=str(exc))  # noqa: TRY400 - the problems say it all
            return ReloadResult(error=str(exc))
        result = ReloadResult()
        with self._lock:
            _apply(self.settings, fresh, (), result)
        if result.needs_restart:
            log.warning("settings.restart_required", paths=result.needs_restart)
        if result.applied:
            log.info("settings.reloaded", paths=result.applied)
            for listener in self._listeners:
                listener(self.settings, result.applied)
        return result

    def install_sighup(self) -> None:
        """Reload on SIGHUP (call from the main thread).

        The reload runs on its own thread: run inside the handler, a SIGHUP arriving
        while the main thread holds the reload lock would deadlock on it.
        """

        def on_sighup(_signo: int, _frame: object) -> None:
            threading.Thread(target=self.reload, name="settings-sighup", daemon=True).start()

        signal.signal(signal.SIGHUP, on_sighup)

    def watch(self, path: Path) -> None:
        """Reload whenever ``path`` changes, from a daemon thread, until ``stop``.

        The folder is watched rather than the file: editors that save by renaming a
        new file over the old one would otherwise end the watch after the first save.
        """
        from watchfiles import Change, watch

        target = path.absolute()

        def is_target(_change: Change, changed: str) -> bool:
            return Path(changed) == target

        def run() -> None:
            for _changes in watch(
                target.parent,
                watch_filter=is_target,
                recursive=False,
                stop_event=self._stop,
                debounce=200,
                rust_timeout=500,
            ):
                self.reload()

        self._watcher = threading.Thread(target=run, name="settings-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """Stop watching the file."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)


def _apply(
    live: FolioSettingsBase, fresh: FolioSettingsBase, prefix: tuple[str, ...], result: ReloadResult
) -> None:
    for name, info in type(live).model_fields.items():
        old: Any = getattr(live, name)
        new: Any = getattr(fresh, name)
        if isinstance(old, FolioSettingsBase):
            _apply(old, new, (*prefix, name), result)
            continue
        if old == new:
            continue
        dotted = ".".join((*prefix, name))
        if has_marker(info, RELOADABLE):
            setattr(live, name, new)
            result.applied.append(dotted)
        else:
            result.needs_restart.append(dotted)
