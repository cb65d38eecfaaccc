"""The GX Core checks of ``folio_flows.checks``, run in the flows environment on hand-made days.

The flows environment cannot be imported here (Prefect and GX live in ``flows/.venv``),
so one child process there validates each case and prints the failed expectations.
"""

from __future__ import annotations

import textwrap

import pytest

from folio.core.settings import Settings
from tests.support.flows import run_in_flows_env

pytestmark = pytest.mark.integration

CASES = textwrap.dedent(
    """
    import json
    from folio_flows.checks import TABLE_CHECKS, day_frame, validate

    funnel = TABLE_CHECKS["shop_daily_funnel"]
    sales = TABLE_CHECKS["shop_daily_sales"]
    row = {"shop_id": "a", "date": "2026-12-01", "carts": 3, "placed": 2, "paid": 1, "cart_to_paid": 0.33}
    sale = {"shop_id": "a", "date": "2026-12-01", "currency": "EUR", "orders_paid": 1, "revenue_minor": 5}
    sale["units"] = 1

    def check(table, rows, previous):
        return validate(table, day_frame(table, rows), previous_rows=previous, drift_factor=10)

    cases = {
        "good": check(funnel, [row], 1),
        "empty_day_no_history": check(funnel, [], 0),
        "drift": check(funnel, [row], 50),
        "duplicate_key": check(sales, [sale, sale], 0),
        "missing_column": check(funnel, [{**row, "extra": 1}], 0),
    }
    failed = {name: [(f.expectation, f.column) for f in result.failures] for name, result in cases.items()}
    print(json.dumps(failed))
    """
)


def test_schema_keys_ranges_and_drift(settings: Settings) -> None:
    """A good day passes; an empty first day passes; drift, a duplicate key and an extra column each fail."""
    failures = run_in_flows_env(settings, CASES, {"GX_ANALYTICS_ENABLED": "false"}, timeout=120)

    assert failures["good"] == []
    assert failures["empty_day_no_history"] == []
    assert failures["drift"] == [["expect_table_row_count_to_be_between", "(table)"]]
    assert failures["duplicate_key"] == [["expect_compound_columns_to_be_unique", "shop_id,currency"]]
    assert failures["missing_column"] == [["expect_table_columns_to_match_set", "(table)"]]
