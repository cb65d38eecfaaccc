"""``Lake.replace_partitions``, as tests every backend must pass (the idempotent write of daily jobs).

Mixed into the backends' contract classes (``TestLocalLake``, ``TestS3Lake``), which
provide the ``lake`` fixture: an empty lake of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from folio.lake.api import Lake, LakeConflictError, LakeSchemaError
from folio.lake.lake import _Encoded
from tests.unit.lake.lake_contract import (
    DAY_1,
    DAY_2,
    FOUR_SALES,
    SHOP_A,
    SHOP_B,
    object_exists,
    sales,
    sales_table,
)

DAY_1_AGAIN = [("r1", DAY_1, SHOP_A, 40), ("r2", DAY_1, SHOP_B, 60)]


def totals(lake: Lake) -> list[dict[str, Any]]:
    """Rows and money per day of ``sales``, oldest first."""
    rows: list[dict[str, Any]] = lake.query(
        "SELECT date, count(*) AS n, sum(amount_minor) AS total FROM sales GROUP BY date ORDER BY date"
    ).to_pylist()
    return rows


class ReplaceContract:
    """What ``replace_partitions`` promises on every backend."""

    def test_replacing_a_day_twice_leaves_it_once(self, lake: Lake) -> None:
        """The day's partitions hold exactly the new rows, twice over; other days kept, old files gone."""
        lake.append(sales_table(), sales(FOUR_SALES))
        before = lake.manifest("sales")

        first = lake.replace_partitions(sales_table(), sales(DAY_1_AGAIN), where={"date": DAY_1})
        second = lake.replace_partitions(sales_table(), sales(DAY_1_AGAIN), where={"date": DAY_1})

        assert totals(lake) == [{"date": DAY_1, "n": 2, "total": 100}, {"date": DAY_2, "n": 1, "total": 5}]
        assert (first.rows, first.replaced_rows, second.replaced_rows) == (2, 3, 2)
        assert sorted(first.partitions) == [
            f"date=2026-12-01/shop_id={SHOP_A}",
            f"date=2026-12-01/shop_id={SHOP_B}",
        ]
        assert lake.manifest("sales").revision == before.revision + 2
        for removed in (*first.removed, *second.removed):
            assert not object_exists(lake, removed)
        assert all(object_exists(lake, key) for key in second.files)

    def test_a_new_table_and_an_empty_day(self, lake: Lake) -> None:
        """The first replace creates the table; replacing a day with no rows empties it."""
        lake.replace_partitions(sales_table(), sales(FOUR_SALES[:3]), where={"date": DAY_1})

        emptied = lake.replace_partitions(sales_table(), sales([]), where={"date": DAY_1})

        assert (emptied.rows, emptied.replaced_rows, emptied.files) == (0, 3, ())
        assert lake.manifest("sales").files == ()
        assert "sales" in lake.tables()

    def test_rows_outside_the_selection_are_refused(self, lake: Lake) -> None:
        """A row of another day is a schema problem naming the column; nothing is written."""
        lake.append(sales_table(), sales(FOUR_SALES))
        before = lake.manifest("sales")

        with pytest.raises(LakeSchemaError, match="date=2026-12-02") as refused:
            lake.replace_partitions(sales_table(), sales(FOUR_SALES), where={"date": DAY_1})
        with pytest.raises(ValueError, match="amount_minor"):
            lake.replace_partitions(sales_table(), sales([]), where={"amount_minor": 1})

        assert refused.value.column == "date"
        assert lake.manifest("sales") == before

    def test_a_manifest_moved_meanwhile_is_a_conflict(
        self, lake: Lake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Another writer's manifest put before the swap: nothing replaced, new files deleted."""
        lake.append(sales_table(), sales(FOUR_SALES))
        put_all = lake._put_all
        written: list[str] = []

        def put_then_another_writer(objects: Sequence[_Encoded]) -> None:
            put_all(objects)
            written.extend(each.key for each in objects)
            moved = lake.manifest("sales")
            bumped = moved.with_files(moved.files, now=dt.datetime.now(dt.UTC))
            lake._put("sales/_manifest.json", bumped.to_json(), "application/json")

        monkeypatch.setattr(lake, "_put_all", put_then_another_writer)

        with pytest.raises(LakeConflictError, match="changed while"):
            lake.replace_partitions(sales_table(), sales(DAY_1_AGAIN), where={"date": DAY_1})

        assert totals(lake)[0] == {"date": DAY_1, "n": 3, "total": 420}
        assert written
        assert not any(object_exists(lake, key) for key in written)
