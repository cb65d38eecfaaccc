"""Database resilience against a real PostgreSQL pair that this module starts, breaks and stops.

The shared servers are never touched: a dedicated primary and replica run on free
ports under ``<services.data_dir>/test-resilience-<id>`` (not a pytest temporary folder:
its 0700 parents keep the ``postgres`` account out). Outages are real (the primary
is stopped, a backend is terminated); only the breakers' clock is fake, so no test
waits out a reset timeout.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from structlog.testing import capture_logs

from folio.bootstrap import build_platform
from folio.core.db import Database, StatementTimeoutError, read_your_writes_scope
from folio.core.errors import DatabaseUnavailableError
from folio.core.ratelimit import RateLimiter
from folio.core.resilience import BreakerState, CircuitBreaker, CircuitOpenError
from folio.core.settings import DatabaseSettings, Settings
from folio.entrypoints.gateway import create_app
from folio.ops.manager import ServiceManager
from folio.ops.process import ProcessSpec, stop
from folio.ops.services.postgres import PostgresService
from tests.conftest import free_port

pytestmark = pytest.mark.integration

ATTEMPTS = 3
THRESHOLD = 3
RESET_S = 30.0
STATEMENT_TIMEOUT_MS = 300


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read through a call so that mypy does not keep it narrowed between reads."""
    return breaker.state


@dataclass
class Dedicated:
    """The private PostgreSQL pair: its settings, its service and its manager."""

    settings: Settings
    service: PostgresService
    manager: ServiceManager

    def primary_spec(self) -> ProcessSpec:
        """The primary's process spec (for ``stop``)."""
        return next(spec for spec in self.service.processes() if spec.name == "postgres.primary")


class FakeClock:
    """The breakers' clock; only the test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


@pytest.fixture(scope="module")
def dedicated(settings: Settings) -> Iterator[Dedicated]:
    """A primary and streaming replica of our own, stopped and deleted afterwards whatever happens."""
    root = settings.services.data_dir.absolute() / f"test-resilience-{uuid.uuid4().hex[:8]}"
    pg = settings.services.postgres.model_copy(update={"port": free_port(), "replica_port": free_port()})
    private = settings.model_copy(
        update={"services": settings.services.model_copy(update={"data_dir": root, "postgres": pg})}
    )
    manager = ServiceManager(private)
    try:
        started = manager.up(["postgres"])
        assert [spec.name for spec in started] == ["postgres.primary", "postgres.replica"]
        yield Dedicated(private, PostgresService(private), manager)
    finally:
        try:
            manager.down(["postgres"])
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def db_settings(dedicated: Dedicated) -> DatabaseSettings:
    """Small timeouts and thresholds, so failures show within the test's budget."""
    return dedicated.settings.database.model_copy(
        update={
            "statement_timeout_ms": STATEMENT_TIMEOUT_MS,
            "connect_timeout_s": 2.0,
            "retry_attempts": ATTEMPTS,
            "retry_max_backoff_s": 0.05,
            "breaker_failure_threshold": THRESHOLD,
            "breaker_reset_timeout_s": RESET_S,
            "pool_size": 2,
            # The counts below assume a ping per checkout (one connection attempt per try);
            # the default, no ping, is covered by test_db.py's dead-connection test.
            "pool_pre_ping": True,
        }
    )


@pytest.fixture
def clock() -> FakeClock:
    """The breakers' fake clock."""
    return FakeClock()


@pytest.fixture
async def database(
    dedicated: Dedicated, db_settings: DatabaseSettings, clock: FakeClock
) -> AsyncIterator[Database]:
    """A ``Database`` on the dedicated primary and replica, disposed afterwards."""
    pg = dedicated.settings.services.postgres
    db = Database.from_urls(db_settings, pg.url(), pg.url(replica=True), clock=clock)
    yield db
    await db.dispose()


@pytest.fixture
async def notes(database: Database, dedicated: Dedicated) -> AsyncIterator[Table]:
    """A throwaway table on the primary, dropped afterwards."""
    table = Table(
        f"notes_{uuid.uuid4().hex[:10]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("body", String(50), nullable=False),
    )
    # Tables are the owner role's to create (migrations run as it); the app role may not.
    owner = create_async_engine(dedicated.settings.services.postgres.url(role="owner"), poolclass=NullPool)
    try:
        async with owner.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
        yield table
        async with owner.begin() as connection:
            await connection.run_sync(table.metadata.drop_all)
    finally:
        await owner.dispose()


async def count(database: Database, table: Table) -> int:
    """Rows in ``table`` on the primary."""
    async with database.primary.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def in_recovery(session: AsyncSession) -> bool:
    """True on the replica (a hot standby), False on the primary."""
    return bool((await session.execute(text("SELECT pg_is_in_recovery()"))).scalar_one())


async def test_statement_timeout_is_a_clear_error_and_not_retried(database: Database) -> None:
    """A statement past statement_timeout_ms is cancelled by the server: StatementTimeoutError, one try."""
    tries = 0

    async def slow(session: AsyncSession) -> None:
        nonlocal tries
        tries += 1
        await session.execute(text("SELECT pg_sleep(5)"))

    with pytest.raises(StatementTimeoutError, match=f"{STATEMENT_TIMEOUT_MS} ms"):
        await database.run(slow, readonly=True)

    assert tries == 1
    assert database.replica_breaker is not None
    assert database.replica_breaker.failures == 0


async def test_readonly_reads_the_replica_until_the_scope_writes(database: Database, notes: Table) -> None:
    """Reads use the replica; after a commit in the scope, the primary; a new scope reads the replica."""

    async def write(session: AsyncSession) -> None:
        await session.execute(insert(notes).values(body="mine"))

    async def my_rows(session: AsyncSession) -> tuple[bool, int]:
        rows = (await session.execute(select(func.count()).select_from(notes))).scalar_one()
        return await in_recovery(session), int(rows)

    with read_your_writes_scope():
        assert await database.run(in_recovery, readonly=True) is True
        await database.run(write)
        assert await database.run(my_rows, readonly=True) == (False, 1)

    with read_your_writes_scope():
        assert await database.run(in_recovery, readonly=True) is True


async def test_backend_terminated_mid_unit_is_retried_and_commits_once(
    database: Database, dedicated: Dedicated, notes: Table
) -> None:
    """pg_terminate_backend on the unit's connection mid-transaction: the whole unit re-runs, one row kept."""
    tries = 0

    async def write_then_lose_connection(session: AsyncSession) -> None:
        nonlocal tries
        tries += 1
        await session.execute(insert(notes).values(body=f"try {tries}"))
        if tries == 1:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            # As the postgres superuser over the socket, waiting until the backend is gone.
            script = f"SELECT pg_terminate_backend({int(pid)}, 5000);"
            await asyncio.to_thread(dedicated.service.psql, "primary", script)
        await session.execute(text("SELECT 1"))

    await database.run(write_then_lose_connection)

    assert tries == 2
    async with database.primary.connect() as connection:
        bodies = (await connection.execute(select(notes.c.body))).scalars().all()
    assert bodies == ["try 2"]
    assert state_of(database.primary_breaker) is BreakerState.CLOSED


async def test_primary_outage_opens_the_breaker_fails_fast_and_recovers(
    database: Database, dedicated: Dedicated, notes: Table, clock: FakeClock
) -> None:
    """Primary down: the breaker opens, later runs open no connection; primary back: a trial closes it."""
    connects: list[object] = []
    event.listen(database.primary.sync_engine, "do_connect", lambda *args: connects.append(args))
    tries = 0

    async def write(session: AsyncSession) -> None:
        nonlocal tries
        tries += 1
        await session.execute(insert(notes).values(body="after"))

    await database.run(write)
    assert tries == 1
    connects.clear()

    spec = dedicated.primary_spec()
    assert stop(spec)
    try:
        with pytest.raises(DatabaseUnavailableError, match="could not be reached") as failed:
            await database.run(write)
        assert isinstance(failed.value.__cause__, ConnectionRefusedError)
        assert state_of(database.primary_breaker) is BreakerState.OPEN
        # One connection attempt per try (the pooled connection fails its pre-ping).
        connects_when_opened = len(connects)
        assert connects_when_opened == ATTEMPTS

        for _ in range(20):
            with pytest.raises(DatabaseUnavailableError, match="circuit breaker is open") as refused:
                await database.run(write)
            assert isinstance(refused.value.__cause__, CircuitOpenError)
        with pytest.raises(DatabaseUnavailableError, match="circuit breaker is open"):
            await database.check_ready()
        assert len(connects) == connects_when_opened
        assert tries == 1 + ATTEMPTS
    finally:
        restarted = dedicated.manager.up(["postgres"])
    assert [s.name for s in restarted] == ["postgres.primary"]

    clock.now += RESET_S
    assert state_of(database.primary_breaker) is BreakerState.HALF_OPEN
    await database.run(write)

    assert state_of(database.primary_breaker) is BreakerState.CLOSED
    assert await count(database, notes) == 2


async def test_recovery_probe_closes_the_breaker_as_soon_as_the_primary_listens(
    database: Database, dedicated: Dedicated, notes: Table
) -> None:
    """Primary killed and restarted: callers are refused until the probe, not a caller, closes the breaker.

    The breakers' clock never moves here, so no timed trial can happen: only the probe
    can close the breaker. Prints the time from the primary listening to the first write.
    """
    tries = 0

    async def write(session: AsyncSession) -> None:
        nonlocal tries
        tries += 1
        await session.execute(insert(notes).values(body="probe"))

    pg = dedicated.settings.services.postgres
    with capture_logs() as logs:
        async with database.recovery_probes():
            await database.run(write)
            assert stop(dedicated.primary_spec())
            try:
                with pytest.raises(DatabaseUnavailableError, match="could not be reached"):
                    await database.run(write)
                assert state_of(database.primary_breaker) is BreakerState.OPEN
                with pytest.raises(DatabaseUnavailableError, match="circuit breaker is open") as refused:
                    await database.run(write)
                assert refused.value.retry_after_s == 1
            finally:
                listening = asyncio.create_task(first_listening(pg.host, pg.port))
                restarted = await asyncio.to_thread(dedicated.manager.up, ["postgres"])
            listens_at = await listening
            assert [s.name for s in restarted] == ["postgres.primary"]
            for _ in range(4000):  # 20 s at most
                if state_of(database.primary_breaker) is BreakerState.CLOSED:
                    break
                await asyncio.sleep(0.005)
            closed_at = time.perf_counter()
            tries = 0
            await database.run(write)
            written_at = time.perf_counter()

    assert tries == 1
    assert await count(database, notes) == 2
    changes = [entry["event"] for entry in logs if entry["event"].startswith("circuit.")]
    assert changes == ["circuit.opened", "circuit.closed"]
    print(  # noqa: T201 - the figure the issue asks for, shown with -s
        f"\nprimary listening -> breaker closed {closed_at - listens_at:.3f}s, "
        f"-> first write committed {written_at - listens_at:.3f}s"
    )


async def first_listening(host: str, port: int) -> float:
    """The ``perf_counter`` time at which ``host:port`` first accepts a TCP connection."""
    while True:
        try:
            _reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.005)
            continue
        at = time.perf_counter()
        writer.close()
        await writer.wait_closed()
        return at


async def test_readyz_is_degraded_not_failed_while_only_the_primary_is_down(
    database: Database, dedicated: Dedicated
) -> None:
    """Real primary stopped: /readyz is 200 degraded (the replica serves reads), and ready once it is back."""
    platform = build_platform(
        dedicated.settings,
        database=database,
        rate_limiter=RateLimiter("memory://"),
    )
    platform.readiness = {
        "database": database.check_ready,
        "database-replica": lambda: database.check_ready(readonly=True),
    }
    app = create_app(dedicated.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://g") as http,
    ):
        assert (await http.get("/readyz")).json()["status"] == "ready"
        assert stop(dedicated.primary_spec())
        try:
            down = await http.get("/readyz")
            assert await database.run(in_recovery, readonly=True) is True
        finally:
            await asyncio.to_thread(dedicated.manager.up, ["postgres"])
        back = await http.get("/readyz")
    await platform.aclose()

    assert back.json()["status"] == "ready"
    assert down.status_code == 200
    body = down.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"].startswith("failed: ")
    assert body["checks"]["database-replica"] == "ok"
