"""Grafana dashboards for ``BOARDS``, as provisionable JSON (Grafana's dashboard model, schema version 39).

Each panel is a ``timeseries`` over the ``${datasource}`` variable (any Prometheus data
source the Grafana has), two panels to a row. ``python -m folio.slo.dashboards DIR`` writes
``DIR/<uid>.json`` for every board; ``--check`` fails when one is stale. The repository's
are in ``deploy/prometheus/dashboards/``, with ``grafana-provider.yml``, the provider that
loads them (copy both under Grafana's ``provisioning/dashboards``).
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from pathlib import Path
from typing import Any

from folio.slo.views import BOARDS, Board, Panel

__all__ = ["SCHEMA_VERSION", "main", "render_dashboard", "render_dashboards"]

SCHEMA_VERSION = 39
"""Grafana's dashboard JSON schema version these follow (Grafana 10.x/11.x)."""

_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_PANEL_HEIGHT, _PANEL_WIDTH, _GRID_WIDTH = 8, 12, 24


def _panel(panel: Panel, index: int) -> dict[str, Any]:
    per_row = _GRID_WIDTH // _PANEL_WIDTH
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": panel.title,
        "description": panel.description,
        "datasource": _DATASOURCE,
        "gridPos": {
            "h": _PANEL_HEIGHT,
            "w": _PANEL_WIDTH,
            "x": (index % per_row) * _PANEL_WIDTH,
            "y": (index // per_row) * _PANEL_HEIGHT,
        },
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": [
            {
                "refId": string.ascii_uppercase[number],
                "datasource": _DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend,
                "range": True,
            }
            for number, query in enumerate(panel.queries)
        ],
    }


def render_dashboard(board: Board) -> dict[str, Any]:
    """``board`` as a Grafana dashboard (the JSON model provisioning loads)."""
    return {
        "uid": board.uid,
        "title": board.title,
        "description": board.description,
        "tags": ["folio"],
        "editable": False,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "utc",
        "annotations": {"list": []},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "panels": [_panel(panel, index) for index, panel in enumerate(board.panels)],
    }


def render_dashboards() -> dict[str, str]:
    """Every board's file name and JSON text (pure: the same boards render the same bytes)."""
    return {
        f"{board.uid}.json": json.dumps(render_dashboard(board), indent=2, ensure_ascii=False) + "\n"
        for board in BOARDS
    }


def main(argv: list[str] | None = None) -> int:
    """Write every dashboard into DIR, or with ``--check`` exit 1 when one differs."""
    parser = argparse.ArgumentParser(prog="python -m folio.slo.dashboards", description=main.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render_dashboards().items():
        path = args.directory / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        sys.stderr.write(
            f"stale in {args.directory}: {', '.join(stale)}: run python -m folio.slo.dashboards\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
