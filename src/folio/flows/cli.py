"""``folio flows run|backfill|status``: the daily data flow, run in its own environment (docs/flows.md).

Each command runs ``python -m folio_flows`` in the flows environment (``folio.flows.api``);
Prefect's own log lines stream to stderr while a run goes.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from folio.clikit import CliContext, examples, pass_cli

__all__ = ["flows_group"]

_DAY = click.DateTime(["%Y-%m-%d"])

shop_option = click.option(
    "--shop", "shops", multiple=True, help="Only this shop's id (repeatable); default: every shop."
)
json_option = click.option("--json", "as_json", is_flag=True, help="The run's outcome as one JSON object.")


@click.group("flows")
def flows_group() -> None:
    """The daily data flow on Prefect: catalogue snapshot -> lake -> aggregates, checked with GX Core."""


def _shop_args(shops: tuple[str, ...]) -> list[str]:
    return [arg for shop in shops for arg in ("--shop", shop)]


def _run(cli: CliContext, args: list[str]) -> tuple[int, list[Any]]:
    """``python -m folio_flows <args>``; the flow's Folio commands read this invocation's config file."""
    from folio.flows.api import run_flows_command

    env = {"FOLIO_CONFIG_FILE": str(cli.config_file.absolute())} if cli.config_file else {}
    return run_flows_command(cli.settings, args, env=env)


def _finish(cli: CliContext, code: int, lines: list[Any], as_json: bool) -> None:
    """Print the run's outcome; a failed run is a ``FlowRunFailedError`` (exit 1, one line)."""
    from folio.flows.api import FlowRunFailedError

    outcome: dict[str, Any] = (
        lines[-1] if lines else {"state": "Crashed", "message": "the flows process printed no outcome"}
    )
    if as_json:
        click.echo(json.dumps(outcome))
    if code != 0 or outcome.get("state") != "Completed":
        raise FlowRunFailedError(
            f"flow run {outcome.get('flow_run_id', '?')} ended {outcome.get('state')}: "
            f"{outcome.get('message')}"
        )
    if as_json:
        return
    result: dict[str, Any] = outcome.get("result") or {}
    for stage, said in (result.get("stages") or {}).items():
        cli.console.print(f"{stage}: {escape(str(said))}")
    for day, state in (result.get("days") or {}).items():
        cli.console.print(f"{day}: {state}")
    cli.console.print(f"flow run {outcome['flow_run_id']}: {outcome['state']}")


@flows_group.command(
    "run",
    epilog=examples(
        "folio flows run                      # yesterday (UTC), every shop",
        "folio flows run --date 2026-12-03 --shop 3f0c... --json",
    ),
)
@click.option("--date", "day", type=_DAY, default=None, help="The UTC day; default: yesterday.")
@shop_option
@json_option
@pass_cli
def run_command(cli: CliContext, day: dt.datetime | None, shops: tuple[str, ...], as_json: bool) -> None:
    """Run the daily flow for one day now; re-running a day replaces it."""
    args = ["run", *(["--date", day.date().isoformat()] if day else []), *_shop_args(shops)]
    _finish(cli, *_run(cli, args), as_json)


@flows_group.command(
    "backfill",
    epilog=examples("folio flows backfill --from 2026-11-01 --to 2026-11-30"),
)
@click.option("--from", "start", type=_DAY, required=True, help="The first UTC day.")
@click.option("--to", "end", type=_DAY, required=True, help="The last UTC day (included).")
@shop_option
@json_option
@pass_cli
def backfill_command(
    cli: CliContext, start: dt.datetime, end: dt.datetime, shops: tuple[str, ...], as_json: bool
) -> None:
    """Run the daily flow for each day of a range, one after the other (no snapshot of past days)."""
    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    args = [
        "backfill",
        "--from",
        start.date().isoformat(),
        "--to",
        end.date().isoformat(),
        *_shop_args(shops),
    ]
    _finish(cli, *_run(cli, args), as_json)


@flows_group.command("status", epilog=examples("folio flows status", "folio flows status --limit 5 --json"))
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True, help="Newest N runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run (JSON Lines).")
@pass_cli
def status_command(cli: CliContext, limit: int, as_json: bool) -> None:
    """Recent runs of the daily and backfill flows, newest first, with their state."""
    code, runs = _run(cli, ["status", "--limit", str(limit)])
    if code != 0:
        raise click.ClickException("the flows environment could not list the runs (see above)")
    if as_json:
        for run in runs:
            click.echo(json.dumps(run))
        return
    table = Table(title="Flow runs")
    for column in ("flow", "run", "state", "date", "started (UTC)", "message"):
        table.add_column(column, overflow="fold")
    for run in runs:
        parameters = run.get("parameters") or {}
        day = parameters.get("day") or "-"
        if "start" in parameters:
            day = f"{parameters['start']}..{parameters['end']}"
        table.add_row(
            run["flow"],
            run["name"],
            run["state"] or "-",
            str(day),
            (run.get("start_time") or "-")[:19].replace("T", " "),
            escape((run.get("message") or "")[:120]),
        )
    cli.console.print(table if runs else "no flow runs yet")
