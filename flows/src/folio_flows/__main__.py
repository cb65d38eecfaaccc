"""``python -m folio_flows serve|run|backfill|status``: what ``folio up`` and ``folio flows`` start.

``run`` and ``backfill`` print one JSON object on stdout (the run's name, id, state and
result or message) and exit 1 when the run failed; Prefect's logs go to stderr.
``status`` prints JSON Lines, newest run first. ``serve`` serves the daily flow with its
cron schedule until stopped (``folio up``'s ``flows`` process), and this process's
Prometheus metrics (Prefect's client metrics among them) on ``FOLIO_FLOWS_METRICS_PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from typing import Any


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m folio_flows", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Serve the daily flow on its cron schedule.")
    serve.add_argument("--cron", default=os.environ.get("FOLIO_FLOWS_SCHEDULE_CRON", "30 2 * * *"))
    serve.add_argument("--timezone", default=os.environ.get("FOLIO_FLOWS_SCHEDULE_TIMEZONE", "UTC"))
    run = commands.add_parser("run", help="Run one day now.")
    run.add_argument("--date", type=_day, default=None, help="The UTC day (default: yesterday).")
    backfill = commands.add_parser("backfill", help="Run each day of a range, one after the other.")
    backfill.add_argument("--from", dest="start", type=_day, required=True)
    backfill.add_argument("--to", dest="end", type=_day, required=True)
    for each in (run, backfill, serve):
        each.add_argument(
            "--shop", dest="shops", action="append", default=[], help="Only this shop (repeatable)."
        )
        each.add_argument(
            "--drift-factor", type=float, default=float(os.environ.get("FOLIO_FLOWS_DRIFT_FACTOR", "10"))
        )
    status = commands.add_parser("status", help="Recent runs of the daily and backfill flows, newest first.")
    status.add_argument("--limit", type=int, default=20)
    return parser


def _outcome(state: Any) -> dict[str, Any]:
    """A finished run's state as the JSON ``folio flows`` reads."""
    body: dict[str, Any] = {
        "flow_run_id": str(state.state_details.flow_run_id),
        "state": state.name,
        "message": state.message or "",
    }
    if state.is_completed():
        body["result"] = state.result()
    return body


async def _recent_runs(limit: int) -> list[dict[str, Any]]:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    from folio_flows.daily import BACKFILL_NAME, FLOW_NAME

    async with get_client() as client:
        flows = {
            flow.id: flow.name
            for flow in await client.read_flows(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME, BACKFILL_NAME]))
            )
        }
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME, BACKFILL_NAME])),
            # Runs the schedule has planned but not started are not history: left out.
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(not_any_=[StateType.SCHEDULED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=limit,
        )
    return [
        {
            "flow": flows.get(run.flow_id, ""),
            "name": run.name,
            "id": str(run.id),
            "state": run.state_name,
            "parameters": run.parameters,
            "start_time": run.start_time.isoformat() if run.start_time else None,
            "end_time": run.end_time.isoformat() if run.end_time else None,
            "message": run.state.message if run.state and run.state.message else "",
        }
        for run in runs
    ]


def _serve_metrics() -> None:
    """Serve the default registry on ``FOLIO_FLOWS_METRICS_HOST``:``FOLIO_FLOWS_METRICS_PORT`` (0: none).

    Prefect's own switch (``PREFECT_CLIENT_METRICS_ENABLED``) would bind every interface;
    this binds the one Folio's settings name.
    """
    port = int(os.environ.get("FOLIO_FLOWS_METRICS_PORT") or 0)
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr=os.environ.get("FOLIO_FLOWS_METRICS_HOST", "127.0.0.1"))


def main(argv: list[str] | None = None) -> int:
    """The command line; its exit status."""
    args = _parser().parse_args(argv)
    from folio_flows.daily import folio_backfill, folio_daily

    if args.command == "serve":
        from prefect.schedules import Cron

        _serve_metrics()
        folio_daily.serve(
            name="daily",
            schedules=[Cron(args.cron, timezone=args.timezone)],
            parameters={"shops": args.shops, "drift_factor": args.drift_factor},
        )
        return 0
    if args.command == "status":
        for run in asyncio.run(_recent_runs(args.limit)):
            print(json.dumps(run, default=str))  # noqa: T201 - the command's output
        return 0
    if args.command == "run":
        state = folio_daily(
            day=args.date, shops=args.shops, drift_factor=args.drift_factor, return_state=True
        )
    else:
        state = folio_backfill(
            start=args.start,
            end=args.end,
            shops=args.shops,
            drift_factor=args.drift_factor,
            return_state=True,
        )
    outcome = _outcome(state)
    print(json.dumps(outcome, default=str))  # noqa: T201 - the command's output
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
