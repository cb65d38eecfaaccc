"""Contention across processes: holders paused with SIGSTOP past their TTL, and an instance killed mid-run.

Three worker processes (``contention_worker``) contend for one resource on Redlock and
write through the fence into a table of the test's own on PostgreSQL. A paused worker
stops itself (SIGSTOP) right after it reports the lock, and the test resumes it
(SIGCONT) only once its lease has run out and another holder has written: its write is
then stale and must be refused. A violation is a write accepted out of order, a row
whose token is below one committed before it; the test prints the figures (``-s``) and
asserts there are none. The events must account for every row: at the end the test
stops the workers and reads on until every one has exited (a worker with a write in
flight stops only once it has reported it), so each committed row is a write a worker
reported, under the token it reported holding. The killed instance is a dedicated
Redis started for that test, never one of the shared ones. Both happen in one run:
starting the three worker processes is most of its time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, delete, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from folio.core.db import Database
from folio.core.settings import Settings
from folio.locks.models import LockFence
from folio.ops.manager import ServiceManager
from folio.ops.process import ProcessSpec, read_pid_file
from tests.conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.integration

WORKERS = 3
TTL_S = 0.3
WORK_S = 0.02
TARGET_WRITES = 15
KILL_AFTER = 6
DEADLINE_S = 60.0
"""A run that has not finished by then is stuck: fail it with what happened."""


Event = tuple[int, int]
"""``(token, worker)``: a hold, a write or a row, and the worker it was."""


@dataclass
class Outcome:
    """What the workers reported, and what the table says was accepted, in commit order."""

    held: list[Event] = field(default_factory=list)
    wrote: list[Event] = field(default_factory=list)
    refused: list[Event] = field(default_factory=list)
    paused: list[Event] = field(default_factory=list)
    """The holds a worker paused on."""
    unavailable: int = 0
    committed: list[Event] = field(default_factory=list)

    @property
    def violations(self) -> int:
        """Accepted writes whose token is below one accepted before them."""
        newest, count = 0, 0
        for token, _ in self.committed:
            if token < newest:
                count += 1
            newest = max(newest, token)
        return count


@dataclass
class DedicatedRedis:
    """A Redis instance of this module's own, started by the harness, for killing."""

    url: str
    spec: ProcessSpec

    def kill(self) -> None:
        """SIGKILL it: no shutdown, no goodbye to its clients."""
        record = read_pid_file(self.spec.pid_file)
        assert record is not None
        assert record.is_alive()
        os.kill(record.pid, signal.SIGKILL)


@pytest.fixture
def dedicated_redis(settings: Settings) -> Iterator[DedicatedRedis]:
    """One redis-server on a free port, its data outside the shared servers', removed afterwards."""
    root = settings.services.data_dir.absolute() / f"test-locks-{uuid.uuid4().hex[:8]}"
    redis = settings.services.redis.model_copy(update={"port": free_port(), "instances": 1})
    private = settings.model_copy(
        update={"services": settings.services.model_copy(update={"data_dir": root, "redis": redis})}
    )
    manager = ServiceManager(private)
    try:
        (spec,) = manager.up(["redis"])
        yield DedicatedRedis(redis.urls[0], spec)
    finally:
        try:
            manager.down(["redis"])
        finally:
            shutil.rmtree(root, ignore_errors=True)


@dataclass
class Arena:
    """Where the workers contend: the lock instances, the resource, and the table they write to."""

    urls: list[str]
    namespace: str
    resource: str
    database_url: str
    table: Table
    logs: Path


@pytest.fixture
async def arena(
    redlock_urls: list[str],
    namespace: str,
    migrated_postgres: Settings,
    pg_database: Database,
    tmp_path: Path,
) -> AsyncIterator[Arena]:
    """The shared Redlock instances, and a resource and table of the test's own (dropped afterwards).

    The owner role creates the table (the app role, which the workers write as, may not).
    """
    resource = f"test:contention:{uuid.uuid4().hex[:10]}"
    table = Table(
        f"lock_writes_{uuid.uuid4().hex[:10]}",
        MetaData(),
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("token", BigInteger, nullable=False),
        Column("worker", Integer, nullable=False),
    )
    owner = create_async_engine(migrated_postgres.database_migration_url, poolclass=NullPool)
    try:
        async with owner.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
        yield Arena(redlock_urls, namespace, resource, migrated_postgres.database_url, table, tmp_path)
        async with owner.begin() as connection:
            await connection.run_sync(table.metadata.drop_all)
            await connection.execute(delete(LockFence).where(LockFence.resource == resource))
    finally:
        await owner.dispose()


def stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (state T in /proc)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in {"T", "t"}


class Contention:
    """The run's bookkeeping: reads the workers' events, wakes the paused, counts what happened."""

    def __init__(
        self, pause_at: dict[int, list[int]], on_write: Callable[[int], None] | None, log: Path
    ) -> None:
        self.pause_at = pause_at
        self.on_write = on_write
        self.log = log
        self.outcome = Outcome()
        self.pids: dict[int, int] = {}
        self.holds = [0] * WORKERS
        self.asleep: dict[int, int] = {}
        """worker -> the token it holds while stopped."""

    @property
    def done(self) -> bool:
        """Enough writes, every planned pause taken, and every paused hold's write back with its outcome."""
        outcome = self.outcome
        planned = sum(len(numbers) for numbers in self.pause_at.values())
        settled = set(outcome.paused) <= set(outcome.wrote) | set(outcome.refused)
        return len(outcome.wrote) >= TARGET_WRITES and len(outcome.paused) == planned and settled

    async def take(self, line: bytes) -> None:
        """Count one line of the workers' output (``<worker> <event> [value]``); fail if one exited."""
        words = line.decode().split()
        if len(words) < 2 or words[1] == "exited":  # no line at all: every worker is gone
            pytest.fail(f"a worker exited: {self.log.read_text()[-3000:]}")
        await self.handle(int(words[0]), words[1], "".join(words[2:]))

    async def handle(self, worker: int, kind: str, value: str) -> None:
        """Count one event; a write wakes every stopped worker whose token it overtook."""
        if kind == "pid":
            self.pids[worker] = int(value)
        elif kind == "held":
            self.outcome.held.append((int(value), worker))
            self.holds[worker] += 1
            if self.holds[worker] in self.pause_at.get(worker, []):
                self.asleep[worker] = int(value)
                self.outcome.paused.append((int(value), worker))
        elif kind == "wrote":
            self.outcome.wrote.append((int(value), worker))
            await self._wake_the_overtaken(newest=int(value))
            if self.on_write is not None:
                self.on_write(len(self.outcome.wrote))
        elif kind == "refused":
            self.outcome.refused.append((int(value), worker))
        elif kind == "unavailable":
            self.outcome.unavailable += 1

    async def _wake_the_overtaken(self, *, newest: int) -> None:
        """SIGCONT each stopped worker whose token is below ``newest``: its lease ended, another wrote."""
        for worker, token in list(self.asleep.items()):
            if token < newest:
                pid = self.pids[worker]
                # It reported the lock a moment before stopping itself; /proc is all there is to watch.
                while not stopped(pid):  # noqa: ASYNC110 - no event exists for a stop
                    await asyncio.sleep(0.005)
                os.kill(pid, signal.SIGCONT)
                del self.asleep[worker]


async def contend(
    arena: Arena,
    *,
    urls: list[str] | None = None,
    pause_at: dict[int, list[int]],
    on_write: Callable[[int], None] | None = None,
) -> Outcome:
    """Run the workers until ``Contention.done``; what they reported and what the table holds.

    ``pause_at`` maps a worker to the numbers of its holds on which it stops itself;
    ``on_write(n)`` runs after the n-th accepted write; ``urls`` replace the arena's.
    """
    configs = [
        {
            "urls": urls or arena.urls,
            "namespace": arena.namespace,
            "resource": arena.resource,
            "database_url": arena.database_url,
            "table": arena.table.name,
            "worker": worker,
            "ttl_s": TTL_S,
            "work_s": WORK_S,
            "pause_at": pause_at.get(worker, []),
            "locks": {"retry_delay_s": 0.02, "instance_timeout_s": 0.1},
        }
        for worker in range(WORKERS)
    ]
    log = arena.logs / "workers.log"
    run = Contention(pause_at, on_write, log)
    with log.open("wb") as errors:
        # A session of their own: the workers (forked by the first) are one process group.
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.locks.contention_worker",
            cwd=REPO_ROOT,
            env={**os.environ, "FOLIO_TEST_LOCK_WORKER": json.dumps(configs)},
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(DEADLINE_S):
                while not run.done:
                    await run.take(await proc.stdout.readline())
                # The workers went on meanwhile: a write may be committed but not yet read, or
                # still in flight. Stop them and read on to the end of their output (every
                # worker gone), so those are counted too. SIGCONT first: a stopped process
                # cannot act on SIGTERM.
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGTERM)
                while line := await proc.stdout.readline():
                    await run.take(line)
        finally:
            # Whatever a failed run left (stopped ones included); the first worker is unreaped
            # until ``wait``, so the group's id cannot have been reused.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    async with create_async_engine(arena.database_url, poolclass=NullPool).connect() as connection:
        rows = await connection.execute(
            select(arena.table.c.token, arena.table.c.worker).order_by(arena.table.c.id)
        )
        run.outcome.committed = [(int(token), int(worker)) for token, worker in rows]
    return run.outcome


async def test_paused_holders_and_a_killed_instance_cause_no_fencing_violations(
    arena: Arena, dedicated_redis: DedicatedRedis
) -> None:
    """Holders SIGSTOPped past their TTL have their writes refused; a killed instance leaves a majority.

    The instances are two shared ones and a dedicated one, SIGKILLed after the 6th write;
    three holds pause (two early, one late), so pauses land both before and after the kill.
    """
    killed_at: list[int] = []

    def kill_after_six(written: int) -> None:
        if written == KILL_AFTER:
            dedicated_redis.kill()
            killed_at.append(written)

    outcome = await contend(
        arena,
        urls=[*arena.urls[:2], dedicated_redis.url],
        pause_at={0: [2], 1: [2], 2: [5]},
        on_write=kill_after_six,
    )
    print(  # noqa: T201 - the figure the issue asks for, shown with -s
        f"\ncontention: {len(outcome.held)} holds, {len(outcome.committed)} writes accepted "
        f"({len(outcome.committed) - KILL_AFTER} after an instance was killed), {len(outcome.refused)} stale "
        f"writes refused of {len(outcome.paused)} holders paused past their TTL, "
        f"{outcome.violations} fencing violations"
    )

    assert killed_at == [KILL_AFTER]
    assert len(outcome.committed) >= TARGET_WRITES
    assert outcome.violations == 0
    assert sorted(outcome.refused) == sorted(outcome.paused)
    # Every row is a write its worker reported, under a lease it reported holding with
    # that token, and no token was handed out twice.
    assert sorted(outcome.committed) == sorted(outcome.wrote)
    assert set(outcome.wrote) <= set(outcome.held)
    assert len({token for token, _ in outcome.held}) == len(outcome.held)
