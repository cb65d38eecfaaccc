"""The ``Lake`` contract, as tests every backend must pass.

Subclass ``LakeContract`` and provide a ``lake`` fixture (an empty lake of its own):
``tests/unit/lake/test_local_lake.py`` runs it on a folder, ``tests/integration/lake/
test_s3_lake.py`` on a fresh bucket of the running SeaweedFS, so both backends keep
the same promises: partitioned files with statistics, a manifest with checksums,
refused rows writing nothing, pruning, compaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from folio.lake.api import Lake, LakeQueryError, LakeSchemaError, LakeTable, LakeTableNotFoundError

SHOP_A = str(uuid.UUID(int=1))
SHOP_B = str(uuid.UUID(int=2))
DAY_1 = dt.date(2026, 12, 1)
DAY_2 = dt.date(2026, 12, 2)


def sales_table(version: int = 1, *, extra: bool = False) -> LakeTable:
    """A small table partitioned by date and shop (``extra``: schema version 2's nullable ``channel``)."""
    fields = [
        pa.field("sale_id", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("shop_id", pa.string(), nullable=False),
        pa.field("amount_minor", pa.int64(), nullable=False),
        pa.field("note", pa.string()),
    ]
    if extra:
        fields.append(pa.field("channel", pa.string()))
    return LakeTable(name="sales", schema=pa.schema(fields), schema_version=version)


def sales(rows: list[tuple[str, dt.date, str, int]]) -> pa.Table:
    """Rows of ``sales_table()`` from (sale id, day, shop, amount) tuples, typed as a caller would."""
    return pa.table(
        {
            "sale_id": [row[0] for row in rows],
            "date": pa.array([row[1] for row in rows], pa.date32()),
            "shop_id": [row[2] for row in rows],
            "amount_minor": pa.array([row[3] for row in rows], pa.int32()),  # widened safely to int64
        }
    )


FOUR_SALES = [
    ("s1", DAY_1, SHOP_A, 100),
    ("s2", DAY_1, SHOP_A, 250),
    ("s3", DAY_1, SHOP_B, 70),
    ("s4", DAY_2, SHOP_A, 5),
]


def object_bytes(lake: Lake, key: str) -> bytes:
    """The stored bytes of ``key``, read through the lake's own object store."""
    return lake._run(lambda: lake.store.get(key))


def object_exists(lake: Lake, key: str) -> bool:
    """Whether the lake's object store holds ``key``."""
    return lake._run(lambda: lake.store.exists(key))


class LakeContract:
    """What every lake backend promises; subclasses provide the ``lake`` fixture."""

    def test_append_writes_one_file_per_partition_and_a_manifest(self, lake: Lake) -> None:
        """One Parquet file per date/shop partition; the manifest lists each with rows, stats and sha256."""
        report = lake.append(sales_table(), sales(FOUR_SALES), source="test:four-sales")

        assert report.rows == 4
        assert sorted(report.partitions) == [
            f"date=2026-12-01/shop_id={SHOP_A}",
            f"date=2026-12-01/shop_id={SHOP_B}",
            f"date=2026-12-02/shop_id={SHOP_A}",
        ]
        for key, partition in zip(report.files, report.partitions, strict=True):
            assert re.fullmatch(rf"sales/{re.escape(partition)}/part-[0-9a-f]{{32}}\.parquet", key)
        manifest = lake.manifest("sales")
        assert lake.tables() == ["sales"]
        assert (manifest.rows, manifest.schema_version, manifest.revision) == (4, 1, 1)
        assert manifest.partition_by == ("date", "shop_id")
        first = next(f for f in manifest.files if f.partition == f"date=2026-12-01/shop_id={SHOP_A}")
        assert (first.rows, first.source) == (2, "test:four-sales")
        assert (first.columns["amount_minor"].min, first.columns["amount_minor"].max) == (100, 250)
        assert first.columns["note"].nulls == 2
        stored = object_bytes(lake, first.path)
        assert hashlib.sha256(stored).hexdigest() == first.sha256
        assert len(stored) == first.bytes
        parquet = pq.ParquetFile(pa.BufferReader(stored))
        column = parquet.metadata.row_group(0).column(1)
        assert column.path_in_schema == "amount_minor"
        assert column.compression == "ZSTD"
        assert column.statistics.has_min_max
        # The partition columns live in the folder names, not in the file.
        assert parquet.schema_arrow.names == ["sale_id", "amount_minor", "note"]

    def test_refused_rows_write_nothing(self, lake: Lake) -> None:
        """An unknown column, a missing one, a lossy cast, a null where required: 422, nothing written."""
        lake.append(sales_table(), sales(FOUR_SALES[:1]))
        before = lake.manifest("sales")
        good = sales(FOUR_SALES)
        cases = {
            "colour": good.append_column("colour", pa.array(["red"] * 4)),
            "amount_minor": good.drop_columns(["amount_minor"]),
            "shop_id": good.set_column(2, "shop_id", pa.array([SHOP_A, None, SHOP_A, SHOP_A])),
        }
        lossy = good.set_column(3, "amount_minor", pa.array([1.5, 2.0, 3.0, 4.0]))
        for column, rows in [*cases.items(), ("amount_minor", lossy)]:
            with pytest.raises(LakeSchemaError) as refused:
                lake.append(sales_table(), rows)
            assert refused.value.column == column
            assert (refused.value.status, refused.value.code) == (422, "lake-schema-mismatch")
            assert refused.value.to_problem().model_dump()["column"] == column
        assert lake.manifest("sales") == before

    def test_a_changed_schema_needs_the_next_version(self, lake: Lake) -> None:
        """Version 2 adds a nullable column (null in old files); other columns under version 1 are refused."""
        lake.append(sales_table(), sales(FOUR_SALES[:2]))
        with pytest.raises(LakeSchemaError, match="needs the next schema_version"):
            lake.append(sales_table(1, extra=True), sales(FOUR_SALES[2:]))
        newer = sales(FOUR_SALES[2:]).append_column("channel", pa.array(["web", "shop"]))
        lake.append(sales_table(2, extra=True), newer)
        with pytest.raises(LakeSchemaError, match="declare"):
            lake.append(sales_table(1), sales(FOUR_SALES[:1]))

        assert lake.manifest("sales").schema_version == 2
        rows = lake.query("SELECT sale_id, channel FROM sales ORDER BY sale_id").to_pylist()
        assert rows == [
            {"sale_id": "s1", "channel": None},
            {"sale_id": "s2", "channel": None},
            {"sale_id": "s3", "channel": "web"},
            {"sale_id": "s4", "channel": "shop"},
        ]

    def test_query_prunes_to_the_partitions_of_the_where(self, lake: Lake) -> None:
        """``WHERE date = ...`` opens only that day's files: EXPLAIN shows 2 of 3 scanned, and which."""
        lake.append(sales_table(), sales(FOUR_SALES))
        total = lake.query("SELECT sum(amount_minor) AS total FROM sales WHERE date = ?", [DAY_1])

        plan = lake.explain(
            "SELECT sum(amount_minor) FROM sales WHERE date = DATE '2026-12-01'", analyze=True
        )

        assert total.to_pylist() == [{"total": 420}]
        assert "Scanning Files: 2/3" in plan
        assert "Total Files Read: 2" in plan
        assert "date=2026-12-01" in plan
        assert "date=2026-12-02" not in plan

    def test_compact_merges_small_files_and_keeps_every_row(self, lake: Lake) -> None:
        """Three appends to one partition become one file; rows, sums, checksums hold; old files go."""
        for batch in ([FOUR_SALES[0]], [FOUR_SALES[1]], [("s5", DAY_1, SHOP_A, 1)], [FOUR_SALES[3]]):
            lake.append(sales_table(), sales(batch), source=f"batch:{batch[0][0]}")
        before = lake.manifest("sales")

        report = lake.compact("sales")

        after = lake.manifest("sales")
        assert report.partitions == (f"date=2026-12-01/shop_id={SHOP_A}",)
        assert (report.files_before, report.files_after, report.rows) == (3, 1, 4)
        assert (len(after.files), after.rows, after.revision) == (2, 4, before.revision + 1)
        merged = next(f for f in after.files if f.partition == report.partitions[0])
        assert merged.source == "batch:s1; batch:s2; batch:s5"
        assert hashlib.sha256(object_bytes(lake, merged.path)).hexdigest() == merged.sha256
        for removed in report.removed:
            assert not object_exists(lake, removed)
        assert lake.query("SELECT count(*) AS n, sum(amount_minor) AS s FROM sales").to_pylist() == [
            {"n": 4, "s": 356}
        ]
        assert lake.compact("sales").files_before == 0

    def test_unknown_tables_and_bad_sql_are_problems(self, lake: Lake) -> None:
        """A manifest of no table is a 404 problem; SQL DuckDB refuses is a 400 problem naming why."""
        with pytest.raises(LakeTableNotFoundError):
            lake.manifest("nothing_here")
        with pytest.raises(LakeQueryError, match="nothing_here"):
            lake.query("SELECT * FROM nothing_here")
