"""The Delta table contract, as tests every backend must pass (a folder; S3 on SeaweedFS).

Subclass ``DeltaContract`` and provide a ``lake`` fixture (an empty lake of its own):
``tests/unit/lake/test_delta.py`` runs it on a folder, ``tests/integration/lake/
test_s3_delta.py`` on a fresh bucket of the running SeaweedFS.
"""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest

from folio.lake.api import (
    Lake,
    LakeConflictError,
    LakeQueryError,
    LakeSchemaError,
    LakeTableNotFoundError,
)
from tests.unit.lake.lake_contract import FOUR_SALES, sales, sales_table


def total(lake: Lake, **as_of: int) -> list[dict[str, object]]:
    """Rows and the sum of amounts of ``sales``, at its latest version or ``as_of``."""
    rows: list[dict[str, object]] = lake.query(
        "SELECT count(*) AS n, sum(amount_minor) AS s FROM sales", as_of=as_of
    ).to_pylist()
    return rows


class DeltaContract:
    """What the lake's Delta tables promise on every backend; subclasses provide ``lake``."""

    commit_time_resolution_s = 0.0
    """How finely the backend dates a commit: delta-rs travels by the log object's modification time."""

    def test_appends_are_versions_and_time_travel_reads_them(self, lake: Lake) -> None:
        """Each append is one commit; a query reads the latest, or any version as of its number."""
        first = lake.delta_append(sales_table(), sales(FOUR_SALES[:2]), source="test:first")
        second = lake.delta_append(sales_table(), sales(FOUR_SALES[2:]), source="test:second")

        assert (first.version, second.version) == (0, 1)
        assert first.partitions == ("date=2026-12-01/shop_id=00000000-0000-0000-0000-000000000001",)
        assert len(second.files) == 2
        assert all(path.startswith("sales/date=") for path in second.files)
        assert lake.tables() == ["sales"]
        assert lake.delta_tables() == ["sales"]
        assert total(lake) == [{"n": 4, "s": 425}]
        assert total(lake, sales=0) == [{"n": 2, "s": 350}]
        history = lake.delta_history("sales")
        assert [(entry.version, entry.source, entry.schema_version) for entry in history] == [
            (1, "test:second", 1),
            (0, "test:first", 1),
        ]
        with pytest.raises(LakeQueryError, match="no version"):
            total(lake, sales=7)

    def test_time_travel_by_time(self, lake: Lake) -> None:
        """As of a commit's time, the query reads that commit, not the later one."""
        lake.delta_append(sales_table(), sales(FOUR_SALES[:1]))
        time.sleep(self.commit_time_resolution_s)  # two commits within one tick share a time
        lake.delta_append(sales_table(), sales(FOUR_SALES[1:]))
        first_commit = lake.delta_history("sales")[-1].committed_at

        then = lake.query("SELECT count(*) AS n FROM sales", as_of={"sales": first_commit})

        assert then.to_pylist() == [{"n": 1}]

    def test_schema_evolution_adds_a_nullable_column(self, lake: Lake) -> None:
        """Version 2 adds ``channel`` (null in older rows); the same version with new columns is refused."""
        lake.delta_append(sales_table(), sales(FOUR_SALES[:2]))
        newer = sales(FOUR_SALES[2:]).append_column("channel", pa.array(["web", "shop"]))
        with pytest.raises(LakeSchemaError, match="needs the next schema_version"):
            lake.delta_append(sales_table(1, extra=True), newer)

        lake.delta_append(sales_table(2, extra=True), newer)

        rows = lake.query("SELECT sale_id, channel FROM sales ORDER BY sale_id").to_pylist()
        assert [row["channel"] for row in rows] == [None, None, "web", "shop"]
        assert lake.query("SELECT * FROM sales", as_of={"sales": 0}).column_names == [
            "sale_id",
            "date",
            "shop_id",
            "amount_minor",
            "note",
        ]
        with pytest.raises(LakeSchemaError, match="declare"):
            lake.delta_append(sales_table(1), sales(FOUR_SALES[:1]))
        assert lake.delta_history("sales", limit=1)[0].version == 1

    def test_refused_rows_commit_nothing(self, lake: Lake) -> None:
        """Rows the table refuses (a lossy cast) raise 422 and leave the version where it was."""
        lake.delta_append(sales_table(), sales(FOUR_SALES[:1]))
        lossy = sales(FOUR_SALES).set_column(3, "amount_minor", pa.array([1.5, 2.0, 3.0, 4.0]))

        with pytest.raises(LakeSchemaError) as refused:
            lake.delta_append(sales_table(), lossy)

        assert refused.value.column == "amount_minor"
        assert [entry.version for entry in lake.delta_history("sales")] == [0]

    def test_concurrent_appends_all_commit(self, lake: Lake) -> None:
        """Two writers (two lakes on one root, no shared lock) append at once: both commits land."""
        lake.delta_append(sales_table(), sales(FOUR_SALES[:1]))
        other = Lake(
            lake.store,
            config=lake.config,
            location=f"{lake.location}#second-writer",
            local_root=lake.local_root,
            cache_dir=lake.cache_dir,
            delta=lake.delta,
        )
        batches = [
            [(f"a{i}", *FOUR_SALES[0][1:]) for i in range(50)],
            [(f"b{i}", *FOUR_SALES[2][1:]) for i in range(30)],
        ]
        errors: list[BaseException] = []

        def write(writer: Lake, rows: list[tuple[str, object, str, int]]) -> None:
            try:
                writer.delta_append(sales_table(), sales(rows))  # type: ignore[arg-type]
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [
            threading.Thread(target=write, args=pair) for pair in zip((lake, other), batches, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert lake.query("SELECT count(*) AS n FROM sales").to_pylist() == [{"n": 81}]
        assert sorted(entry.version for entry in lake.delta_history("sales")) == [0, 1, 2]

    def test_compact_then_vacuum_ends_time_travel_before_it(self, lake: Lake) -> None:
        """OPTIMIZE merges a partition's files in one commit; vacuum then deletes the replaced ones."""
        for batch in ([FOUR_SALES[0]], [FOUR_SALES[1]], [FOUR_SALES[3]]):
            lake.delta_append(sales_table(), sales(batch))

        report = lake.compact("sales")

        assert (report.files_before, report.files_after, report.rows) == (2, 1, 3)
        assert report.partitions == ("date=2026-12-01/shop_id=00000000-0000-0000-0000-000000000001",)
        assert lake.delta_vacuum("sales", retention_hours=0, dry_run=True) != []
        assert total(lake, sales=1) == [{"n": 2, "s": 350}]  # nothing deleted by a dry run
        deleted = lake.delta_vacuum("sales", retention_hours=0)
        assert len(deleted) == 2
        assert total(lake) == [{"n": 3, "s": 355}]
        with pytest.raises(LakeQueryError):
            total(lake, sales=1)

    def test_a_name_is_one_kind_of_table(self, lake: Lake) -> None:
        """A Delta table cannot be appended as a manifest table, nor the reverse; unknown ones are 404."""
        lake.delta_append(sales_table(), sales(FOUR_SALES[:1]))
        with pytest.raises(LakeConflictError, match="Delta"):
            lake.append(sales_table(), sales(FOUR_SALES[:1]))
        with pytest.raises(LakeTableNotFoundError, match="Delta table"):
            lake.manifest("sales")
        with pytest.raises(LakeTableNotFoundError):
            lake.delta_history("nothing")
        with pytest.raises(LakeQueryError, match="needs a Delta table"):
            lake.query("SELECT 1", as_of={"nothing": 0})
