"""The loader on SQLite and a local lake: loaded once per content, invalid files quarantined, retries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from folio.core.db import Database
from folio.core.settings import Settings
from folio.inbox.api import inbox_datasets
from folio.inbox.datasets import FileFormat
from folio.inbox.files import sha256_of
from folio.inbox.ledger import FileStatus, claim_file, get_entry, ledger_summary
from folio.inbox.loader import Handled, lake_table, source_of
from folio.inbox.validation import read_file
from folio.lake.api import Lake, lake_for
from tests.unit.inbox.conftest import make_loader, orders_csv, with_local_lake

pytestmark = pytest.mark.unit


async def lake_rows(lake: Lake, table: str = "inbox_orders") -> int:
    """Rows the lake table holds (0 when it does not exist), read off the loop as the lake requires."""

    def count() -> int:
        if table not in lake.tables():
            return 0
        sql = f"SELECT count(*) AS n FROM {table}"  # noqa: S608 - the test's own table name
        return int(lake.query(sql).column("n")[0].as_py())

    return await asyncio.to_thread(count)


async def test_the_same_content_dropped_twice_loads_once(
    sqlite_database: Database, lake: Lake, inbox_settings: Settings, folder: Path
) -> None:
    """A file is appended and moved to loaded/; a copy under another name is a duplicate and adds no row."""
    loader = make_loader(sqlite_database, lake, inbox_settings)
    before = REGISTRY.get_sample_value("folio_inbox_rows_total", {"dataset": "orders"}) or 0.0
    first = folder / "orders-2026-12-01.csv"
    first.write_text(orders_csv(5))
    outcome = await loader.handle(first)
    assert (outcome.handled, outcome.rows) == (Handled.LOADED, 5)
    assert outcome.moved_to == folder / "loaded" / first.name
    copy = folder / "orders-again.csv"
    copy.write_text(orders_csv(5))
    assert (await loader.handle(copy)).handled is Handled.DUPLICATE
    assert await lake_rows(lake) == 5
    manifest = await asyncio.to_thread(lake.manifest, "inbox_orders")
    assert [file.source for file in manifest.files] == [
        source_of(first.name, sha256_of(folder / "loaded" / first.name))
    ] * 2
    assert REGISTRY.get_sample_value("folio_inbox_rows_total", {"dataset": "orders"}) == before + 5
    summary = await ledger_summary(sqlite_database)
    assert (summary.files[FileStatus.LOADED], summary.rows_loaded) == (1, 5)


async def test_an_invalid_file_is_quarantined_at_once_with_its_reason(
    sqlite_database: Database, lake: Lake, inbox_settings: Settings, folder: Path
) -> None:
    """A file with a bad value goes to quarantine/ at its first attempt, the reason naming row and column."""
    loader = make_loader(sqlite_database, lake, inbox_settings)
    path = folder / "orders.csv"
    path.write_text(orders_csv(3).replace(",101,", ",lots,"))
    outcome = await loader.handle(path)
    assert outcome.handled is Handled.QUARANTINED
    reason = (folder / "quarantine" / "orders.csv.reason.txt").read_text()
    assert "row 2, column 'total_minor': 'lots' is not a int64" in reason
    assert "attempts: 1" in reason
    assert await lake_rows(lake) == 0
    quarantined = [entry.file_name for entry in (await ledger_summary(sqlite_database)).recent_failures]
    assert quarantined == ["orders.csv"]


async def test_a_file_of_no_dataset_is_quarantined(
    sqlite_database: Database, lake: Lake, inbox_settings: Settings, folder: Path
) -> None:
    """A file whose name matches no declared dataset is quarantined, saying which datasets exist."""
    path = folder / "invoices.csv"
    path.write_text("a\n1\n")
    outcome = await make_loader(sqlite_database, lake, inbox_settings).handle(path)
    assert outcome.handled is Handled.QUARANTINED
    assert "'book_ratings', 'orders'" in (folder / "quarantine" / "invoices.csv.reason.txt").read_text()


async def test_a_failure_that_may_pass_is_retried_then_succeeds(
    sqlite_database: Database, settings: Settings, tmp_path: Path, folder: Path
) -> None:
    """With the lake's folder unusable the file is retried (not quarantined); once it is usable, it loads."""
    blocked = tmp_path / "lake"
    blocked.write_text("a file where the lake's folder should be")
    lake_settings = with_local_lake(settings, blocked, max_attempts=3)
    loader = make_loader(sqlite_database, lake_for(lake_settings), lake_settings)
    path = folder / "orders.csv"
    path.write_text(orders_csv(2))
    outcome = await loader.handle(path)
    assert outcome.handled is Handled.RETRY
    assert path.exists()
    blocked.unlink()
    assert (await loader.handle(path)).handled is Handled.LOADED
    entry = await get_entry(sqlite_database, content_hash=sha256_of(folder / "loaded" / "orders.csv"))
    assert entry is not None
    assert (entry.status, entry.attempts, entry.rows) == (FileStatus.LOADED, 2, 2)


async def test_a_failure_that_persists_is_quarantined_after_the_last_attempt(
    sqlite_database: Database, settings: Settings, tmp_path: Path, folder: Path
) -> None:
    """After `inbox.max_attempts` failed attempts the file is quarantined with the last error."""
    blocked = tmp_path / "lake"
    blocked.write_text("not a folder")
    lake_settings = with_local_lake(settings, blocked, max_attempts=2)
    loader = make_loader(sqlite_database, lake_for(lake_settings), lake_settings)
    path = folder / "orders.csv"
    path.write_text(orders_csv(2))
    handled = [(await loader.handle(path)).handled for _ in range(2)]
    assert handled == [Handled.RETRY, Handled.QUARANTINED]
    assert "failed 2 time(s)" in (folder / "quarantine" / "orders.csv.reason.txt").read_text()


async def test_a_taken_over_file_already_in_the_lake_is_not_appended_again(
    sqlite_database: Database, lake: Lake, inbox_settings: Settings, folder: Path
) -> None:
    """A watcher killed after its append leaves `loading`; the next finds its rows by source, adds none."""
    path = folder / "orders.csv"
    path.write_text(orders_csv(3))
    digest = sha256_of(path)
    await claim_file(
        sqlite_database,
        content_hash=digest,
        file_name=path.name,
        dataset="orders",
        table_name="inbox_orders",
        owner="dead:1",
        lease_s=0.001,
    )
    orders = inbox_datasets(inbox_settings)["orders"]
    rows = read_file(path, orders, FileFormat.CSV)
    await asyncio.to_thread(lake.append, lake_table(orders), rows, source=source_of(path.name, digest))
    await asyncio.sleep(0.01)  # its lease lapses
    outcome = await make_loader(sqlite_database, lake, inbox_settings).handle(path)
    assert (outcome.handled, outcome.rows) == (Handled.LOADED, 3)
    assert await lake_rows(lake) == 3
