"""The async database layer: engines, sessions, the unit of work, and how they survive failures.

Nothing connects at import time: a ``Database`` is built from settings in a
process's lifespan (``folio.bootstrap``) and disposed at its end. SQLite (aiosqlite)
is the embedded default; PostgreSQL (asyncpg) when ``database.backend`` says so, with
reads routed to the streaming replica when one is configured.

Key contracts (``docs/database.md`` has the long form):

- ``Database.run(work)`` is how contexts touch the database: it runs ``work(session)``
  in one transaction, commits it, and re-runs the whole unit on a transient error
  (a dropped connection, a serialization failure, a deadlock), up to
  ``database.retry_attempts`` tries. ``work`` may therefore run more than once and must
  have no effect outside its session.
- Each engine has a ``CircuitBreaker``: after ``database.breaker_failure_threshold``
  consecutive connection failures it opens, and calls fail fast with
  ``DatabaseUnavailableError`` (503) without opening a connection, until one trial
  call after ``database.breaker_reset_timeout_s`` finds the database back. Inside
  ``recovery_probes()`` (long-running processes: the gateway's lifespan) no caller is
  the trial: a background probe (connect and ``SELECT 1``, backing off from
  ``PROBE_FIRST_DELAY_S`` to ``PROBE_MAX_DELAY_S``) closes the breaker as soon as the
  database answers.
- Every session is a ``folio.core.tenancy.TenantSession``: a transaction begun inside
  a ``tenant_scope`` is scoped to that tenant by PostgreSQL's row-level security.
- Reads (``readonly=True``) go to the replica, except inside a
  ``read_your_writes_scope`` (the gateway opens one per request) after a unit of work
  committed on the primary: from then on the scope's reads go to the primary, so a
  request sees its own writes despite replication lag.
- After-commit notes: work may ``note_after_commit(session, item)`` (the outbox notes
  every event it adds); once ``run`` has committed the unit, each listener registered
  with ``Database.on_committed`` is handed the unit's notes, in order, and never those
  of a unit that rolled back or of a try that was retried. Caches hear of writes this
  way, in the writing process at once. A listener's failure is logged, never raised:
  the unit is committed whatever it does.
"""

from __future__ import annotations

import asyncio
import errno
import math
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import structlog
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from folio.core.background import stop_tasks
from folio.core.errors import DatabaseUnavailableError
from folio.core.resilience import CircuitBreaker, CircuitOpenError, Clock, Permit
from folio.core.settings.database import DatabaseSettings
from folio.core.telemetry import instrument_engine
from folio.core.tenancy import TenantSession

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "Database",
    "StatementTimeoutError",
    "UnitOfWork",
    "build_engine",
    "is_connection_error",
    "is_transient_error",
    "note_after_commit",
    "open_database",
    "pin_reads_to_primary",
    "read_your_writes_scope",
    "reads_from_primary",
]

log = structlog.get_logger(__name__)

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FIRST_BACKOFF_S = 0.05
"""Upper bound of the first pause between tries; it doubles per try up to ``retry_max_backoff_s``."""

PROBE_FIRST_DELAY_S = 0.1
"""The recovery probe's first pause after the breaker opened; it doubles per failed check."""
PROBE_MAX_DELAY_S = 1.0
"""The longest pause between two recovery checks: a write can wait at most this long
(plus one connect) after the database listens again. A refused connect costs the
database nothing, so checking once a second through a long outage is cheap."""


class Base(DeclarativeBase):
    """Declarative base of every context's ORM models (one metadata, named constraints)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --- which errors are worth another try ------------------------------------------------------

SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
QUERY_CANCELED = "57014"

# Class 08 (connection exception) plus the server telling us it is going away or not
# ready yet: the database is unreachable for now, not wrong about what we asked.
_CONNECTION_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
    }
)


class StatementTimeoutError(Exception):
    """A statement ran past ``database.statement_timeout_ms`` and the server cancelled it.

    Never retried: the same statement would time out again, holding a connection all
    the while. It is a slow query to fix (an index, a smaller batch), not an outage,
    so it is not a ``FolioError``: the gateway answers 500 and logs it.
    """


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver error a SQLAlchemy error wraps, and their explicit causes.

    Only ``__cause__`` (``raise ... from``) is followed, never the implicit
    ``__context__``: an unrelated error raised while handling a dropped connection
    must not pass for one.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = current.orig if isinstance(current, DBAPIError) else None
        pending.extend([current.__cause__, orig if isinstance(orig, BaseException) else None])


def _sqlstates(exc: BaseException) -> set[str]:
    """The SQLSTATE codes anywhere in ``exc``'s chain (asyncpg and its SQLAlchemy adapter carry them)."""
    return {state for e in _chain(exc) if isinstance(state := getattr(e, "sqlstate", None), str)}


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached or the connection was lost.

    True for: refused, reset or timed-out sockets; SQLAlchemy errors it flagged
    ``connection_invalidated``; SQLSTATE class 08 (``ConnectionDoesNotExistError``...),
    57P01-57P03 (shutdown, crash, ``CannotConnectNowError``) and 53300 (too many
    connections). These count as failures for the circuit breaker.
    """
    for e in _chain(exc):
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, ConnectionError | TimeoutError | socket.gaierror):
            return True
        if isinstance(e, OSError) and e.errno in _NETWORK_ERRNOS:
            return True
    return any(state.startswith("08") or state in _CONNECTION_SQLSTATES for state in _sqlstates(exc))


def is_transient_error(exc: BaseException) -> bool:
    """Whether re-running the whole unit of work may succeed: connection errors, 40001 and 40P01.

    A serialization failure or a deadlock rolled the transaction back and says
    nothing is wrong with the work itself. Everything else (integrity and syntax
    errors, a statement timeout, the caller's own exceptions) would fail again.
    """
    if is_connection_error(exc):
        return True
    return bool(_sqlstates(exc) & {SERIALIZATION_FAILURE, DEADLOCK_DETECTED})


def _is_statement_timeout(exc: BaseException) -> bool:
    return QUERY_CANCELED in _sqlstates(exc)


class _CommitInDoubtError(Exception):
    """The connection broke while COMMIT was in flight: the server may have committed.

    Internal marker: ``Database.run`` does not retry it (a retry could apply the
    unit twice) and reports it as ``DatabaseUnavailableError`` with
    ``commit_outcome="unknown"``.
    """


# --- engines -------------------------------------------------------------------------------


def build_engine(url: str, settings: DatabaseSettings) -> AsyncEngine:
    """An async engine for ``url`` with Folio's pool, timeout and dialect settings.

    PostgreSQL (asyncpg): a queue pool of ``pool_size`` + ``max_overflow`` connections,
    recycled after ``pool_recycle_s``, with no ping on checkout unless ``pool_pre_ping``
    (a dead pooled connection fails its unit's first statement, SQLAlchemy then
    invalidates the pool's older connections, and ``Database.run`` re-runs the unit on
    a fresh one: the same recovery without a round trip on every unit); every
    connection opens within ``connect_timeout_s`` and runs with
    ``statement_timeout = statement_timeout_ms``. SQLite: WAL and foreign keys on, and
    ``statement_timeout_ms`` as its busy timeout (how long to wait for a writer's lock).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=settings.echo, connect_args={"timeout": settings.statement_timeout_ms / 1000}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        instrument_engine(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_driver_name() == "asyncpg":
        # Server-side, so the server itself cancels the statement (SQLSTATE 57014) and
        # frees its resources; asyncpg's client-side command_timeout would not.
        connect_args = {
            "timeout": settings.connect_timeout_s,
            "server_settings": {"statement_timeout": str(settings.statement_timeout_ms)},
        }
    engine = create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_recycle=settings.pool_recycle_s,
        pool_pre_ping=settings.pool_pre_ping,
        connect_args=connect_args,
    )
    instrument_engine(engine)  # its statements as spans when this process traces
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers proceed during a write; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# --- read-your-writes ----------------------------------------------------------------------


@dataclass
class _ReadScope:
    """Whether a unit of work committed on the primary since the scope began."""

    wrote: bool = False


# The scope is a mutable object rather than a flag in the variable itself: tasks a
# request spawns run in copies of its context, and a flag they set would not be seen
# by the request; a shared object is.
_read_scope: ContextVar[_ReadScope | None] = ContextVar("folio_db_read_scope", default=None)


@contextmanager
def read_your_writes_scope() -> Iterator[None]:
    """Start a fresh read-your-writes scope for the block: one request, one job.

    Inside it, once a unit of work has committed on the primary, readonly sessions go
    to the primary too, so the block reads what it wrote even while the replica lags.
    Outside any scope (scripts, tests) readonly sessions always use the replica. The
    guarantee is per scope, not global: another request may still read the replica
    before it has replayed this one's writes.
    """
    token = _read_scope.set(_ReadScope())
    try:
        yield
    finally:
        _read_scope.reset(token)


@contextmanager
def reads_from_primary() -> Iterator[None]:
    """Send the block's readonly units to the primary.

    For reads whose result outlives the request, such as a cache fill: a replica that
    has not yet replayed a write whose invalidation already ran would put the old
    value back in the cache for its whole TTL.
    """
    token = _read_scope.set(_ReadScope(wrote=True))
    try:
        yield
    finally:
        _read_scope.reset(token)


def pin_reads_to_primary() -> None:
    """Send the rest of the current read-your-writes scope's reads to the primary.

    For a caller that knows its reads must see a write made outside the scope (the
    previous request of the same web session, say). Outside any scope it does nothing.
    """
    _note_primary_commit()


def _note_primary_commit() -> None:
    # Any committed unit counts, whether or not it changed a row: routing one read
    # too many to the primary costs little; one too few breaks the guarantee.
    scope = _read_scope.get()
    if scope is not None:
        scope.wrote = True


def _reads_pinned_to_primary() -> bool:
    scope = _read_scope.get()
    return scope is not None and scope.wrote


# --- the database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """One engine with its session factory and circuit breaker."""

    name: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    breaker: CircuitBreaker


def _target(
    name: str,
    engine: AsyncEngine,
    settings: DatabaseSettings,
    clock: Clock,
    on_open: Callable[[], bool],
) -> _Target:
    breaker = CircuitBreaker(
        name,
        failure_threshold=settings.breaker_failure_threshold,
        reset_timeout_s=settings.breaker_reset_timeout_s,
        clock=clock,
        on_open=on_open,
    )
    # TenantSession scopes every transaction to the tenant in scope (PostgreSQL's
    # app.tenant_id), so no context can forget to; the replica's sessions too, so reads
    # there are held to the same row-level security policy.
    factory = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TenantSession)
    return _Target(name, engine, factory, breaker)


def _retry_after(exc: CircuitOpenError) -> int:
    # Never 0: a client told to come back at once would hammer the breaker.
    return max(1, math.ceil(exc.retry_after_s))


def _unavailable(exc: CircuitOpenError) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        f"the {exc.name} database is failing and its circuit breaker is {exc.state}, "
        f"so the call was refused without trying; retry in {_retry_after(exc)}s",
        retry_after_s=_retry_after(exc),
    )


@dataclass
class _Tries:
    """The tries of one ``Database.run``: how many reached for the database, its last connection error.

    ``committed`` holds the notes (``note_after_commit``) of the try that committed.
    """

    made: int = 0
    connection_error: BaseException | None = None
    committed: list[Any] = field(default_factory=list)


_NOTES = "folio.after_commit"

CommitListener = Callable[[Sequence[Any]], Awaitable[None]]
"""Hears the notes of each unit ``Database.run`` committed (``Database.on_committed``)."""


def note_after_commit(session: AsyncSession, *items: Any) -> None:
    """Hand ``items`` to the database's commit listeners once ``session``'s unit has committed.

    Dropped with the session when the unit rolls back or is retried.
    """
    session.info.setdefault(_NOTES, []).extend(items)


def _worth_retrying(exc: BaseException) -> bool:
    # Never a cancellation (or an exit): the caller gave up, and its error's chain may
    # still hold the connection error the cancelled driver call was cleaning up after.
    # Retrying it swallowed the cancel and left a task running forever on a connection
    # whose cancelled query never answered (a gateway's usage flusher, at shutdown).
    if not isinstance(exc, Exception):
        return False
    # A breaker refusal is deliberate; a commit in doubt might already have applied.
    if isinstance(exc, DatabaseUnavailableError | _CommitInDoubtError):
        return False
    return is_transient_error(exc)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    # Info, not warning: during an outage every request retries, and the breaker's own
    # state changes are the lines worth a warning.
    log.info(
        "db.retry",
        attempt=state.attempt_number,
        error_type=type(error).__name__,
        error=str(error)[:300],
        sleep_s=round(state.upcoming_sleep, 3),
    )


class Database:
    """The primary engine, the optional replica engine, their breakers and session factories.

    Build it with ``from_urls`` (or ``open_database``); ``clock`` and ``sleep`` are
    seams for tests (a fake clock for the breakers, a recording sleep for backoffs).
    """

    def __init__(
        self,
        primary: AsyncEngine,
        replica: AsyncEngine | None = None,
        *,
        settings: DatabaseSettings,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.settings = settings
        self._sleep = sleep
        self._primary = _target("primary", primary, settings, clock, lambda: self._start_probe("primary"))
        self._replica = (
            _target("replica", replica, settings, clock, lambda: self._start_probe("replica"))
            if replica is not None
            else None
        )
        self._probe_loop: asyncio.AbstractEventLoop | None = None
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._commit_listeners: list[CommitListener] = []

    @classmethod
    def from_urls(
        cls,
        settings: DatabaseSettings,
        url: str,
        replica_url: str | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> Self:
        """Build engines (lazily connecting) for the primary and the optional replica."""
        replica = build_engine(replica_url, settings) if replica_url else None
        return cls(build_engine(url, settings), replica, settings=settings, clock=clock, sleep=sleep)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.primary.dialect.name

    @property
    def primary_breaker(self) -> CircuitBreaker:
        """The circuit breaker guarding the primary."""
        return self._primary.breaker

    @property
    def replica_breaker(self) -> CircuitBreaker | None:
        """The circuit breaker guarding the replica, when there is one."""
        return self._replica.breaker if self._replica is not None else None

    def _read_target(self) -> _Target:
        """Where a readonly unit goes: the replica, unless read-your-writes or its breaker say no.

        Falling back to the primary while the replica's breaker refuses calls keeps
        reads working through a replica outage. The check and the ``admit`` that
        follows it run with no ``await`` between them, so on one event loop no other
        coroutine can take the half-open trial in between.
        """
        replica = self._replica
        if replica is None or _reads_pinned_to_primary() or not replica.breaker.admits_now():
            return self._primary
        return replica

    def sessions(self, *, readonly: bool = False) -> async_sessionmaker[AsyncSession]:
        """A session factory bound to the primary, or for ``readonly`` to where reads go now.

        Low level: sessions made here bypass retries and the circuit breaker. Contexts
        use ``run`` (or ``unit_of_work``).
        """
        return (self._read_target() if readonly else self._primary).sessions

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on the primary, guarded by its breaker; no retries (see ``run``)."""
        return UnitOfWork(
            self._primary.sessions, breaker=self._primary.breaker, on_commit=_note_primary_commit
        )

    def on_committed(self, listener: CommitListener) -> Callable[[], Awaitable[None]]:
        """Call ``listener`` with the notes of every unit ``run`` commits from now on (see the module doc).

        Returns the closer that stops it: whoever built the listener owns it (bootstrap
        hands it to the platform), so a database shared by several platforms (tests)
        does not keep calling the caches of closed ones.
        """
        self._commit_listeners.append(listener)

        async def stop() -> None:
            if listener in self._commit_listeners:
                self._commit_listeners.remove(listener)

        return stop

    async def _announce(self, notes: Sequence[Any]) -> None:
        for listener in self._commit_listeners:
            try:
                await listener(notes)
            except Exception as exc:  # noqa: BLE001 - the unit is committed; a listener cannot undo it
                log.warning("db.commit_listener_failed", listener=repr(listener), error=repr(exc))

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, readonly: bool = False) -> T:
        """Run ``work(session)`` as one unit of work, commit it, and return what it returned.

        On a transient error (``is_transient_error``: a refused or dropped connection, a
        serialization failure, a deadlock) the transaction is rolled back and the
        *whole* unit runs again in a fresh session, after a jittered exponential
        backoff, up to ``database.retry_attempts`` tries. Single statements are never
        retried: after an error the transaction is aborted (PostgreSQL refuses every
        further statement in it), and replaying one statement into a new transaction
        would commit the unit's second half without its first.

        Preconditions: ``work`` may run more than once, so it must have no effects
        outside its session (no HTTP calls, no messages; record them in the database
        and send them after) and must not call ``run`` itself. It must not commit:
        ``run`` does. ``readonly`` units read from the replica (see
        ``read_your_writes_scope``) and commit nothing.

        Raises:
            DatabaseUnavailableError: the breaker is open (raised at once, with no
                connection attempted), the database stayed unreachable through every
                try, or the connection broke during COMMIT; in that last case the
                outcome is unknown, the unit is not retried (it might apply twice) and
                the error carries ``commit_outcome="unknown"``.
            StatementTimeoutError: a statement ran past ``statement_timeout_ms``.
            Exception: anything else ``work`` or the database raised, unchanged and untried again.
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.retry_attempts),
            wait=wait_random_exponential(multiplier=FIRST_BACKOFF_S, max=self.settings.retry_max_backoff_s),
            retry=retry_if_exception(_worth_retrying),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        tries = _Tries()
        try:
            result: T = await retrying(self._run_once, work, readonly=readonly, tries=tries)
        except DatabaseUnavailableError as exc:
            if tries.made and isinstance(exc.__cause__, CircuitOpenError):
                # Earlier tries did reach for the database before the breaker opened
                # (this request's failures or others'): say so, not "without trying".
                raise DatabaseUnavailableError(
                    f"the database could not be reached ({tries.made} of {self.settings.retry_attempts} "
                    f"tries made before its circuit breaker opened); retry in {exc.retry_after_s}s",
                    retry_after_s=exc.retry_after_s,
                ) from tries.connection_error
            raise
        except _CommitInDoubtError as exc:
            log.error("db.commit_in_doubt", error=repr(exc.__cause__))  # noqa: TRY400 - the cause is the story
            raise DatabaseUnavailableError(
                "the connection to the database broke while committing; the change may or may not "
                "have been saved, so it was not retried",
                commit_outcome="unknown",
            ) from exc.__cause__
        except Exception as exc:
            if _is_statement_timeout(exc):
                raise StatementTimeoutError(
                    f"a statement ran longer than database.statement_timeout_ms "
                    f"({self.settings.statement_timeout_ms} ms) and was cancelled"
                ) from exc
            if is_connection_error(exc):
                # The driver's message (host, port) goes to the log, not to the client; at
                # info, since an outage does this for every request (the breaker warns).
                log.info("db.unreachable", error=repr(exc), tries=self.settings.retry_attempts)
                raise DatabaseUnavailableError(
                    f"the database could not be reached ({self.settings.retry_attempts} tries)"
                ) from exc
            raise
        if tries.committed and self._commit_listeners:
            await self._announce(tries.committed)
        return result

    async def _run_once(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, readonly: bool, tries: _Tries
    ) -> T:
        """One try of ``run``: a fresh unit of work on the chosen engine."""
        try:
            return await self._try_once(work, readonly=readonly, tries=tries)
        except Exception as exc:
            if is_connection_error(exc):
                tries.connection_error = exc
            raise

    async def _try_once(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, readonly: bool, tries: _Tries
    ) -> T:
        target = self._read_target() if readonly else self._primary
        on_commit = None if readonly else _note_primary_commit
        async with UnitOfWork(target.sessions, breaker=target.breaker, on_commit=on_commit) as uow:
            tries.made += 1
            result = await work(uow.session)
            if readonly:
                # Nothing a readonly unit did is kept: it rolls back on the way out. The
                # objects it loaded are detached first, because the rollback would
                # otherwise expire them and the caller could not read them any more.
                uow.session.expunge_all()
                return result
            # Flush first: an error while flushing comes before COMMIT was sent, so the
            # unit is known not to have applied and may safely run again.
            await uow.session.flush()
            notes = uow.session.info.pop(_NOTES, [])
            try:
                await uow.commit()
            except Exception as exc:
                if is_connection_error(exc):
                    raise _CommitInDoubtError from exc
                raise
            tries.committed = notes
            return result

    async def ping(self, *, readonly: bool = False) -> None:
        """Run ``SELECT 1`` on the primary (or the replica); raises the driver's error when unreachable.

        The ping goes through the engine's breaker: any error counts as a failure, an
        open breaker raises ``DatabaseUnavailableError`` without connecting, and a
        half-open breaker lets the ping be its trial (so readiness probes close it).
        """
        target = self._replica if readonly and self._replica is not None else self._primary
        try:
            with target.breaker.guard():
                async with target.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except CircuitOpenError as exc:
            raise _unavailable(exc) from exc

    async def check_ready(self, *, readonly: bool = False) -> None:
        """A readiness check: ``ping``, failing with a message that names the breaker's state."""
        target = self._replica if readonly and self._replica is not None else self._primary
        try:
            await self.ping(readonly=readonly)
        except DatabaseUnavailableError:
            raise
        except Exception as exc:
            raise DatabaseUnavailableError(
                f"{target.name}: {type(exc).__name__}: {exc}; circuit {target.breaker.describe()}"
            ) from exc

    @asynccontextmanager
    async def recovery_probes(self) -> AsyncIterator[None]:
        """Let background probes, not callers, find the database back while the block runs.

        Whenever an engine's breaker opens inside the block, a task on this event loop
        checks that engine (connect, ``SELECT 1``) after ``PROBE_FIRST_DELAY_S``, then
        at doubling intervals up to ``PROBE_MAX_DELAY_S``, and closes the breaker as soon
        as a check passes. Until then every call is refused at once (503 with a
        ``Retry-After`` of the next check), so no user's request is spent as a trial.
        The probes are cancelled when the block ends; outside it, breakers go back to
        trial calls after ``breaker_reset_timeout_s``.
        """
        self._probe_loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            self._probe_loop = None
            probes, self._probes = list(self._probes.values()), {}
            await stop_tasks(probes)

    def _start_probe(self, name: str) -> bool:
        """The breakers' ``on_open``: schedule a probe of ``name`` on the probes' loop, if any."""
        loop = self._probe_loop
        if loop is None or loop.is_closed():
            return False
        # The breaker may open in another thread; the task is made on the probes' loop.
        loop.call_soon_threadsafe(self._spawn_probe, name)
        return True

    def _spawn_probe(self, name: str) -> None:
        running = self._probes.get(name)
        if self._probe_loop is None or (running is not None and not running.done()):
            return
        target = self._primary if name == "primary" else self._replica
        if target is None:
            return
        self._probes[name] = asyncio.create_task(self._probe_until_back(target), name=f"db-probe-{name}")

    async def _probe_until_back(self, target: _Target) -> None:
        delay = PROBE_FIRST_DELAY_S
        try:
            while True:
                target.breaker.probe_pending(delay)
                await asyncio.sleep(delay)
                try:
                    async with asyncio.timeout(self.settings.connect_timeout_s + 1):
                        async with target.engine.connect() as connection:
                            await connection.execute(text("SELECT 1"))
                except Exception as exc:  # noqa: BLE001 - whatever failed, it is not back yet
                    log.debug("db.probe_failed", engine=target.name, error=repr(exc)[:300])
                    delay = min(delay * 2, PROBE_MAX_DELAY_S)
                    continue
                target.breaker.probe_succeeded()
                return
        finally:
            target.breaker.probe_stopped()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.primary.dispose()
        if self.replica is not None:
            await self.replica.dispose()


class UnitOfWork:
    """One transaction: commit explicitly, roll back on error or when left uncommitted.

    ``async with db.unit_of_work() as uow: ...; await uow.commit()`` - leaving the
    block without ``commit`` rolls back, so a crash mid-work never half-writes.

    With a ``breaker``, entering asks it for admission (``DatabaseUnavailableError``
    when refused) and leaving reports the outcome: a connection error is a failure;
    no error, or an error the database itself answered with, is a success; anything
    else (the caller's own exception, a cancellation) tells nothing and is released.
    ``on_commit`` runs after each successful commit.
    """

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        *,
        breaker: CircuitBreaker | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._factory = factory
        self._breaker = breaker
        self._on_commit = on_commit
        self._session: AsyncSession | None = None
        self._permit: Permit | None = None

    @property
    def session(self) -> AsyncSession:
        """The session of the open unit of work."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open; use 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        if self._breaker is not None:
            try:
                self._permit = self._breaker.admit()
            except CircuitOpenError as exc:
                raise _unavailable(exc) from exc
        self._session = self._factory()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self.session
        cleanup_error: BaseException | None = None
        try:
            try:
                await session.rollback()
            finally:
                await session.close()
        except BaseException as error:
            cleanup_error = error
            raise
        finally:
            self._session = None
            self._settle(exc, cleanup_error)

    def _settle(self, *errors: BaseException | None) -> None:
        """Report the unit's outcome to the breaker, once."""
        if self._breaker is None or self._permit is None:
            return
        permit, self._permit = self._permit, None
        seen = [error for error in errors if error is not None]
        if any(is_connection_error(error) for error in seen):
            self._breaker.record_failure(permit)
        elif all(isinstance(error, DBAPIError) for error in seen):
            # No error, or one the database answered with (a constraint, a timeout):
            # either way it was reachable.
            self._breaker.record_success(permit)
        else:
            self._breaker.release(permit)

    async def commit(self) -> None:
        """Commit the work done so far."""
        await self.session.commit()
        if self._on_commit is not None:
            self._on_commit()


@asynccontextmanager
async def open_database(
    settings: DatabaseSettings, url: str, replica_url: str | None = None
) -> AsyncIterator[Database]:
    """A ``Database`` for the duration of the block, disposed at its end."""
    database = Database.from_urls(settings, url, replica_url)
    try:
        yield database
    finally:
        await database.dispose()
