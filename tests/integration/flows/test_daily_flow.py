"""The daily flow on the harness's real Prefect server: aggregates land, a re-run replaces, GX fails bad days.

One backfill over a good day and a bad one (negative revenue injected), on a small
local lake of GENERATED orders in a temporary folder, then a re-run of the good day
and ``folio flows status``. The flow runs in its own environment (``flows/.venv``) and
calls this checkout's Folio through ``FOLIO_PYTHON``; nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from folio.core.settings import Settings
from folio.entrypoints.cli import build_cli
from folio.lake.api import Lake, lake_for
from tests.unit.lake.day_of_orders import EXPECTED_SHOP_SALES, append_generated_day
from tests.unit.lake.test_local_lake import local_settings

pytestmark = pytest.mark.integration

GOOD_DAY = dt.date(2026, 11, 20)
BAD_DAY = GOOD_DAY + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def prefect_url(settings: Settings) -> str:
    """The Prefect server `folio services up` runs; the test fails (not skips) when it is absent."""
    url = settings.flows.url
    try:
        httpx.get(f"{url}/health", timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"no Prefect server at {url} ({exc!r}): run `folio services up prefect`", pytrace=False)
    if not settings.flows.python.exists():
        pytest.fail(f"no flows environment at {settings.flows.python}: `folio services up prefect` makes it")
    return url


@pytest.fixture(scope="module")
def flow_lake(
    settings: Settings, prefect_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lake]:
    """A local lake of GENERATED orders (the day before, a good day, a bad day); FOLIO_* point Folio at it."""
    root = tmp_path_factory.mktemp("flow")
    lake = lake_for(local_settings(settings, root / "lake"))
    append_generated_day(lake, GOOD_DAY - dt.timedelta(days=1))
    append_generated_day(lake, GOOD_DAY)
    append_generated_day(lake, BAD_DAY, paid_total_sign=-1)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FOLIO_HOME", str(root / "home"))
        env.setenv("FOLIO_LAKE_BACKEND", "local")
        env.setenv("FOLIO_LAKE_PATH", str(root / "lake"))
        env.setenv("FOLIO_FLOWS_API_URL", prefect_url)
        yield lake


def folio(*args: str) -> Result:
    """``folio <args>`` in this process (the flow itself runs in the flows environment)."""
    return CliRunner().invoke(build_cli(), list(args))


@pytest.fixture(scope="module")
def backfill(flow_lake: Lake) -> dict[str, Any]:
    """``folio flows backfill`` over the good and the bad day: the outcome, and when it started."""
    started = dt.datetime.now(dt.UTC)
    result = folio("flows", "backfill", "--from", GOOD_DAY.isoformat(), "--to", BAD_DAY.isoformat(), "--json")
    return {
        "exit_code": result.exit_code,
        "outcome": json.loads(result.stdout.splitlines()[0]),
        "started": started,
    }


def shop_sales(lake: Lake, day: dt.date) -> dict[str, tuple[int, int, int]]:
    """The day's ``shop_daily_sales`` per shop: orders paid, revenue, units."""
    rows = lake.query("SELECT * FROM shop_daily_sales WHERE date = ?", [day]).to_pylist()
    return {row["shop_id"]: (row["orders_paid"], row["revenue_minor"], row["units"]) for row in rows}


def test_the_good_day_lands_in_the_aggregates(flow_lake: Lake, backfill: dict[str, Any]) -> None:
    """The backfill's good day wrote the hand-computed sales; the backfill as a whole failed (its bad day)."""
    assert backfill["exit_code"] == 1
    assert backfill["outcome"]["state"] == "Failed"
    assert "2026-11-21" in backfill["outcome"]["message"]
    assert shop_sales(flow_lake, GOOD_DAY) == EXPECTED_SHOP_SALES


def test_a_bad_day_fails_with_a_report_naming_the_expectation(
    prefect_url: str, backfill: dict[str, Any]
) -> None:
    """Negative revenue fails expect_column_values_to_be_between; the run's report artifact says where."""
    response = httpx.post(
        f"{prefect_url}/artifacts/filter",
        json={
            "artifacts": {"key": {"any_": [f"folio-daily-dq-{BAD_DAY.isoformat()}"]}},
            "sort": "CREATED_DESC",
            "limit": 1,
        },
        timeout=10.0,
    )
    response.raise_for_status()
    [artifact] = response.json()
    assert dt.datetime.fromisoformat(artifact["created"]) >= backfill["started"]
    report = artifact["data"]
    assert "| order_events | expect_column_values_to_be_between | total_minor |" in report
    assert "| shop_daily_sales | expect_column_values_to_be_between | revenue_minor |" in report
    assert "-1300" in report


def test_running_a_day_again_replaces_it(flow_lake: Lake, backfill: dict[str, Any]) -> None:
    """`folio flows run` of the good day again: Completed, and the same rows (never doubled)."""
    before = {table: flow_lake.manifest(table).rows for table in ("shop_daily_sales", "work_daily_sales")}

    result = folio("flows", "run", "--date", GOOD_DAY.isoformat(), "--json")

    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["result"]["rows"]["shop_daily_sales"] == len(EXPECTED_SHOP_SALES)
    assert "past" in outcome["result"]["stages"]["snapshot"]
    assert {table: flow_lake.manifest(table).rows for table in before} == before
    assert shop_sales(flow_lake, GOOD_DAY) == EXPECTED_SHOP_SALES


def test_status_lists_the_runs(backfill: dict[str, Any]) -> None:
    """`folio flows status --json` lists the backfill and its days with their states, newest first."""
    result = folio("flows", "status", "--limit", "10", "--json")

    assert result.exit_code == 0, result.output
    runs = [json.loads(line) for line in result.stdout.splitlines()]
    backfill_run = next(run for run in runs if run["id"] == backfill["outcome"]["flow_run_id"])
    assert (backfill_run["flow"], backfill_run["state"]) == ("folio-backfill", "Failed")
    # Newest last, so an older run of the same day (an earlier session) never hides this one.
    daily = [run for run in reversed(runs) if run["flow"] == "folio-daily"]
    days = {run["parameters"].get("day"): run["state"] for run in daily}
    assert days[BAD_DAY.isoformat()] == "Failed"
    assert days[GOOD_DAY.isoformat()] == "Completed"
