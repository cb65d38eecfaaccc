"""`folio lake`: generate, tables, query (table, CSV, JSON, explain), manifest, compact, on a folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.unit


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose Folio keeps its lake in a temporary folder."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    monkeypatch.setenv("FOLIO_LAKE_BACKEND", "local")
    monkeypatch.setenv("FOLIO_LAKE_PATH", str(tmp_path / "lake"))
    return CliRunner()


def test_the_lake_commands_end_to_end(runner: CliRunner) -> None:
    """Generated orders land, are listed, queried in three formats, explained, and compacted."""
    cli = build_cli()

    generated = runner.invoke(
        cli, ["lake", "generate", "orders", "--rows", "600", "--shops", "2", "--days", "2"]
    )
    assert generated.exit_code == 0, generated.output
    assert "GENERATED" in generated.output
    runner.invoke(
        cli, ["lake", "generate", "orders", "--rows", "300", "--shops", "2", "--days", "2", "--seed", "1"]
    )

    tables = runner.invoke(cli, ["lake", "tables"])
    assert "Lake tables" in tables.output
    assert "view funnel_by_shop_day" in tables.output

    sql = "SELECT count(*) AS n, count(DISTINCT shop_id) AS shops FROM order_events"
    as_json = runner.invoke(cli, ["lake", "query", "-o", "json", sql])
    assert as_json.exit_code == 0, as_json.output
    counted = json.loads(as_json.output)
    assert counted["shops"] == 2
    as_csv = runner.invoke(cli, ["lake", "query", "-o", "csv", sql])
    assert as_csv.output.splitlines() == ['"n","shops"', f"{counted['n']},2"]

    explained = runner.invoke(
        cli, ["lake", "query", "--explain", "SELECT * FROM order_events WHERE shop_id = 'x'"]
    )
    assert "Scanning Files: 0/" in explained.output

    manifest = json.loads(runner.invoke(cli, ["lake", "manifest", "order_events", "--json"]).output)
    assert sum(entry["rows"] for entry in manifest["files"]) == counted["n"]
    assert len(manifest["files"]) == 8  # 2 shops x 2 days, twice

    compacted = runner.invoke(cli, ["lake", "compact", "order_events"])
    assert compacted.exit_code == 0, compacted.output
    assert "8 file(s) in 4 partition(s) merged into 4" in compacted.output
    after = json.loads(runner.invoke(cli, ["lake", "query", "-o", "json", sql]).output)
    assert after == counted


def test_errors_are_one_line(runner: CliRunner) -> None:
    """An unknown table and SQL DuckDB refuses end in one ``error:`` line and exit status 1."""
    cli = build_cli()
    missing = runner.invoke(cli, ["lake", "manifest", "nothing"])
    bad = runner.invoke(cli, ["lake", "query", "SELEC 1"])

    assert (missing.exit_code, bad.exit_code) == (1, 1)
    assert "error:" in missing.output
    assert "no table 'nothing'" in missing.output
    assert "syntax error" in bad.output


def test_delta_time_travel_history_and_vacuum(runner: CliRunner, tmp_path: Path) -> None:
    """`query --as-of` reads an old version, `history` lists commits, `compact` + `vacuum` clean up."""
    from folio.core.settings import load_settings
    from folio.lake.api import lake_for
    from tests.unit.lake.lake_contract import FOUR_SALES, sales, sales_table

    lake = lake_for(load_settings())
    assert lake.local_root == tmp_path / "lake"
    for batch in ([FOUR_SALES[0]], [FOUR_SALES[1]]):
        lake.delta_append(sales_table(), sales(batch), source=f"test:{batch[0][0]}")
    cli = build_cli()
    count = "SELECT count(*) AS n FROM sales"

    now = runner.invoke(cli, ["lake", "query", "-o", "csv", count])
    then = runner.invoke(cli, ["lake", "query", "-o", "csv", "--as-of", "0", count])
    one_table = runner.invoke(cli, ["lake", "query", "-o", "csv", "--as-of", "sales=1", count])
    history = runner.invoke(cli, ["lake", "history", "sales"])
    compacted = runner.invoke(cli, ["lake", "compact", "sales"])
    vacuumed = runner.invoke(cli, ["lake", "vacuum", "sales", "--retain-hours", "0"])
    gone = runner.invoke(cli, ["lake", "query", "--as-of", "0", count])
    bad = runner.invoke(cli, ["lake", "query", "--as-of", "yesterday", count])

    assert now.output.splitlines() == ['"n"', "2"]
    assert then.output.splitlines() == ['"n"', "1"]
    assert one_table.output.splitlines() == ['"n"', "2"]
    assert "test:s2" in history.output
    assert "WRITE" in history.output
    assert "2 file(s) in 1 partition(s) merged into 1 in one commit" in compacted.output
    assert "sales: deleted 2 file(s) older than 0 h" in vacuumed.output
    assert gone.exit_code == 1
    assert "error:" in gone.output
    assert "neither a version number nor an ISO time" in bad.output
