"""Which lock service the settings choose: Redlock on the configured instances, or this process's locks."""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import make_url

from folio.core.settings import Settings
from folio.locks.local import LocalLocks
from folio.locks.manager import Locks
from folio.locks.redlock import Redlock

__all__ = ["lock_namespace", "locks_are_local", "locks_for"]


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
    return Redlock.from_urls(settings.lock_urls, settings.locks, namespace=lock_namespace(settings))


def lock_namespace(settings: Settings) -> str:
    """The prefix of this installation's lock keys: ``locks.namespace``, else one its database names.

    The digest covers the database's driver, host, port and name but not its role or
    password, so rotating a password keeps the fencing counters (kept under the prefix)
    and two installations on one set of Redis instances hold distinct locks.
    """
    if settings.locks.namespace:
        return settings.locks.namespace
    if settings.database.url is not None:
        url = make_url(settings.database.url.get_secret_value())
        address = f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database or ''}"
    elif settings.database.backend == "postgres":  # the harness's server: no password needed to name it
        postgres = settings.services.postgres
        address = f"postgresql://{postgres.host}:{postgres.port}/{postgres.database}"
    else:
        address = f"sqlite://{settings.database.sqlite_path}"
    return f"folio:{hashlib.sha256(address.encode()).hexdigest()[:12]}"
