"""The daily flow: OLTP snapshot -> lake -> aggregates, each stage's output checked with GX Core.

Stages of ``folio_daily(day, shops)``, each a Prefect task running Folio's CLI:

1. ``snapshot``: ``folio catalog snapshot-to-lake`` for today only (a snapshot is "as of
   now": a past day has none to take, so a backfill skips it and the summary says so);
2. ``compact``: ``folio lake compact order_events order_lines --date D``, the day's small
   files merged;
3. ``aggregate``: ``folio lake aggregate --date D``, the day's aggregate tables replaced;
4. ``check``: one query reads the day's rows of every table above (and the previous
   day's row counts), GX expectations run on each (``folio_flows.checks``).

Then a markdown summary and a table artifact. A failed expectation writes a report
artifact (``folio-daily-dq-<date>``) naming each failed expectation, then fails the run.
Every Folio-writing stage replaces the day, so a re-run (or a backfill over it) gives the
same rows. The subprocess tasks retry with exponential backoff; ``aggregate`` is cached
on (day, shops, the order facts' files of the day): its result depends on nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import threading
from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.tasks import exponential_backoff

from folio_flows.checks import TABLE_CHECKS, TableResult, day_frame, validate
from folio_flows.folio_cli import folio_json, folio_json_lines
from folio_flows.telemetry import start_tracing

FLOW_NAME = "folio-daily"
BACKFILL_NAME = "folio-backfill"
AGGREGATES = ("shop_daily_sales", "work_daily_sales", "shop_daily_funnel")
ORDER_FACTS = ("order_events", "order_lines")
_RETRIES = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
}


# Here, not in __main__: a run the schedule starts (``serve``) executes in a process Prefect
# spawns, where importing this module (to unpickle the flow) is the only code of ours that runs
# before Prefect starts the run's span. Nothing connects here: spans are exported later, in batches.
start_tracing()


class DataQualityError(RuntimeError):
    """A stage's output failed its checks; the run's ``folio-daily-dq-<date>`` artifact says which."""


def yesterday() -> dt.date:
    """The default day: yesterday in UTC (the day that just ended when the schedule fires)."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


@task(name="list-shops", cache_policy=NO_CACHE, **_RETRIES)
def list_shops() -> list[str]:
    """Every shop Folio knows (``folio tenants list --json``)."""
    return [tenant["id"] for tenant in folio_json_lines("tenants", "list", "--json")]


@task(name="snapshot", cache_policy=NO_CACHE, **_RETRIES)
def snapshot(shops: Sequence[str]) -> dict[str, Any]:
    """Today's catalogue snapshot of ``shops`` into the lake (replacing an earlier one of today)."""
    return folio_json(
        "catalog", "snapshot-to-lake", "--json", *(arg for shop in shops for arg in ("--shop", shop))
    )


@task(name="compact", task_run_name="compact-{day}", cache_policy=NO_CACHE, **_RETRIES)
def compact(day: dt.date) -> dict[str, Any]:
    """Merge the day's small files of the order facts; per table whether it exists and what merged."""
    return folio_json("lake", "compact", *ORDER_FACTS, "--date", day.isoformat(), "--json")


def _aggregate_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:  # noqa: ARG001 - Prefect's signature
    """(day, shops, the day's order-fact files): the same inputs give the same aggregates."""
    facts = json.dumps(parameters["facts"], sort_keys=True)
    shops = ",".join(sorted(parameters["shops"]))
    digest = hashlib.sha256(f"{parameters['day']}|{shops}|{facts}".encode()).hexdigest()[:32]
    return f"folio-aggregate-{parameters['day']}-{digest}"


@task(
    name="aggregate",
    task_run_name="aggregate-{day}",
    cache_key_fn=_aggregate_key,
    cache_expiration=dt.timedelta(days=2),
    persist_result=True,
    **_RETRIES,
)
def aggregate(day: dt.date, shops: Sequence[str], facts: dict[str, Any]) -> dict[str, Any]:
    """Build the day's aggregate tables (``folio lake aggregate``); ``facts`` is the cache's input key."""
    del facts  # only the cache key reads it
    return folio_json("lake", "aggregate", "--date", day.isoformat(), "--json", *_shop_args(shops))


def _shop_args(shops: Sequence[str]) -> list[str]:
    return [arg for shop in shops for arg in ("--shop", shop)]


def _day_sql(day: dt.date, tables: Sequence[str]) -> str:
    """One query for the day's rows of ``tables`` (as JSON) and the previous day's row counts."""
    previous = day - dt.timedelta(days=1)
    parts = []
    for table in tables:
        column = TABLE_CHECKS[table].day_column
        parts.append(
            # Table and column names come from TABLE_CHECKS, dates from date objects: no outside text.
            f"SELECT '{table}' AS tbl, 'day' AS kind, to_json(t)::VARCHAR AS body FROM {table} AS t "  # noqa: S608
            f"WHERE {column} = DATE '{day.isoformat()}'"
        )
        parts.append(
            f"SELECT '{table}', 'previous', count(*)::VARCHAR FROM {table} "  # noqa: S608
            f"WHERE {column} = DATE '{previous.isoformat()}'"
        )
    return " UNION ALL ".join(parts)


@task(name="check", task_run_name="check-{day}", cache_policy=NO_CACHE)
def check(day: dt.date, tables: Sequence[str], drift_factor: float) -> list[TableResult]:
    """Read the day of ``tables`` through ``folio lake query`` and run each table's GX checks."""
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in tables}
    previous: dict[str, int] = dict.fromkeys(tables, 0)
    for record in folio_json_lines("lake", "query", "-o", "json", _day_sql(day, tables)):
        if record["kind"] == "day":
            rows[record["tbl"]].append(json.loads(record["body"]))
        else:
            previous[record["tbl"]] = int(record["body"])
    return [
        validate(
            TABLE_CHECKS[table],
            day_frame(TABLE_CHECKS[table], rows[table]),
            previous_rows=previous[table],
            drift_factor=drift_factor,
        )
        for table in tables
    ]


def _summary(day: dt.date, stages: dict[str, str], results: list[TableResult]) -> str:
    lines = [f"# Folio daily flow, {day.isoformat()}", "", "## Stages", ""]
    lines += [f"- **{stage}**: {outcome}" for stage, outcome in stages.items()]
    lines += [
        "",
        "## Checks (GX Core)",
        "",
        "| table | rows | previous day | expectations | failed |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.table} | {r.rows} | {r.previous_rows} | {r.checks} | {len(r.failures)} |" for r in results
    ]
    return "\n".join(lines)


def _report(day: dt.date, results: list[TableResult]) -> str:
    failed = [result for result in results if not result.passed]
    lines = [
        f"# Data-quality checks failed for {day.isoformat()}",
        "",
        (
            f"{sum(len(r.failures) for r in failed)} expectation(s) failed in {len(failed)} table(s); "
            "the day's data is in the lake as written: fix its source and run the day again."
        ),
        "",
        "| table | expectation | column | observed |",
        "|---|---|---|---|",
    ]
    for result in failed:
        lines += [
            f"| {result.table} | {f.expectation} | {f.column} | {f.observed} |" for f in result.failures
        ]
    return "\n".join(lines)


def _daily_run_name() -> str:
    """``folio-daily-<day>``: the run's name in `folio flows status` and its trace's operation."""
    from prefect.runtime import flow_run

    return f"{FLOW_NAME}-{flow_run.parameters.get('day') or yesterday()}"


@flow(name=FLOW_NAME, flow_run_name=_daily_run_name, log_prints=False)
def folio_daily(
    day: dt.date | None = None, shops: list[str] | None = None, drift_factor: float = 10.0
) -> dict[str, Any]:
    """One day through snapshot (today only), compaction, aggregates and GX checks; idempotent per day.

    ``day``: default yesterday (UTC). ``shops``: default every shop. Fails with
    ``DataQualityError`` when an expectation fails, after storing the report artifact.
    """
    logger = get_run_logger()
    # GX takes seconds to import: load it beside the Folio subprocesses, not after them.
    threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True).start()
    day = day or yesterday()
    chosen = list(shops or [])
    stages: dict[str, str] = {}
    checked: list[str] = []
    if day == dt.datetime.now(dt.UTC).date():
        targets = chosen or list_shops()
        if targets:
            written = snapshot(targets)
            stages["snapshot"] = f"{written['rows']} listing(s) of {len(targets)} shop(s) as of now"
            checked.append("catalog_listings")
        else:
            stages["snapshot"] = "skipped: Folio has no shop"
    else:
        stages["snapshot"] = f"skipped: a snapshot is as of now, and {day.isoformat()} is past (backfill)"
    compacted = compact(day)
    facts = {table: compacted[table] for table in ORDER_FACTS}
    merged = sum(report.get("files_before", 0) for report in facts.values())
    stages["compact"] = f"{merged} small file(s) of the day merged" if merged else "nothing to merge"
    built = aggregate(day, chosen, facts)
    events = built["events"]
    stages["aggregate"] = (
        f"{events} order event(s); " if events else "no order event that day; "
    ) + ", ".join(f"{table} {report['rows']} row(s)" for table, report in built["tables"].items())
    checked += [table for table in ORDER_FACTS if facts[table]["present"]]
    checked += list(AGGREGATES)
    results = check(day, checked, drift_factor)
    failed = [result for result in results if not result.passed]
    stages["check"] = f"{len(results) - len(failed)} of {len(results)} table(s) passed"
    key = f"folio-daily-{day.isoformat()}"
    create_markdown_artifact(_summary(day, stages, results), key=key, description=f"Folio daily flow, {day}")
    create_table_artifact(
        [
            {
                "table": r.table,
                "rows": r.rows,
                "previous_day_rows": r.previous_rows,
                "checks": r.checks,
                "failed": len(r.failures),
                "failed_expectations": "; ".join(f"{f.expectation}({f.column})" for f in r.failures),
            }
            for r in results
        ],
        key=f"{key}-tables",
        description="Rows per table and checks passed/failed",
    )
    if failed:
        create_markdown_artifact(
            _report(day, results), key=f"folio-daily-dq-{day.isoformat()}", description="GX report"
        )
        names = ", ".join(f"{r.table}: {f.expectation}({f.column})" for r in failed for f in r.failures)
        raise DataQualityError(f"data-quality checks failed for {day.isoformat()}: {names}")
    logger.info("folio daily %s: %s", day, stages)
    return {"date": day.isoformat(), "stages": stages, "rows": {r.table: r.rows for r in results}}


@flow(name=BACKFILL_NAME, flow_run_name=BACKFILL_NAME + "-{start}-to-{end}")
def folio_backfill(
    start: dt.date, end: dt.date, shops: list[str] | None = None, drift_factor: float = 10.0
) -> dict[str, Any]:
    """``folio_daily`` for each day from ``start`` to ``end``, one after the other; fails if any day failed.

    Each day is its own (child) flow run and replaces its day, so a backfill run twice
    leaves the same rows. A failed day does not stop the days after it.
    """
    if end < start:
        raise ValueError("the backfill ends before it starts")
    outcomes: dict[str, str] = {}
    day = start
    while day <= end:
        state = folio_daily(day=day, shops=shops, drift_factor=drift_factor, return_state=True)
        outcomes[day.isoformat()] = state.name
        day += dt.timedelta(days=1)
    failed = [name for name, state in outcomes.items() if state != "Completed"]
    if failed:
        raise RuntimeError(f"the backfill's day(s) {', '.join(failed)} failed")
    return {"days": outcomes}
