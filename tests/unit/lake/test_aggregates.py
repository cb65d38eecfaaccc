"""The daily aggregates on a small local lake: right numbers, a day replaced not doubled, empty days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from folio.core.settings import Settings
from folio.entrypoints.cli import build_cli
from folio.lake.aggregates import aggregate_day
from folio.lake.api import Lake, lake_for
from tests.unit.lake.day_of_orders import (
    EXPECTED_FUNNEL,
    EXPECTED_SHOP_SALES,
    EXPECTED_WORKS,
    SHOP_A,
    append_generated_day,
)
from tests.unit.lake.test_local_lake import local_settings

pytestmark = pytest.mark.unit

DAY = dt.date(2026, 12, 3)
NEXT_DAY = DAY + dt.timedelta(days=1)


@pytest.fixture
def lake(settings: Settings, tmp_path: Path) -> Lake:
    """A local lake holding two GENERATED days of orders."""
    lake = lake_for(local_settings(settings, tmp_path / "lake"))
    append_generated_day(lake, DAY)
    append_generated_day(lake, NEXT_DAY)
    return lake


def rows_of(lake: Lake, table: str, day: dt.date) -> list[dict[str, Any]]:
    """The day's rows of an aggregate table, in a stable order."""
    rows: list[dict[str, Any]] = lake.query(
        f"SELECT * FROM {table} WHERE date = ? ORDER BY ALL",  # noqa: S608 - a table named by the test
        [day],
    ).to_pylist()
    return rows


def test_the_day_is_summed_per_shop_and_work(lake: Lake) -> None:
    """Sales, works and funnel of the day match the hand-computed answers; the other day is not read."""
    report = aggregate_day(lake, DAY)

    assert report.events == 9
    assert report.rows == {"shop_daily_sales": 2, "work_daily_sales": 3, "shop_daily_funnel": 2}
    sales = {
        row["shop_id"]: (row["orders_paid"], row["revenue_minor"], row["units"])
        for row in rows_of(lake, "shop_daily_sales", DAY)
    }
    works = {
        (row["shop_id"], row["work_id"]): (row["units"], row["revenue_minor"])
        for row in rows_of(lake, "work_daily_sales", DAY)
    }
    funnel = {
        row["shop_id"]: (row["carts"], row["placed"], row["paid"], row["cart_to_paid"])
        for row in rows_of(lake, "shop_daily_funnel", DAY)
    }
    assert (sales, works, funnel) == (EXPECTED_SHOP_SALES, EXPECTED_WORKS, EXPECTED_FUNNEL)
    assert rows_of(lake, "shop_daily_sales", NEXT_DAY) == []


def test_a_day_run_twice_is_replaced_not_doubled(lake: Lake) -> None:
    """The second run replaces the first's rows; one shop's run leaves the other shop's rows alone."""
    aggregate_day(lake, DAY)
    again = aggregate_day(lake, DAY)
    one_shop = aggregate_day(lake, DAY, shops=[SHOP_A])

    assert again.replaced_rows == again.rows
    assert one_shop.rows == {"shop_daily_sales": 1, "work_daily_sales": 2, "shop_daily_funnel": 1}
    assert lake.query("SELECT count(*) AS n FROM shop_daily_sales").to_pylist() == [{"n": 2}]
    assert lake.manifest("work_daily_sales").rows == 3


def test_a_day_with_no_events_writes_nothing_and_says_so(settings: Settings, tmp_path: Path) -> None:
    """An empty lake: zero events, zero rows, the tables exist (empty) for the checks to read."""
    lake = lake_for(local_settings(settings, tmp_path / "empty"))

    report = aggregate_day(lake, DAY)

    assert report.events == 0
    assert set(report.rows.values()) == {0}
    assert rows_of(lake, "shop_daily_funnel", DAY) == []


def test_the_aggregate_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """`folio lake aggregate --date D --json` prints rows per table; without events it says so."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    monkeypatch.setenv("FOLIO_LAKE_BACKEND", "local")
    monkeypatch.setenv("FOLIO_LAKE_PATH", str(tmp_path / "lake"))
    append_generated_day(lake_for(local_settings(settings, tmp_path / "lake")), DAY)
    runner = CliRunner()

    printed = runner.invoke(build_cli(), ["lake", "aggregate", "--date", DAY.isoformat(), "--json"])
    empty = runner.invoke(build_cli(), ["lake", "aggregate", "--date", "2026-01-01"])

    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == {
        "date": DAY.isoformat(),
        "events": 9,
        "shops": [],
        "tables": {
            "shop_daily_sales": {"rows": 2, "replaced_rows": 0},
            "work_daily_sales": {"rows": 3, "replaced_rows": 0},
            "shop_daily_funnel": {"rows": 2, "replaced_rows": 0},
        },
    }
    assert empty.exit_code == 0, empty.output
    assert "no order events on 2026-01-01" in empty.output


def test_compacting_one_day_of_several_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """`folio lake compact A B --date D --json`: one day merged and listed; a missing table skipped."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    monkeypatch.setenv("FOLIO_LAKE_BACKEND", "local")
    monkeypatch.setenv("FOLIO_LAKE_PATH", str(tmp_path / "lake"))
    lake = lake_for(local_settings(settings, tmp_path / "lake"))
    append_generated_day(lake, DAY)
    append_generated_day(lake, DAY)  # the same rows again: a second file in each partition
    append_generated_day(lake, NEXT_DAY)

    printed = CliRunner().invoke(
        build_cli(), ["lake", "compact", "order_events", "nothing_yet", "--date", DAY.isoformat(), "--json"]
    )

    assert printed.exit_code == 0, printed.output
    report = json.loads(printed.output)
    assert report["nothing_yet"] == {"present": False}
    events = report["order_events"]
    assert (events["files_before"], events["files_after"]) == (4, 2)
    assert sorted(path.split("/")[1] for path in events["day_files"]) == [f"date={DAY.isoformat()}"] * 2
    assert len(lake.manifest("order_events").files) == 4  # two merged for DAY, two of NEXT_DAY untouched
