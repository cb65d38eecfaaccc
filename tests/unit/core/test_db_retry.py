"""``Database.run``: whole-unit retries, the circuit breaker and read routing, on SQLite files.

Transient failures are injected the way the drivers raise them (asyncpg exceptions
with their SQLSTATE, SQLAlchemy errors wrapping them, socket errors); the database
underneath is real, so "committed exactly once" is counted in a table, not a mock.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import asyncpg.exceptions
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from folio.core.db import (
    FIRST_BACKOFF_S,
    Database,
    StatementTimeoutError,
    is_connection_error,
    is_transient_error,
    note_after_commit,
    read_your_writes_scope,
)
from folio.core.errors import DatabaseUnavailableError
from folio.core.resilience import BreakerState, CircuitBreaker, CircuitOpenError
from folio.core.settings import DatabaseSettings, load_settings

pytestmark = pytest.mark.unit

ATTEMPTS = 3
MAX_BACKOFF_S = 0.15
THRESHOLD = 3
RESET_S = 30.0
UNREACHABLE = "postgresql+asyncpg://folio:x@127.0.0.1:1/none"


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read through a call so that mypy does not keep it narrowed between reads."""
    return breaker.state


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


class RecordingSleep:
    """Stands in for ``asyncio.sleep`` between tries: records each pause, waits for none."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        """Record the pause."""
        self.pauses.append(seconds)


class Work:
    """A unit of work that inserts one row per try and raises the scripted errors first."""

    def __init__(self, table: Table, *errors: BaseException) -> None:
        self.table = table
        self.errors = list(errors)
        self.tries = 0

    async def __call__(self, session: AsyncSession) -> str:
        """One try: insert a row, then raise the next scripted error if any is left."""
        self.tries += 1
        await session.execute(insert(self.table).values(body=f"try {self.tries}"))
        if self.errors:
            raise self.errors.pop(0)
        return "done"


class Shelf(DeclarativeBase):
    """A private ORM base, so the test model stays out of Folio's metadata."""


class Book(Shelf):
    """A tiny mapped table to check ORM objects survive a readonly unit."""

    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))


def pg_error(exc: Exception, *, invalidated: bool = False) -> DBAPIError:
    """``exc`` wrapped the way SQLAlchemy's asyncpg adapter surfaces it."""
    return OperationalError("UPDATE shelves SET n = n + 1", None, exc, connection_invalidated=invalidated)


def serialization_failure() -> DBAPIError:
    """SQLSTATE 40001, as a concurrent SERIALIZABLE transaction causes."""
    return pg_error(asyncpg.exceptions.SerializationError("could not serialize access"))


def deadlock() -> DBAPIError:
    """SQLSTATE 40P01."""
    return pg_error(asyncpg.exceptions.DeadlockDetectedError("deadlock detected"))


def connection_dropped() -> DBAPIError:
    """The server went away mid-transaction (asyncpg's ConnectionDoesNotExistError, 08003)."""
    return pg_error(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), invalidated=True)


def statement_timeout() -> DBAPIError:
    """SQLSTATE 57014: the server cancelled a statement that ran past statement_timeout."""
    return pg_error(asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"))


@pytest.fixture
def db_settings(clean_env: Path) -> DatabaseSettings:
    """Database settings with three tries, small backoffs and a three-failure breaker."""
    return load_settings(env_file=None).database.model_copy(
        update={
            "retry_attempts": ATTEMPTS,
            "retry_max_backoff_s": MAX_BACKOFF_S,
            "breaker_failure_threshold": THRESHOLD,
            "breaker_reset_timeout_s": RESET_S,
        }
    )


@pytest.fixture
def clock() -> FakeClock:
    """The breakers' fake clock."""
    return FakeClock()


@pytest.fixture
def sleep() -> RecordingSleep:
    """The backoff's recording sleep."""
    return RecordingSleep()


@pytest.fixture
async def database(
    db_settings: DatabaseSettings, clean_env: Path, clock: FakeClock, sleep: RecordingSleep
) -> AsyncIterator[Database]:
    """A primary and a 'replica' that are two SQLite files, so the tests can see where a read went."""
    db = Database.from_urls(
        db_settings,
        f"sqlite+aiosqlite:///{clean_env / 'primary.db'}",
        f"sqlite+aiosqlite:///{clean_env / 'replica.db'}",
        clock=clock,
        sleep=sleep,
    )
    for engine, where in ((db.primary, "primary"), (db.replica, "replica")):
        assert engine is not None
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE origin (name TEXT)"))
            await connection.execute(text("INSERT INTO origin VALUES (:where)"), {"where": where})
    yield db
    await db.dispose()


@pytest.fixture
async def notes(database: Database) -> Table:
    """A table on the primary the units of work write to."""
    table = Table(
        "notes",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("body", String(50), nullable=False),
    )
    async with database.primary.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    return table


async def rows(database: Database, table: Table) -> list[str]:
    """Every ``body`` in ``table`` on the primary."""
    async with database.primary.connect() as connection:
        return list((await connection.execute(select(table.c.body).order_by(table.c.id))).scalars())


async def origin(session: AsyncSession) -> str:
    """Which database a session is on: ``primary`` or ``replica``."""
    return str((await session.execute(text("SELECT name FROM origin"))).scalar_one())


# --- classification -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError("reset by peer"),
        TimeoutError("connect timed out"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        pg_error(asyncpg.exceptions.ConnectionFailureError("broken pipe")),
        pg_error(RuntimeError("closed"), invalidated=True),
        OSError(errno.EHOSTUNREACH, "No route to host"),
    ],
    ids=lambda e: type(e).__name__ + ("+invalidated" if getattr(e, "connection_invalidated", False) else ""),
)
def test_connection_errors_are_transient(error: BaseException) -> None:
    """Refused, reset, timed-out and invalidated connections are connection errors, hence transient."""
    assert is_connection_error(error)
    assert is_transient_error(error)


@pytest.mark.parametrize("make", [serialization_failure, deadlock], ids=["40001", "40P01"])
def test_serialization_failures_and_deadlocks_are_transient_not_connection(
    make: Callable[[], DBAPIError],
) -> None:
    """40001 and 40P01 are worth a retry but say the database is up (no breaker failure)."""
    error = make()

    assert is_transient_error(error)
    assert not is_connection_error(error)


@pytest.mark.parametrize(
    "error",
    [
        statement_timeout(),
        pg_error(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        pg_error(asyncpg.exceptions.PostgresSyntaxError("syntax error")),
        FileNotFoundError(2, "No such file"),
        ValueError("caller's bug"),
    ],
    ids=["57014", "23505", "42601", "FileNotFoundError", "ValueError"],
)
def test_other_errors_are_not_transient(error: BaseException) -> None:
    """A statement timeout, a constraint, bad SQL or the caller's own exception is never retried."""
    assert not is_transient_error(error)
    assert not is_connection_error(error)


def test_only_explicit_causes_are_followed() -> None:
    """An error raised while handling a dropped connection is not taken for one (``__context__``)."""
    unrelated = ValueError("unrelated")
    unrelated.__context__ = ConnectionResetError("reset")
    assert not is_transient_error(unrelated)

    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = ConnectionResetError("reset")
    assert is_transient_error(wrapped)


# --- whole-unit retries ---------------------------------------------------------------------


async def test_unit_that_fails_then_succeeds_commits_exactly_once(
    database: Database, notes: Table, sleep: RecordingSleep
) -> None:
    """A transient failure after a write rolls that try back; the re-run's row is the only one kept."""
    work = Work(notes, serialization_failure())

    assert await database.run(work) == "done"

    assert work.tries == 2
    assert await rows(database, notes) == ["try 2"]
    assert len(sleep.pauses) == 1


@pytest.mark.parametrize(
    "make",
    [serialization_failure, deadlock, connection_dropped, lambda: ConnectionResetError("reset")],
    ids=["40001", "40P01", "dropped", "reset"],
)
async def test_transient_errors_are_retried_until_attempts_run_out(
    database: Database, notes: Table, sleep: RecordingSleep, make: Callable[[], BaseException]
) -> None:
    """Every try fails transiently: the unit runs ``retry_attempts`` times and nothing is kept."""
    work = Work(notes, *(make() for _ in range(ATTEMPTS)))

    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type depends on the case, checked below
        await database.run(work)

    assert work.tries == ATTEMPTS
    assert len(sleep.pauses) == ATTEMPTS - 1
    assert await rows(database, notes) == []
    if is_connection_error(make()):
        assert isinstance(caught.value, DatabaseUnavailableError)
        assert "could not be reached" in str(caught.value)
    else:
        assert isinstance(caught.value, DBAPIError)


async def test_backoff_grows_exponentially_within_the_cap(
    database: Database, db_settings: DatabaseSettings, notes: Table, sleep: RecordingSleep
) -> None:
    """Pauses are jittered below 0.05 s, 0.1 s, ... and never above ``retry_max_backoff_s``."""
    db_settings.retry_attempts = 5
    work = Work(notes, *(serialization_failure() for _ in range(4)))

    await database.run(work)

    assert work.tries == 5
    assert len(sleep.pauses) == 4
    caps = [min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2**n) for n in range(4)]
    assert all(0 <= pause <= cap for pause, cap in zip(sleep.pauses, caps, strict=True))


async def test_retry_settings_are_read_per_run(
    database: Database, db_settings: DatabaseSettings, notes: Table
) -> None:
    """``retry_attempts`` is reloadable: a changed value applies to the next run, 1 meaning no retry."""
    db_settings.retry_attempts = 1
    work = Work(notes, serialization_failure())

    with pytest.raises(DBAPIError):
        await database.run(work)

    assert work.tries == 1


async def test_integrity_error_is_not_retried(
    database: Database, notes: Table, sleep: RecordingSleep
) -> None:
    """A real constraint violation surfaces at once, unchanged, after one try."""
    tries = 0

    async def duplicate(session: AsyncSession) -> None:
        nonlocal tries
        tries += 1
        await session.execute(insert(notes).values(id=1, body="a"))
        await session.execute(insert(notes).values(id=1, body="b"))

    with pytest.raises(IntegrityError):
        await database.run(duplicate)

    assert tries == 1
    assert sleep.pauses == []
    assert await rows(database, notes) == []


async def test_callers_own_exception_is_not_retried(database: Database, notes: Table) -> None:
    """An exception from the work itself propagates unchanged after one try, rolled back."""
    work = Work(notes, LookupError("no such shelf"))

    with pytest.raises(LookupError, match="no such shelf"):
        await database.run(work)

    assert work.tries == 1
    assert await rows(database, notes) == []


async def test_statement_timeout_is_a_clear_error_and_not_retried(database: Database, notes: Table) -> None:
    """SQLSTATE 57014 becomes StatementTimeoutError naming the setting, after a single try."""
    work = Work(notes, statement_timeout())

    with pytest.raises(StatementTimeoutError, match="statement_timeout_ms") as caught:
        await database.run(work)

    assert work.tries == 1
    assert isinstance(caught.value.__cause__, DBAPIError)
    assert database.primary_breaker.failures == 0


async def test_connection_lost_during_commit_is_not_retried(database: Database, notes: Table) -> None:
    """A connection error while COMMIT is in flight may have committed: no retry, outcome unknown."""
    work = Work(notes)

    def drop_during_commit(_connection: object) -> None:
        raise ConnectionResetError("reset during COMMIT")

    event.listen(database.primary.sync_engine, "commit", drop_during_commit)
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            await database.run(work)
    finally:
        event.remove(database.primary.sync_engine, "commit", drop_during_commit)

    assert work.tries == 1
    assert caught.value.extra["commit_outcome"] == "unknown"
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert database.primary_breaker.failures == 1


async def test_serialization_failure_at_commit_is_retried(database: Database, notes: Table) -> None:
    """A 40001 raised by COMMIT (SERIALIZABLE) means the server rolled back: safe to re-run, one row kept."""
    work = Work(notes)
    failures = [serialization_failure()]

    def refuse_first_commit(_connection: object) -> None:
        if failures:
            raise failures.pop()

    event.listen(database.primary.sync_engine, "commit", refuse_first_commit)
    try:
        await database.run(work)
    finally:
        event.remove(database.primary.sync_engine, "commit", refuse_first_commit)

    assert work.tries == 2
    assert await rows(database, notes) == ["try 2"]


# --- readonly units ---------------------------------------------------------------------------


async def test_readonly_unit_keeps_nothing_and_returns_usable_objects(database: Database) -> None:
    """A readonly unit's writes are rolled back, yet ORM objects it loaded stay readable afterwards."""
    async with database.primary.begin() as connection:
        await connection.run_sync(Shelf.metadata.create_all)
        await connection.execute(insert(Book).values(id=1, title="Emma"))

    async def load_and_scribble(session: AsyncSession) -> Book:
        await session.execute(insert(Book).values(id=2, title="scribble"))
        return (await session.execute(select(Book).where(Book.id == 1))).scalar_one()

    with read_your_writes_scope():
        await database.run(lambda _session: asyncio.sleep(0))  # a write unit pins reads to the primary
        book = await database.run(load_and_scribble, readonly=True)

    assert book.title == "Emma"
    async with database.primary.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(Book))).scalar() == 1


# --- the circuit breaker ----------------------------------------------------------------------


async def test_connection_failures_open_the_breaker_then_calls_fail_fast(
    db_settings: DatabaseSettings, clock: FakeClock, sleep: RecordingSleep
) -> None:
    """Refused connections count per try; once open, run fails at once without a connection attempt."""
    db = Database.from_urls(db_settings, UNREACHABLE, clock=clock, sleep=sleep)
    attempts: list[object] = []
    event.listen(db.primary.sync_engine, "do_connect", lambda *args: attempts.append(args))
    tries = 0

    async def work(session: AsyncSession) -> None:
        nonlocal tries
        tries += 1
        await session.execute(text("SELECT 1"))

    try:
        with pytest.raises(DatabaseUnavailableError, match="could not be reached") as first:
            await db.run(work)
        assert isinstance(first.value.__cause__, ConnectionRefusedError)
        assert (len(attempts), tries) == (ATTEMPTS, ATTEMPTS)
        assert state_of(db.primary_breaker) is BreakerState.OPEN

        for _ in range(10):
            with pytest.raises(DatabaseUnavailableError, match="circuit breaker is open") as refused:
                await db.run(work)
        assert (len(attempts), tries) == (ATTEMPTS, ATTEMPTS)
        assert isinstance(refused.value.__cause__, CircuitOpenError)
        assert refused.value.retry_after_s == RESET_S

        with pytest.raises(DatabaseUnavailableError):
            await db.ping()
        with pytest.raises(DatabaseUnavailableError):
            async with db.unit_of_work():
                pass
        assert len(attempts) == ATTEMPTS
    finally:
        await db.dispose()


async def test_half_open_trial_success_closes_the_breaker(
    database: Database, notes: Table, clock: FakeClock
) -> None:
    """After the reset timeout one unit is admitted as the trial; its success closes the breaker."""
    for _ in range(THRESHOLD):
        database.primary_breaker.record_failure(database.primary_breaker.admit())
    with pytest.raises(DatabaseUnavailableError):
        await database.run(Work(notes))

    clock.now += RESET_S
    assert state_of(database.primary_breaker) is BreakerState.HALF_OPEN
    await database.run(Work(notes))

    assert state_of(database.primary_breaker) is BreakerState.CLOSED
    assert await rows(database, notes) == ["try 1"]


async def test_transient_server_errors_do_not_trip_the_breaker(database: Database, notes: Table) -> None:
    """Serialization failures and constraint errors prove the server is up: no breaker failure."""
    with pytest.raises(DBAPIError):
        await database.run(Work(notes, *(serialization_failure() for _ in range(ATTEMPTS))))
    with pytest.raises(LookupError):
        await database.run(Work(notes, LookupError("caller")))

    assert database.primary_breaker.failures == 0
    assert state_of(database.primary_breaker) is BreakerState.CLOSED


async def test_check_ready_names_the_breaker_state(db_settings: DatabaseSettings, clock: FakeClock) -> None:
    """The readiness check's failure names the breaker's state: closed with a count, then open."""
    db = Database.from_urls(db_settings, UNREACHABLE, clock=clock)
    try:
        closed = r"primary: ConnectionRefusedError.*circuit closed \(1/3"
        with pytest.raises(DatabaseUnavailableError, match=closed):
            await db.check_ready()
        for _ in range(THRESHOLD - 1):
            with pytest.raises(DatabaseUnavailableError):
                await db.check_ready()
        with pytest.raises(DatabaseUnavailableError, match="circuit breaker is open"):
            await db.check_ready()
    finally:
        await db.dispose()


async def test_a_request_that_tried_is_not_told_it_was_refused_without_trying(
    database: Database, notes: Table, db_settings: DatabaseSettings, clean_env: Path, clock: FakeClock
) -> None:
    """A try that reached the database, then a breaker others opened: the detail says a try was made."""

    async def others_open_the_breaker(_seconds: float) -> None:
        # The pause between this request's tries is when the other requests fail.
        while state_of(same.primary_breaker) is BreakerState.CLOSED:
            same.primary_breaker.record_failure(same.primary_breaker.admit())

    url = f"sqlite+aiosqlite:///{clean_env / 'primary.db'}"
    same = Database.from_urls(db_settings, url, clock=clock, sleep=others_open_the_breaker)
    dropped = connection_dropped()
    try:
        with pytest.raises(DatabaseUnavailableError) as failed:
            await same.run(Work(notes, dropped))
    finally:
        await same.dispose()

    detail = failed.value.detail or ""
    assert "without trying" not in detail
    assert f"1 of {ATTEMPTS} tries made before its circuit breaker opened" in detail
    assert failed.value.__cause__ is dropped
    assert failed.value.retry_after_s == RESET_S


async def test_recovery_probe_closes_the_breaker_without_a_callers_trial(
    database: Database, notes: Table, clock: FakeClock
) -> None:
    """In recovery_probes an open breaker refuses callers, past its timeout too, until the probe closes it."""
    breaker = database.primary_breaker
    async with database.recovery_probes():
        for _ in range(THRESHOLD):
            breaker.record_failure(breaker.admit())
        clock.now += RESET_S
        with pytest.raises(DatabaseUnavailableError, match="circuit breaker is open") as refused:
            await database.run(Work(notes))
        assert refused.value.retry_after_s == 1
        for _ in range(200):
            if state_of(breaker) is BreakerState.CLOSED:
                break
            await asyncio.sleep(0.02)

        assert state_of(breaker) is BreakerState.CLOSED
        await database.run(Work(notes))
    assert await rows(database, notes) == ["try 1"]


async def test_recovery_probes_end_with_their_block(
    db_settings: DatabaseSettings, clock: FakeClock, sleep: RecordingSleep
) -> None:
    """Probes of an unreachable database stop when the block ends; then a caller is the timed trial again."""
    db = Database.from_urls(db_settings, UNREACHABLE, clock=clock, sleep=sleep)
    breaker = db.primary_breaker
    try:
        async with db.recovery_probes():
            for _ in range(THRESHOLD):
                breaker.record_failure(breaker.admit())
            await asyncio.sleep(0.3)  # a few failed checks
            assert state_of(breaker) is BreakerState.OPEN
        assert not [task for task in asyncio.all_tasks() if task.get_name().startswith("db-probe-")]
        clock.now += RESET_S
        assert breaker.admit().trial is True
    finally:
        await db.dispose()


# --- read routing -----------------------------------------------------------------------------


async def test_reads_go_to_the_replica_outside_any_scope(database: Database, notes: Table) -> None:
    """Without a read-your-writes scope a write does not pin reads: they stay on the replica."""
    await database.run(Work(notes))

    assert await database.run(origin, readonly=True) == "replica"
    assert database.sessions(readonly=True).kw["bind"] is database.replica


async def test_read_your_writes_within_a_scope_and_fresh_scopes_read_the_replica(
    database: Database, notes: Table
) -> None:
    """In a scope, reads use the replica until a unit commits, then the primary; a new scope starts over."""
    with read_your_writes_scope():
        assert await database.run(origin, readonly=True) == "replica"
        await database.run(Work(notes))
        assert await database.run(origin, readonly=True) == "primary"
        assert database.sessions(readonly=True).kw["bind"] is database.primary

    with read_your_writes_scope():
        assert await database.run(origin, readonly=True) == "replica"


async def test_a_write_in_a_spawned_task_pins_the_whole_scope(database: Database, notes: Table) -> None:
    """A unit committed by a task the request spawned pins the request's own later reads too."""
    with read_your_writes_scope():
        await asyncio.create_task(database.run(Work(notes)))

        assert await database.run(origin, readonly=True) == "primary"


async def test_unit_of_work_commit_pins_reads(database: Database, notes: Table) -> None:
    """A commit through ``unit_of_work`` counts as a write for read-your-writes, like ``run``."""
    with read_your_writes_scope():
        async with database.unit_of_work() as uow:
            await uow.session.execute(insert(notes).values(body="x"))
            await uow.commit()

        assert await database.run(origin, readonly=True) == "primary"


async def test_failed_write_does_not_pin_reads(database: Database, notes: Table) -> None:
    """A unit that never committed leaves the scope's reads on the replica."""
    with read_your_writes_scope():
        with pytest.raises(LookupError):
            await database.run(Work(notes, LookupError("rolled back")))

        assert await database.run(origin, readonly=True) == "replica"


async def test_reads_fall_back_to_the_primary_while_the_replica_breaker_is_open(
    database: Database, clock: FakeClock
) -> None:
    """An open replica breaker sends reads to the primary; once half-open a read is the replica's trial."""
    replica_breaker = database.replica_breaker
    assert replica_breaker is not None
    for _ in range(THRESHOLD):
        replica_breaker.record_failure(replica_breaker.admit())

    assert await database.run(origin, readonly=True) == "primary"
    assert database.sessions(readonly=True).kw["bind"] is database.primary

    clock.now += RESET_S
    assert await database.run(origin, readonly=True) == "replica"
    assert state_of(replica_breaker) is BreakerState.CLOSED


# --- after-commit notes -----------------------------------------------------------------------


class Heard:
    """A commit listener that records the notes of each committed unit, or raises."""

    def __init__(self, *, fails: bool = False) -> None:
        self.units: list[list[object]] = []
        self.fails = fails

    async def __call__(self, notes: Sequence[object]) -> None:
        """Record (or refuse) one unit's notes."""
        self.units.append(list(notes))
        if self.fails:
            raise RuntimeError("listener broke")


def noting(table: Table, *errors: BaseException) -> Work:
    """A ``Work`` that notes ``"try N"`` for each try before its scripted error."""

    class Noting(Work):
        async def __call__(self, session: AsyncSession) -> str:
            note_after_commit(session, f"try {self.tries + 1}")
            return await super().__call__(session)

    return Noting(table, *errors)


async def test_listeners_hear_only_the_try_that_committed(database: Database, notes: Table) -> None:
    """A retried try's notes are dropped with its rollback; the committed try's arrive once, in order."""
    heard = Heard()
    database.on_committed(heard)
    await database.run(noting(notes, serialization_failure()))
    assert heard.units == [["try 2"]]
    assert await rows(database, notes) == ["try 2"]


async def test_a_unit_that_fails_or_reads_is_never_announced(database: Database, notes: Table) -> None:
    """No notes from a rolled-back unit, a readonly one, or a unit that noted nothing."""
    heard = Heard()
    database.on_committed(heard)
    with pytest.raises(IntegrityError):
        await database.run(noting(notes, IntegrityError("INSERT", None, Exception("duplicate"))))

    async def read(session: AsyncSession) -> str:
        note_after_commit(session, "read")
        return await origin(session)

    await database.run(read, readonly=True)
    await database.run(Work(notes))
    assert heard.units == []


async def test_a_failing_listener_is_logged_and_the_others_still_hear(
    database: Database, notes: Table
) -> None:
    """The unit is committed whatever a listener does: a broken one neither raises nor silences the next."""
    broken, heard = Heard(fails=True), Heard()
    database.on_committed(broken)
    database.on_committed(heard)
    assert await database.run(noting(notes)) == "done"
    assert (broken.units, heard.units) == ([["try 1"]], [["try 1"]])


async def test_a_stopped_listener_hears_nothing_more(database: Database, notes: Table) -> None:
    """The closer ``on_committed`` returns unregisters it (twice is harmless)."""
    heard = Heard()
    stop = database.on_committed(heard)
    await database.run(noting(notes))
    await stop()
    await stop()
    await database.run(noting(notes))
    assert heard.units == [["try 1"]]


async def test_a_cancelled_unit_is_never_retried(database: Database, notes: Table) -> None:
    """A cancellation raised while the driver cleaned up a dropped connection ends the unit: no second try."""
    work = Work(notes)

    async def cancelled(session: AsyncSession) -> str:
        await work(session)
        try:
            raise connection_dropped()
        except DBAPIError as dropped:
            raise asyncio.CancelledError from dropped

    with pytest.raises(asyncio.CancelledError):
        await database.run(cancelled)
    assert work.tries == 1
