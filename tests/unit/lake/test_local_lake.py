"""The lake on a local folder (lite mode): the backend contract, failed writes, wiring, import cost."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

import folio.lake.api
from folio.bootstrap import build_platform
from folio.core.objectstore import FileSystemObjectStore
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.lake.api import LAKE, Lake, LakeTable, lake_backend, lake_for
from tests.support.imports import loaded_by
from tests.unit.lake.lake_contract import FOUR_SALES, LakeContract, sales, sales_table
from tests.unit.lake.replace_contract import ReplaceContract

pytestmark = pytest.mark.unit


def local_settings(settings: Settings, root: Path, **lake: object) -> Settings:
    """``settings`` with the lake in the folder ``root`` (and any other ``lake.*`` values)."""
    return settings.model_copy(
        update={"lake": settings.lake.model_copy(update={"backend": "local", "path": root, **lake})}
    )


class TestLocalLake(LakeContract, ReplaceContract):
    """The contract on a folder."""

    @pytest.fixture
    def lake(self, settings: Settings, tmp_path: Path) -> Lake:
        """An empty lake in a temporary folder."""
        return lake_for(local_settings(settings, tmp_path / "lake"))


class FailingStore(FileSystemObjectStore):
    """A folder store whose ``fail_on``-th put fails, as a full disk would."""

    def __init__(self, root: Path, fail_on: int) -> None:
        super().__init__(root)
        self.puts = 0
        self.fail_on = fail_on

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store, or fail on the chosen put."""
        self.puts += 1
        if self.puts == self.fail_on:
            raise OSError(28, "No space left on device")
        await super().put(key, data, content_type=content_type)


def parquet_files(root: Path) -> list[Path]:
    """The Parquet files under ``root``."""
    return sorted(root.rglob("*.parquet"))


@pytest.mark.parametrize("fail_on", [2, 4], ids=["a data file", "the manifest"])
def test_a_failed_write_leaves_the_table_as_it_was(settings: Settings, tmp_path: Path, fail_on: int) -> None:
    """When a data file or the manifest cannot be written, the manifest stays and new files go."""
    root = tmp_path / "lake"
    lake = lake_for(local_settings(settings, root))
    lake.append(sales_table(), sales(FOUR_SALES[:1]))
    before = lake.manifest("sales")
    existing = parquet_files(root)
    failing = Lake(
        FailingStore(root, fail_on), config=lake.config, location=f"{root}#failing", local_root=root
    )

    with pytest.raises(OSError, match="No space left"):
        failing.append(sales_table(), sales(FOUR_SALES[1:]))  # three partitions: puts 1-3, manifest 4

    assert lake.manifest("sales") == before
    assert parquet_files(root) == existing


def test_row_groups_follow_the_setting(settings: Settings, tmp_path: Path) -> None:
    """``lake.row_group_rows`` cuts a partition's file into row groups of that many rows."""
    import pyarrow.parquet as pq

    lake = lake_for(local_settings(settings, tmp_path / "lake", row_group_rows=1024))
    rows = sales([(f"s{i}", FOUR_SALES[0][1], FOUR_SALES[0][2], i) for i in range(2500)])

    report = lake.append(sales_table(), rows)

    entry = lake.manifest("sales").files[0]
    assert entry.row_groups == 3
    assert pq.ParquetFile(tmp_path / "lake" / report.files[0]).metadata.num_row_groups == 3


def test_manifest_is_plain_json_beside_the_files(settings: Settings, tmp_path: Path) -> None:
    """The manifest is readable JSON: table, schema version, columns and, per file, rows and sha256."""
    lake = lake_for(local_settings(settings, tmp_path / "lake"))
    lake.append(sales_table(), sales(FOUR_SALES))

    body = json.loads((tmp_path / "lake" / "sales" / "_manifest.json").read_text())

    assert (body["table"], body["schema_version"], body["format"]) == ("sales", 1, 1)
    assert ["amount_minor", "int64", False] in body["columns"]
    assert {"path", "partition", "rows", "bytes", "sha256", "row_groups", "columns", "source"} <= set(
        body["files"][0]
    )
    assert json.loads((tmp_path / "lake" / "_tables.json").read_text()) == {"tables": ["sales"]}


def test_lake_table_declarations_are_checked() -> None:
    """A bad name, a partition column not in the schema or of an unusable type is refused at declaration."""
    schema = pa.schema([("date", pa.date32()), ("shop_id", pa.string()), ("x", pa.float64())])
    with pytest.raises(ValueError, match="not a lake table name"):
        LakeTable(name="Bad-Name", schema=schema)
    with pytest.raises(ValueError, match="not in the schema"):
        LakeTable(name="t", schema=schema, partition_by=("day",))
    with pytest.raises(ValueError, match="must be a date32"):
        LakeTable(name="t", schema=schema, partition_by=("x",))
    assert LakeTable(name="t", schema=schema).data_schema.names == ["x"]


def test_backend_follows_the_settings(settings: Settings, tmp_path: Path) -> None:
    """``auto``: a folder in lite mode, else the object store's lake bucket; either can be forced."""
    lite = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "sqlite", "url": None})}
    )
    full = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "postgres", "url": None})}
    )
    assert lake_backend(lite) == "local"
    assert lake_backend(full) == "s3"
    assert lake_for(full).location.startswith(f"s3://{settings.lake.bucket} at http://")
    assert lake_for(local_settings(full, tmp_path)).local_root == tmp_path


async def test_bootstrap_wires_the_lake(settings: Settings, tmp_path: Path) -> None:
    """Every platform has a lake in its ``LAKE`` slot, chosen by ``lake_for``."""
    platform = build_platform(local_settings(settings, tmp_path), rate_limiter=RateLimiter("memory://"))
    try:
        assert platform.get(LAKE).local_root == tmp_path
    finally:
        await platform.aclose()


@pytest.mark.parametrize("module", ["folio.lake.api", "folio.lake.cli"])
def test_importing_the_api_loads_no_heavy_library(module: str) -> None:
    """The api (every process imports it) and the CLI group load no pyarrow, DuckDB or deltalake."""
    assert loaded_by(module, ("pyarrow", "duckdb", "deltalake", "numpy", "pandas")) == {}


def test_public_surface() -> None:
    """folio.lake.api exports exactly what other packages may use."""
    assert sorted(folio.lake.api.__all__) == sorted(
        [
            "CART_ITEM_ADDED",
            "LAKE",
            "VIEWS",
            "AppendReport",
            "AsOf",
            "ColumnStats",
            "CompactReport",
            "DeltaVersion",
            "Lake",
            "LakeChecksumError",
            "LakeConflictError",
            "LakeQueryError",
            "LakeSchemaError",
            "LakeTable",
            "LakeTableNotFoundError",
            "LakeView",
            "Manifest",
            "ManifestFile",
            "PartitionValue",
            "ReplaceReport",
            "lake_backend",
            "lake_for",
            "order_events_table",
            "order_lines_table",
        ]
    )
