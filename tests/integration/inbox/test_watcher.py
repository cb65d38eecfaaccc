"""The watcher on the real PostgreSQL ledger, a local lake, real files and real watchdog events."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from folio.core.db import Database
from folio.core.settings import Settings
from folio.inbox.loader import FileOutcome, Handled
from folio.inbox.watcher import InboxWatcher
from folio.lake.api import Lake, lake_for
from tests.support.tracing import recording_spans, spans_named
from tests.unit.inbox.conftest import make_loader, orders_csv, with_local_lake

pytestmark = pytest.mark.integration

WAIT_S = 20.0
"""The most a test waits for an outcome: a bound on a hung watcher, not a measured time."""


@pytest.fixture
def inbox_settings(migrated_postgres: Settings, tmp_path: Path) -> Settings:
    """The suite's PostgreSQL, a lake in ``tmp_path/lake``, a short settle time and no backoff."""
    return with_local_lake(migrated_postgres, tmp_path / "lake", settle_s=0.3, poll_interval_s=0.05)


class Outcomes:
    """Every file's outcome, awaitable by count."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, FileOutcome]] = []
        self.changed = asyncio.Event()

    def __call__(self, path: Path, outcome: FileOutcome) -> None:
        """Record one outcome (the watcher's ``on_outcome``)."""
        self.seen.append((path.name, outcome))
        self.changed.set()

    async def wait_for(self, count: int, handled: Handled | None = None) -> list[tuple[str, FileOutcome]]:
        """The outcomes once ``count`` of them (those ``handled`` so, if given) are in."""
        async with asyncio.timeout(WAIT_S):
            while sum(1 for _, o in self.seen if handled in {None, o.handled}) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.seen


@asynccontextmanager
async def watching(
    folder: Path,
    database: Database,
    lake: Lake,
    settings: Settings,
    *,
    owner: str = "it:1",
    outcomes: Outcomes | None = None,
) -> AsyncIterator[Outcomes]:
    """A watcher on ``folder`` running in the background, reporting to ``outcomes`` (a new one by default)."""
    outcomes = outcomes or Outcomes()
    watcher = InboxWatcher(
        folder,
        make_loader(database, lake, settings, owner=owner),
        settle_s=settings.inbox.settle_s,
        poll_interval_s=settings.inbox.poll_interval_s,
        workers_per_format=2,
        on_outcome=outcomes,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        yield outcomes
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT_S)


async def lake_rows(lake: Lake) -> int:
    """Rows of ``inbox_orders`` (read off the loop)."""
    table = await asyncio.to_thread(lake.query, "SELECT count(*) AS n FROM inbox_orders")
    return int(table.column("n")[0].as_py())


def unique_rows(start: int) -> Callable[[int], str]:
    """Orders CSVs whose content no other test drops (the ledger is the suite's, by content hash)."""
    return lambda rows: orders_csv(rows, start=start + time.time_ns() % 10**9 * 1000)


async def test_a_file_written_slowly_is_read_only_once_complete(
    pg_database: Database, inbox_settings: Settings, tmp_path: Path
) -> None:
    """A writer pausing longer than the settle time with the file open is waited for: every row loads."""
    folder, lake = tmp_path / "inbox", lake_for(inbox_settings)
    folder.mkdir()
    text = unique_rows(0)(30)
    lines = text.splitlines(keepends=True)
    written = threading.Event()

    def write_slowly() -> None:
        with (folder / "orders-slow.csv").open("w") as out:
            for chunk in (lines[:10], lines[10:20], lines[20:]):
                out.writelines(chunk)
                out.flush()
                time.sleep(3 * inbox_settings.inbox.settle_s)  # size stable longer than the settle time
        written.set()

    async with watching(folder, pg_database, lake, inbox_settings) as outcomes:
        await asyncio.to_thread(write_slowly)
        [(name, outcome)] = await outcomes.wait_for(1)
    assert written.is_set()
    assert (name, outcome.handled, outcome.rows) == ("orders-slow.csv", Handled.LOADED, 30)
    assert await lake_rows(lake) == 30


async def test_renamed_in_files_load_and_a_copy_loads_once_across_a_restart(
    pg_database: Database, inbox_settings: Settings, tmp_path: Path
) -> None:
    """A file renamed in from a .part name loads; the same content dropped after a restart is a duplicate."""
    folder, lake = tmp_path / "inbox", lake_for(inbox_settings)
    folder.mkdir()
    text = unique_rows(1)(8)
    async with watching(folder, pg_database, lake, inbox_settings) as outcomes:
        partial = folder / "orders-a.csv.part"
        partial.write_text(text)
        partial.rename(folder / "orders-a.csv")
        [(_, first)] = await outcomes.wait_for(1)
    assert (first.handled, first.rows) == (Handled.LOADED, 8)
    (folder / "orders-b.csv").write_text(text)  # dropped while no watcher runs: found by the start-up scan
    async with watching(folder, pg_database, lake, inbox_settings, owner="it:2") as outcomes:
        [(name, second)] = await outcomes.wait_for(1)
    assert (name, second.handled) == ("orders-b.csv", Handled.DUPLICATE)
    assert await lake_rows(lake) == 8
    assert sorted(p.name for p in (folder / "loaded").iterdir()) == ["orders-a.csv", "orders-b.csv"]


async def test_two_watchers_on_one_folder_load_each_file_once(
    pg_database: Database, inbox_settings: Settings, tmp_path: Path
) -> None:
    """Two watchers see the same six files: every file is loaded by exactly one of them."""
    folder, lake = tmp_path / "inbox", lake_for(inbox_settings)
    folder.mkdir()
    make = unique_rows(2)
    async with (
        watching(folder, pg_database, lake, inbox_settings, owner="it:a") as a,
        watching(folder, pg_database, lake, inbox_settings, owner="it:b", outcomes=a),
    ):
        for n in range(6):
            (folder / f"orders-{n}.csv").write_text(make(5 + n))
        await a.wait_for(6, Handled.LOADED)
    loaded = sorted(name for name, o in a.seen if o.handled is Handled.LOADED)
    assert loaded == [f"orders-{n}.csv" for n in range(6)]
    assert await lake_rows(lake) == sum(5 + n for n in range(6))


async def test_a_bad_file_is_quarantined_and_the_others_load(
    pg_database: Database, inbox_settings: Settings, tmp_path: Path
) -> None:
    """A CSV with a bad value lands in quarantine/ with its reason; a Parquet file beside it loads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder, lake = tmp_path / "inbox", lake_for(inbox_settings)
    folder.mkdir()
    async with watching(folder, pg_database, lake, inbox_settings) as outcomes:
        (folder / "orders-bad.csv").write_text(unique_rows(3)(4).replace(",EUR,", ",,", 1))
        user = time.time_ns() % 10**12
        ratings = pa.table({"User-ID": [user, user + 1], "ISBN": ["x", "y"], "Book-Rating": [3, 8]})
        pq.write_table(ratings, folder / "book_ratings-1.parquet")
        seen = {name: o.handled for name, o in await outcomes.wait_for(2)}
    assert seen == {"orders-bad.csv": Handled.QUARANTINED, "book_ratings-1.parquet": Handled.LOADED}
    reason = (folder / "quarantine" / "orders-bad.csv.reason.txt").read_text()
    assert "row 1, column 'currency': empty" in reason


async def test_each_load_is_a_span_and_a_quarantined_one_an_error(
    pg_database: Database, inbox_settings: Settings, tmp_path: Path
) -> None:
    """An `inbox load` span per file, naming it and its outcome; the quarantined file's is an error."""
    folder, lake = tmp_path / "inbox", lake_for(inbox_settings)
    folder.mkdir()
    with recording_spans("inbox-test") as exporter:
        async with watching(folder, pg_database, lake, inbox_settings) as outcomes:
            (folder / "orders-good.csv").write_text(unique_rows(5)(2))
            (folder / "orders-bad.csv").write_text(unique_rows(6)(2).replace(",EUR,", ",,", 1))
            await outcomes.wait_for(2)
    assert isinstance(exporter, InMemorySpanExporter)
    loads = {span: dict(span.attributes or {}) for span in spans_named(exporter, "inbox load")}
    by_file = {str(attributes["inbox.file"]): (span, attributes) for span, attributes in loads.items()}
    assert {name: attributes["inbox.outcome"] for name, (_, attributes) in by_file.items()} == {
        "orders-good.csv": "loaded",
        "orders-bad.csv": "quarantined",
    }
    assert by_file["orders-good.csv"][0].status.status_code is StatusCode.UNSET
    assert by_file["orders-bad.csv"][0].status.status_code is StatusCode.ERROR
    assert by_file["orders-bad.csv"][1]["inbox.dataset"] == "orders"
