"""The ``locks`` section: which lock backend, on which Redis instances, with which timings.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the package.
Where the instances are when ``urls`` is empty (the harness's ``services.redlock``) is
decided by ``Settings.lock_urls``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class LockSettings(FolioSettingsBase):
    """Distributed locks: Redlock over independent Redis instances, or one process's locks in lite mode."""

    settings_path = ("locks",)

    backend: Literal["auto", "redlock", "local"] = setting(
        "auto",
        description="`redlock` (Redlock over `urls`), `local` (locks of this one process only: lite "
        "mode, never several processes), or `auto`: `local` in lite mode (an SQLite database), else "
        "`redlock`.",
    )
    urls: list[SecretStr] = setting(
        default_factory=list,
        description="URLs of the independent Redis instances Redlock uses (3 or 5, not replicas of one "
        "another), as a JSON list; empty: the harness's `services.redlock` instances.",
    )
    namespace: str = setting(
        "",
        max_length=100,
        description="Prefix of every lock key in Redis. Empty: `folio:` and a digest of the database's "
        "address, so installations that share the Redis instances never wait on each other's locks "
        "(each one's fencing tokens are checked by its own database).",
    )
    ttl_s: float = setting(
        10.0, gt=0, description="Default lease time to live when a caller names none, in seconds."
    )
    wait_s: float = setting(
        1.0, ge=0, description="Default longest wait for a busy lock before giving up, in seconds."
    )
    retry_delay_s: float = setting(
        0.05,
        gt=0,
        description="Mean pause between tries for a busy lock; each pause is drawn uniformly from half "
        "to one and a half times it (jitter), so contenders do not retry in lockstep.",
    )
    drift_factor: float = setting(
        0.01,
        ge=0,
        lt=0.5,
        description="Clock-drift allowance as a share of the TTL, taken off a lease's validity.",
    )
    drift_constant_s: float = setting(
        0.002,
        ge=0,
        description="Fixed clock-drift allowance taken off a lease's validity, in seconds.",
    )
    instance_timeout_s: float = setting(
        0.5,
        gt=0,
        description="Longest wait for one instance's answer (connect or reply); keep it far below the TTL "
        "so a dead instance cannot eat a lease's validity.",
    )
    renew_every: float = setting(
        1 / 3,
        gt=0,
        lt=1,
        description="A held lease is renewed every `renew_every` x its TTL (the watchdog of `hold`).",
    )
