"""The Grafana dashboards: current with the views, valid against the dashboard model's schema, laid out."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from folio.slo.dashboards import main, render_dashboard
from folio.slo.views import BOARDS, board_named

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = REPO_ROOT / "deploy" / "prometheus" / "dashboards"
SCHEMA = json.loads(Path(__file__).with_name("grafana-dashboard.schema.json").read_text())


def _errors(dashboard: dict[str, Any]) -> list[str]:
    return [error.message for error in jsonschema_rs.validator_for(SCHEMA).iter_errors(dashboard)]


def test_committed_dashboards_are_what_the_views_render() -> None:
    """The committed dashboards are current: `python -m folio.slo.dashboards` would write the same."""
    assert main([str(DASHBOARDS), "--check"]) == 0
    assert sorted(path.stem for path in DASHBOARDS.glob("*.json")) == sorted(board.uid for board in BOARDS)


@pytest.mark.parametrize("board", BOARDS, ids=lambda board: board.uid)
def test_every_dashboard_is_valid_against_the_schema(board: Any) -> None:
    """Each committed dashboard has the model's required keys, known panel types and a PromQL target each."""
    dashboard = json.loads((DASHBOARDS / f"{board.uid}.json").read_text())
    assert _errors(dashboard) == []


def test_the_schema_rejects_what_grafana_would() -> None:
    """An unknown panel type, a target without an expression, a panel past the 24-column grid: refused."""
    good = render_dashboard(BOARDS[0])
    unknown_type, no_expr, off_grid = (copy.deepcopy(good) for _ in range(3))
    unknown_type["panels"][0]["type"] = "sparkles"
    del no_expr["panels"][0]["targets"][0]["expr"]
    off_grid["panels"][0]["gridPos"]["w"] = 30
    for broken in (unknown_type, no_expr, off_grid):
        assert _errors(broken), broken["panels"][0]


@pytest.mark.parametrize("board", BOARDS, ids=lambda board: board.uid)
def test_panels_tile_the_grid_without_overlap(board: Any) -> None:
    """No two panels share a grid cell, and panel ids are unique."""
    panels = render_dashboard(board)["panels"]
    cells = [
        (x, y)
        for panel in panels
        for x in range(panel["gridPos"]["x"], panel["gridPos"]["x"] + panel["gridPos"]["w"])
        for y in range(panel["gridPos"]["y"], panel["gridPos"]["y"] + panel["gridPos"]["h"])
    ]
    assert len(cells) == len(set(cells))
    assert len({panel["id"] for panel in panels}) == len(panels)


def test_boards_are_found_by_uid() -> None:
    """board_named finds each board and nothing else."""
    assert all(board_named(board.uid) is board for board in BOARDS)
    assert board_named("folio-nothing") is None
