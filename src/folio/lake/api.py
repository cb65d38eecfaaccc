"""The public surface of the data lake: what contexts, bootstrap and entry points import.

Key contracts (docs/lake.md):

- ``platform.get(LAKE)`` is the process's ``Lake`` (``lake_for(settings)``): Parquet
  files in the bucket ``lake.bucket`` of the object store, or in the folder
  ``lake.path`` (lite mode, or ``lake.backend = "local"``).
- Synchronous: async callers use ``asyncio.to_thread``. pyarrow, DuckDB and deltalake
  load on first use, never when this module is imported.
- ``Lake.append(table, rows, source=...)`` checks ``rows`` against the ``LakeTable``
  (``LakeSchemaError``, 422 ``lake-schema-mismatch``, naming the column, and nothing
  written), writes one Parquet file per ``date``/``shop_id`` partition, then replaces
  the table's manifest in one put.
- ``Lake.replace_partitions(table, rows, where={"date": day})`` is the idempotent write:
  the rows become the whole content of the partitions ``where`` selects (files first,
  the manifest swapped in one put, the old files deleted last; ``LakeConflictError``
  when another writer moved the manifest meanwhile). A daily job re-run replaces its day.
- ``Lake.query(sql, params)`` runs DuckDB over every table (a view each, Hive
  partitioning, so ``WHERE date = ...`` opens that partition's files only) and the
  analyst's views (``VIEWS``); ``Lake.manifest``, ``Lake.tables``, ``Lake.compact``.
- Delta tables (``Lake.delta_append``, the same ``LakeTable``): ACID commits through
  delta-rs, time travel (``Lake.query(..., as_of={table: version or time})``),
  ``Lake.delta_history``, ``Lake.delta_vacuum``; queried like the others.
- The order tables (``order_events_table()``, ``order_lines_table()``) are the contract
  with the event pipeline that fills them.
"""

from __future__ import annotations

from folio.lake.backends import LAKE, lake_backend, lake_for
from folio.lake.delta import AsOf, DeltaVersion
from folio.lake.errors import (
    LakeChecksumError,
    LakeConflictError,
    LakeQueryError,
    LakeSchemaError,
    LakeTableNotFoundError,
)
from folio.lake.lake import AppendReport, CompactReport, Lake, PartitionValue, ReplaceReport
from folio.lake.manifest import ColumnStats, Manifest, ManifestFile
from folio.lake.order_tables import CART_ITEM_ADDED, order_events_table, order_lines_table
from folio.lake.tables import LakeTable
from folio.lake.views import VIEWS, LakeView

__all__ = [
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
