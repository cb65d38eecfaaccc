"""Which lock service the settings choose: Redlock on the configured instances, or this process's locks."""

from __future__ import annotations

from folio.core.settings import Settings
from folio.locks.local import LocalLocks
from folio.locks.manager import Locks
from folio.locks.redlock import Redlock

__all__ = ["locks_are_local", "locks_for"]


def locks_are_local(settings: Settings) -> bool:
    """Whether ``settings`` choose this process's own locks: backend ``local``, or ``auto`` in lite mode."""
    backend = settings.locks.backend
    return backend == "local" or (backend == "auto" and settings.lite_mode)


def locks_for(settings: Settings) -> Locks:
    """The lock service ``settings`` choose; it connects to nothing until first used.

    Redlock on ``Settings.lock_urls`` (``locks.urls``, else the harness's
    ``services.redlock`` instances); ``LocalLocks`` where ``locks_are_local``.
    """
    if locks_are_local(settings):
        return LocalLocks(settings.locks)
    return Redlock.from_urls(settings.lock_urls, settings.locks)
