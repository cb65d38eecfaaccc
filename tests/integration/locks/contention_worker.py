"""Contention-test workers: lock, report, write through the fence, release; until stopped.

Run by ``test_contention.py`` (``python -m tests.integration.locks.contention_worker``)
with a list of worker configurations as JSON in ``FOLIO_TEST_LOCK_WORKER`` (the
database URL has a password: not on the command line). The process imports what the
workers need once, then forks one process per further worker before any connection or
event loop exists: three cold starts would cost the test several seconds. Each worker
reports one line per event on the shared stdout, prefixed with its number: ``pid <pid>``
first, then ``held <token>``, ``wrote <token>``, ``refused <token>``, ``busy``,
``unavailable``, and ``exited`` if it fails.

SIGTERM stops a worker at once, unless a write is in flight: then it stops right after
reporting that write's outcome, so every row it committed is reported (the test reads
the events until every worker has exited, then compares them with the table).

On the holds numbered in ``pause_at`` it stops itself with SIGSTOP right after reporting
``held``, so the pause always falls between taking the lock and writing; the test sends
SIGCONT once its lease has run out and another holder wrote. The lease is taken with
``acquire``, not ``hold``: the watchdog would usually cancel the stale write before it
reached the database, and this worker is here to show that the fence refuses it anyway.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.settings import DatabaseSettings
from folio.locks.api import FencingError, LockNotAcquiredError, LocksUnavailableError, Redlock, fence
from folio.locks.settings import LockSettings


def report(worker: int, line: str) -> None:
    """One event line, flushed at once (the test reacts to each; one write, so lines never mix)."""
    sys.stdout.write(f"{worker} {line}\n")
    sys.stdout.flush()


class Stop:
    """SIGTERM's handling: cancel the worker now, or, while it writes, let it finish and report first."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self._task = task
        self.requested = False
        self.writing = False

    def request(self) -> None:
        """The signal handler."""
        self.requested = True
        if not self.writing:
            self._task.cancel()


async def serve(config: dict[str, Any]) -> None:
    """Contend until SIGTERM (``Stop``)."""
    task = asyncio.current_task()
    assert task is not None
    stop = Stop(task)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.request)
    try:
        await contend(config, stop)
    except asyncio.CancelledError:
        if not stop.requested:
            raise
        task.uncancel()


async def contend(config: dict[str, Any], stop: Stop) -> None:
    """Contend for ``config["resource"]`` until ``stop`` is requested."""
    worker = config["worker"]
    report(worker, f"pid {os.getpid()}")
    locks = Redlock.from_urls(config["urls"], LockSettings(**config["locks"]), namespace=config["namespace"])
    database = Database.from_urls(DatabaseSettings(), config["database_url"], None)
    writes = Table(
        config["table"],
        MetaData(),
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("token", BigInteger, nullable=False),
        Column("worker", Integer, nullable=False),
    )
    resource = config["resource"]
    holds = 0
    while not stop.requested:
        try:
            lease = await locks.acquire(resource, ttl_s=config["ttl_s"], wait_s=5)
        except LockNotAcquiredError:
            report(worker, "busy")
            continue
        except LocksUnavailableError:
            report(worker, "unavailable")
            continue
        holds += 1
        report(worker, f"held {lease.fencing_token}")
        if holds in config["pause_at"]:
            os.kill(os.getpid(), signal.SIGSTOP)
        await asyncio.sleep(config["work_s"])

        async def write(session: AsyncSession, token: int = lease.fencing_token) -> None:
            await fence(session, resource=resource, token=token)
            await session.execute(insert(writes).values(token=token, worker=worker))

        # Not cancelled from here to the report: a commit whose report is lost is a row the
        # test cannot account for.
        stop.writing = True
        try:
            await database.run(write)
            report(worker, f"wrote {lease.fencing_token}")
        except FencingError:
            report(worker, f"refused {lease.fencing_token}")
        finally:
            stop.writing = False
        await locks.release(lease)


def run(config: dict[str, Any]) -> None:
    """One worker's life; ``exited`` reported if it fails (SIGTERM ends it quietly)."""
    try:
        asyncio.run(serve(config))
    except BaseException:
        report(config["worker"], "exited")
        raise


def main() -> None:
    """Fork a process for every worker but the first, which runs here."""
    first, *others = json.loads(os.environ["FOLIO_TEST_LOCK_WORKER"])
    for config in others:
        if os.fork() == 0:
            try:
                run(config)
            finally:
                os._exit(1)
    run(first)


if __name__ == "__main__":
    main()
