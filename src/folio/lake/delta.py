"""Delta Lake tables in the lake, through ``deltalake`` (delta-rs): ACID appends, time travel, vacuum.

A Delta table is the lake's second kind of table, beside the manifest tables of
``folio.lake.lake``. It lives in the same root (``<root>/<table>/``: Hive partition
folders of Parquet files plus ``_delta_log/``, whose JSON commits are its manifest),
is declared by the same ``LakeTable`` and checked by the same ``conform``. What the
Delta log adds:

- **ACID appends**: each write is one commit (``_delta_log/<version>.json``) put only if
  absent; concurrent appends retry on the next version, and readers see whole commits.
  On S3 "only if absent" is a conditional put (``conditional_put=etag``), so no lock
  service is needed.
- **Time travel**: every commit is a version; a table opens at a version or at the
  latest version committed at or before a time.
- **Vacuum**: files a later commit removed (compaction, i.e. ``optimize``) stay readable
  by older versions until ``vacuum`` deletes those older than the retention.

Each commit records Folio's ``folio.schema_version`` and ``folio.source`` in its
commit info. DuckDB reads a version through Arrow (``to_pyarrow_dataset``), which
prunes partitions on a pushed-down filter: DuckDB's own ``delta`` extension needs a
download this machine cannot make.

deltalake and pyarrow are imported inside the functions: importing the lake's api
never loads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from folio.lake.errors import LakeQueryError, LakeSchemaError, LakeTableNotFoundError
from folio.lake.tables import LakeTable

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pads
    from deltalake import DeltaTable

    from folio.lake.settings import LakeSettings

__all__ = ["AsOf", "DeltaLocation", "DeltaVersion"]

AsOf = int | dt.datetime
"""A Delta table's version number, or a time (the latest version committed at or before it)."""

SCHEMA_VERSION_KEY = "folio.schema_version"
SOURCE_KEY = "folio.source"

_COMPRESSION = {"zstd": "ZSTD", "snappy": "SNAPPY", "gzip": "GZIP", "none": "UNCOMPRESSED"}


@dataclass(frozen=True)
class DeltaVersion:
    """One commit of a Delta table, as ``Lake.delta_history`` lists it (newest first)."""

    version: int
    committed_at: dt.datetime
    operation: str
    """``WRITE`` (an append), ``CREATE TABLE``, ``OPTIMIZE`` (compaction), ``VACUUM START``/``END``."""
    schema_version: int | None
    source: str | None
    rows_added: int | None


@dataclass(frozen=True)
class DeltaLocation:
    """Where the lake's Delta tables live: ``uri`` (a folder or ``s3://bucket``) and delta-rs's options."""

    uri: str
    storage_options: Mapping[str, str] | None = None

    def table_uri(self, name: str) -> str:
        """The URI of table ``name`` (a checked table name, so a plain path segment)."""
        return f"{self.uri.rstrip('/')}/{name}"

    def options(self) -> dict[str, str] | None:
        """The storage options as delta-rs takes them (a fresh dict: it may keep a reference)."""
        return None if self.storage_options is None else dict(self.storage_options)

    def open(self, name: str, as_of: AsOf | None = None) -> DeltaTable:
        """Table ``name`` at its latest version or ``as_of`` or a problem."""
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError, TableNotFoundError

        try:
            table = DeltaTable(self.table_uri(name), storage_options=self.options())
        except TableNotFoundError:
            raise LakeTableNotFoundError(
                f"the lake has no Delta table {name!r}", entity="lake table"
            ) from None
        if as_of is None:
            return table
        if isinstance(as_of, dt.datetime) and as_of.tzinfo is None:
            raise ValueError("a time-travel time must be timezone-aware (UTC)")
        try:
            table.load_as_version(as_of)
        except (DeltaError, ValueError, OSError) as exc:
            latest = table.version()
            raise LakeQueryError(
                f"{name} has no version as of {as_of} (versions 0 to {latest}): {str(exc).splitlines()[0]}"
            ) from None
        return table

    def exists(self, name: str) -> bool:
        """Whether a Delta table ``name`` has been committed."""
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(self.table_uri(name), storage_options=self.options())

    def append(
        self, table: LakeTable, data: pa.Table, *, source: str | None, config: LakeSettings
    ) -> tuple[int, int]:
        """Append ``data`` (already conformed) as one commit; (the new version, rows written).

        The schema rules are the manifest tables': the same ``schema_version`` must keep
        the same columns, a newer one may add nullable columns (old files read as null:
        delta-rs merges the schema in the same commit), an older one is refused.
        """
        from deltalake import CommitProperties, WriterProperties, write_deltalake
        from deltalake.exceptions import SchemaMismatchError

        merge = False
        if self.exists(table.name):
            current = self.open(table.name)
            merge = _check_evolution(table, current)
        metadata = {SCHEMA_VERSION_KEY: str(table.schema_version)}
        if source:
            metadata[SOURCE_KEY] = source
        try:
            write_deltalake(
                self.table_uri(table.name),
                data,
                partition_by=list(table.partition_by),
                mode="append",
                schema_mode="merge" if merge else None,
                description=table.description or None,
                storage_options=self.options(),
                target_file_size=config.target_file_bytes,
                writer_properties=WriterProperties(
                    compression=_COMPRESSION[config.compression],  # type: ignore[arg-type]
                    max_row_group_size=config.row_group_rows,
                ),
                commit_properties=CommitProperties(custom_metadata=metadata),
            )
        except SchemaMismatchError as exc:
            raise LakeSchemaError(
                f"{table.name}: {str(exc).splitlines()[0]}",
                table=table.name,
                column="*",
                reason="the Delta table's schema refuses these columns",
            ) from None
        return self.open(table.name).version(), data.num_rows

    def files(self, name: str, as_of: AsOf | None = None) -> set[str]:
        """The data files of table ``name``'s latest version (or ``as_of``), relative to the table."""
        import pyarrow as pa

        return set(pa.table(self.open(name, as_of).get_add_actions(flatten=True)).column("path").to_pylist())

    def history(self, name: str, limit: int | None = None) -> list[DeltaVersion]:
        """The table's commits, newest first."""
        return [_version(entry) for entry in self.open(name).history(limit)]

    def dataset(self, name: str, as_of: AsOf | None = None) -> pads.Dataset:
        """Table ``name`` (at ``as_of``) as a pyarrow dataset with its partitions, for DuckDB to scan."""
        return self.open(name, as_of).to_pyarrow_dataset()

    def compact(self, name: str, *, target_file_bytes: int) -> None:
        """``OPTIMIZE``: merge each partition's small files in one commit."""
        self.open(name).optimize.compact(target_size=target_file_bytes)

    def vacuum(self, name: str, *, retention_hours: int, dry_run: bool) -> list[str]:
        """Delete (or, ``dry_run``, list) files no version newer than ``retention_hours`` ago reads.

        Below delta-rs's 168-hour guard the caller asked for it explicitly, so the guard is
        lifted: versions older than the retention can no longer be read afterwards.
        """
        table = self.open(name)
        return sorted(
            table.vacuum(
                retention_hours=retention_hours,
                dry_run=dry_run,
                enforce_retention_duration=False,
            )
        )


def _check_evolution(table: LakeTable, current: DeltaTable) -> bool:
    """Whether ``table``'s declaration needs a schema merge; ``LakeSchemaError`` when it is refused."""
    import pyarrow as pa

    existing = pa.schema(current.schema().to_arrow())
    stored_version = next(
        (int(entry[SCHEMA_VERSION_KEY]) for entry in current.history() if SCHEMA_VERSION_KEY in entry), 1
    )
    if table.schema_version < stored_version:
        raise LakeSchemaError(
            f"{table.name} is at schema version {stored_version}, these rows declare {table.schema_version}",
            table=table.name,
            column="*",
            reason="an older schema version than the table's",
        )
    missing = [name for name in existing.names if name not in table.schema.names]
    if missing:
        raise LakeSchemaError(
            f"{table.name}: the declaration drops {', '.join(missing)} (a dropped column is a new table)",
            table=table.name,
            column=missing[0],
            reason="is in the Delta table but not in the declaration",
        )
    added = [field for field in table.schema if field.name not in existing.names]
    if not added:
        return False
    if table.schema_version == stored_version:
        raise LakeSchemaError(
            f"{table.name}: schema version {table.schema_version} was written with other columns; "
            "a changed schema needs the next schema_version",
            table=table.name,
            column=added[0].name,
            reason="the schema changed without a new schema_version",
        )
    required = next((field.name for field in added if not field.nullable), None)
    if required is not None:
        raise LakeSchemaError(
            f"{table.name}: a column added to a Delta table must be nullable ({required} is not)",
            table=table.name,
            column=required,
            reason="a new column must be nullable",
        )
    return True


def _version(entry: Mapping[str, Any]) -> DeltaVersion:
    metrics = entry.get("operationMetrics") or {}
    rows = metrics.get("num_added_rows", metrics.get("numOutputRows"))
    schema_version = entry.get(SCHEMA_VERSION_KEY)
    return DeltaVersion(
        version=int(entry["version"]),
        committed_at=dt.datetime.fromtimestamp(int(entry["timestamp"]) / 1000, dt.UTC),
        operation=str(entry.get("operation", "")),
        schema_version=None if schema_version is None else int(schema_version),
        source=entry.get(SOURCE_KEY),
        rows_added=None if rows is None else int(rows),
    )
