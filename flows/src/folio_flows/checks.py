"""Data-quality checks with Great Expectations (GX Core 1.x) on one day of each stage's output.

Each lake table the flow reads or writes has a ``TableCheck``: its columns (the
schema), its keys (not null and unique together), its value ranges (money never
negative, units at least one). ``validate`` runs them as GX expectations on the day's
rows in pandas, plus a row-count drift expectation against the previous day: the rows
may be at most ``drift_factor`` times the previous day's, or that many times fewer (no
drift check when the previous day had no rows). Failed expectations come back with
what GX observed, for the run's report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core.batch_definition import BatchDefinition


@dataclass(frozen=True)
class TableCheck:
    """What one table's day must satisfy."""

    table: str
    day_column: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    not_null: tuple[str, ...] = ()
    at_least: dict[str, float] = field(default_factory=dict)
    """Column -> smallest allowed value (nulls pass: a missing amount is not a negative one)."""


TABLE_CHECKS: dict[str, TableCheck] = {
    check.table: check
    for check in (
        TableCheck(
            "order_events",
            "date",
            (
                "event_id", "event_type", "occurred_at", "date", "shop_id", "order_id", "customer_id",
                "status", "currency", "total_minor", "refunded_minor",
            ),
            keys=("event_id",),
            not_null=("event_type", "occurred_at", "shop_id"),
            at_least={"total_minor": 0, "refunded_minor": 0},
        ),
        TableCheck(
            "order_lines",
            "date",
            (
                "event_id", "order_id", "occurred_at", "date", "shop_id", "position", "listing_id",
                "work_id", "title", "quantity", "unit_price_minor", "currency",
            ),
            keys=("shop_id", "order_id", "position"),
            not_null=("work_id", "currency"),
            at_least={"quantity": 1, "unit_price_minor": 0},
        ),
        TableCheck(
            "catalog_listings",
            "snapshot_date",
            (
                "listing_id", "work_id", "title", "authors", "isbn13", "publisher", "year", "work_source",
                "work_published", "condition", "price_minor", "currency", "stock", "listing_updated_at",
                "snapshot_at", "snapshot_date", "shop_id",
            ),
            keys=("shop_id", "listing_id"),
            not_null=("work_id", "title", "currency"),
            at_least={"price_minor": 0, "stock": 0},
        ),
        TableCheck(
            "shop_daily_sales",
            "date",
            ("shop_id", "date", "currency", "orders_paid", "revenue_minor", "units"),
            keys=("shop_id", "currency"),
            at_least={"orders_paid": 1, "revenue_minor": 0, "units": 0},
        ),
        TableCheck(
            "work_daily_sales",
            "date",
            ("shop_id", "date", "work_id", "title", "currency", "units", "revenue_minor"),
            keys=("shop_id", "work_id", "currency"),
            at_least={"units": 1, "revenue_minor": 0},
        ),
        TableCheck(
            "shop_daily_funnel",
            "date",
            ("shop_id", "date", "carts", "placed", "paid", "cart_to_paid"),
            keys=("shop_id",),
            at_least={"carts": 0, "placed": 0, "paid": 0, "cart_to_paid": 0},
        ),
    )
}  # fmt: skip
"""Every table the flow checks, by name."""


@dataclass(frozen=True)
class Failure:
    """One failed expectation: which, on what, and what GX saw."""

    expectation: str
    column: str
    observed: str


@dataclass(frozen=True)
class TableResult:
    """One table's day after its checks."""

    table: str
    rows: int
    previous_rows: int
    checks: int
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return not self.failures


def expectations(check: TableCheck, *, previous_rows: int, drift_factor: float) -> list[Any]:
    """The GX expectations of ``check`` for a day whose previous day had ``previous_rows``."""
    import great_expectations as gx

    found: list[Any] = [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(check.columns), exact_match=True)
    ]
    found += [gx.expectations.ExpectColumnValuesToNotBeNull(column=c) for c in (*check.keys, *check.not_null)]
    if len(check.keys) == 1:
        found.append(gx.expectations.ExpectColumnValuesToBeUnique(column=check.keys[0]))
    else:
        found.append(gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(check.keys)))
    for column, low in check.at_least.items():
        found.append(gx.expectations.ExpectColumnValuesToBeBetween(column=column, min_value=low))
    if previous_rows:
        found.append(
            gx.expectations.ExpectTableRowCountToBeBetween(
                min_value=math.ceil(previous_rows / drift_factor),
                max_value=math.floor(previous_rows * drift_factor),
            )
        )
    return found


@cache
def _batch_definition(table: str) -> BatchDefinition:
    """A GX in-memory (ephemeral) data source with one whole-dataframe batch per table."""
    context = _context()
    asset = context.data_sources.get("folio").add_dataframe_asset(name=table)
    return asset.add_batch_definition_whole_dataframe(f"{table}-day")


@cache
def _context() -> Any:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    context.data_sources.add_pandas("folio")
    return context


def validate(
    check: TableCheck, frame: pd.DataFrame, *, previous_rows: int, drift_factor: float
) -> TableResult:
    """Run ``check``'s expectations on ``frame`` (the day's rows); the failures with what GX observed."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=f"{check.table}-day",
        expectations=expectations(check, previous_rows=previous_rows, drift_factor=drift_factor),
    )
    batch = _batch_definition(check.table).get_batch(batch_parameters={"dataframe": frame})
    outcome = batch.validate(suite)
    failures = tuple(
        Failure(
            expectation=result.expectation_config.type,
            column=str(
                result.expectation_config.kwargs.get("column")
                or ",".join(result.expectation_config.kwargs.get("column_list") or [])
                or "(table)"
            ),
            observed=_observed(result.result, result.exception_info),
        )
        for result in outcome.results
        if not result.success
    )
    return TableResult(check.table, len(frame), previous_rows, len(outcome.results), failures)


def _observed(result: dict[str, Any], exception: Any) -> str:
    """What GX saw, in a line: the observed value, or the count and a sample of the bad values."""
    if isinstance(exception, dict) and exception.get("raised_exception"):
        return f"error: {exception.get('exception_message')}"
    if "unexpected_count" in result:
        sample = ", ".join(map(str, (result.get("partial_unexpected_list") or [])[:5]))
        return f"{result['unexpected_count']} unexpected (e.g. {sample})"
    return f"observed {result.get('observed_value')!r}"


def day_frame(check: TableCheck, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The day's rows as a DataFrame; with no rows, still the table's columns (the schema check holds)."""
    import pandas as pd

    return pd.DataFrame(rows) if rows else pd.DataFrame({column: [] for column in check.columns})
