"""The ``database`` section: the relational database every context stores its tables in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class DatabaseSettings(FolioSettingsBase):
    """The relational database the contexts store their tables in."""

    settings_path = ("database",)

    backend: Literal["sqlite", "postgres"] = setting(
        "sqlite",
        description="`sqlite` (embedded, the default) or `postgres` (the server from `folio services`).",
    )
    url: SecretStr | None = setting(
        None,
        description="An explicit SQLAlchemy async URL; overrides `backend` when set.",
    )
    replica_url: SecretStr | None = setting(
        None,
        description="An explicit async URL of a read replica; reads go to the primary when unset.",
    )
    migration_url: SecretStr | None = setting(
        None,
        description="An explicit async URL migrations connect with, as the role that owns the "
        "tables (never the application role); when unset: the owner role for `backend = "
        '"postgres"`, else `url` or the SQLite file.',
    )
    sqlite_path: Path = setting(Path(".folio/folio.db"), description="File of the embedded SQLite database.")
    pool_size: int = setting(
        20,
        ge=1,
        le=100,
        description="Connections kept open per engine: at least the requests one process serves at "
        "once, or every burst opens (and closes again) overflow connections, each a TLS and SCRAM "
        "handshake.",
    )
    max_overflow: int = setting(
        10,
        ge=0,
        le=100,
        description="Extra connections an engine may open under a burst beyond `pool_size`; "
        "closed again when returned.",
    )
    pool_timeout_s: float = setting(
        10.0, gt=0, le=300, description="Seconds to wait for a free pooled connection."
    )
    pool_pre_ping: bool = setting(
        default=False,
        description="Ping each connection on checkout (a round trip per unit of work). Off: "
        "`Database.run` already re-runs a unit whose connection turns out dead, on a fresh one.",
    )
    pool_recycle_s: float = setting(
        1800.0,
        gt=0,
        le=86_400,
        description="Replace a pooled connection older than this many seconds (outlives "
        "firewall and proxy idle timeouts).",
    )
    connect_timeout_s: float = setting(
        5.0, gt=0, le=120, description="Seconds to wait for a new PostgreSQL connection to open."
    )
    statement_timeout_ms: int = setting(
        30_000,
        ge=100,
        le=3_600_000,
        description="Longest a statement may run: PostgreSQL's `statement_timeout` on every "
        "connection (an overrun fails with `StatementTimeoutError`, never retried); for "
        "SQLite, how long a statement waits for another writer's lock.",
    )
    retry_attempts: int = setting(
        3,
        ge=1,
        le=10,
        reloadable=True,
        description="Tries `Database.run` gives a unit of work that fails with a transient "
        "error, the first included; 1 turns retries off.",
    )
    retry_max_backoff_s: float = setting(
        2.0,
        gt=0,
        le=60,
        reloadable=True,
        description="Longest pause between two tries (exponential backoff with full jitter).",
    )
    breaker_failure_threshold: int = setting(
        5,
        ge=1,
        le=1000,
        description="Consecutive connection failures that open an engine's circuit breaker.",
    )
    breaker_reset_timeout_s: float = setting(
        30.0,
        gt=0,
        le=3600,
        description="Seconds an open circuit fails fast before one trial call may test the database.",
    )
    echo: bool = setting(default=False, description="Log every SQL statement (noisy; for debugging).")
