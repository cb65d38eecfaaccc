"""``Lake``: partitioned Parquet files and their manifests on an ``ObjectStore``, queried with DuckDB.

Layout under the lake's root (an S3 bucket, or a folder in lite mode)::

    _tables.json                                   the names of the tables, sorted
    <table>/_manifest.json                         the table's manifest (folio.lake.manifest)
    <table>/date=2026-12-04/shop_id=<id>/part-<uuid>.parquet

Key contracts:

- Synchronous: Parquet, object-store and DuckDB calls block. Async code calls the lake
  with ``asyncio.to_thread``; calling it on an event loop's thread is a ``RuntimeError``.
  The object store is the kernel's (``folio.core.objectstore``), driven on a private
  event loop per call.
- A write puts its Parquet files first and the manifest last, in one put: readers see
  the table before or after it, and a write that fails leaves the manifest as it was.
  Writes to one lake are serialised inside a process (one lock per root); one process
  writes a given table (the inbox, the pipeline's sink, a ``folio lake`` command), and a
  compaction or a ``replace_partitions`` that finds the manifest moved under it gives up
  (``LakeConflictError``).
- Files are immutable (a new name for every write), so the ``s3`` backend's local copies,
  which DuckDB reads, never go stale; each copy is checked against the manifest's
  sha256 before it is used.
- Every query runs on a fresh in-memory DuckDB in which every table is a view over its
  manifest's files with Hive partitioning (``WHERE date = ...`` opens only that
  partition's files), plus the ready-made views of ``folio.lake.views``.
- Delta tables (``delta_append``; ``folio.lake.delta``) share the root and the catalogue
  of names (``_tables.json`` lists them under ``delta`` too); their ``_delta_log`` is
  their manifest, so ``manifest()`` does not apply to them, and queries read them
  through Arrow at their latest version or ``as_of`` one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from folio.core.objectstore import ObjectNotFoundError, ObjectStore
from folio.lake.delta import AsOf, DeltaLocation, DeltaVersion
from folio.lake.errors import (
    LakeChecksumError,
    LakeConflictError,
    LakeQueryError,
    LakeSchemaError,
    LakeTableNotFoundError,
)
from folio.lake.manifest import Manifest, ManifestFile, column_stats
from folio.lake.tables import TABLE_NAME, LakeTable, conform, split_partitions

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from folio.lake.settings import LakeSettings

__all__ = ["AppendReport", "CompactReport", "Lake", "PartitionValue", "ReplaceReport"]

T = TypeVar("T")

PartitionValue = dt.date | str | int
"""A partition column's value, as ``replace_partitions``'s ``where`` takes it."""

TABLES_KEY = "_tables.json"
PARQUET_TYPE = "application/vnd.apache.parquet"
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(location: str) -> threading.Lock:
    """The one lock of the lake at ``location`` in this process, shared by every ``Lake`` on it."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(location, threading.Lock())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _manifest_key(table: str) -> str:
    return f"{table}/_manifest.json"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class AppendReport:
    """What one ``Lake.append`` wrote."""

    table: str
    rows: int
    files: tuple[str, ...]
    """Object keys (paths) written, relative to the lake's root."""
    partitions: tuple[str, ...]
    """``date=2026-12-04/shop_id=<id>``, one per file."""
    version: int | None = None
    """The commit a Delta table's append made (``delta_append``); None for a manifest table."""


@dataclass(frozen=True)
class CompactReport:
    """What one ``Lake.compact`` did: per merged partition, files before and after, rows unchanged."""

    table: str
    partitions: tuple[str, ...]
    files_before: int
    files_after: int
    rows: int
    removed: tuple[str, ...]


@dataclass(frozen=True)
class ReplaceReport:
    """What one ``Lake.replace_partitions`` did: the files it wrote, and the files and rows they replaced."""

    table: str
    rows: int
    files: tuple[str, ...]
    """Object keys written, relative to the lake's root (none when the new data was empty)."""
    partitions: tuple[str, ...]
    """The partitions written, one per file."""
    replaced_rows: int
    removed: tuple[str, ...]
    """Object keys of the replaced files, deleted once the new manifest was in place."""


@dataclass(frozen=True)
class _Encoded:
    key: str
    data: bytes
    entry: ManifestFile


_DUCKDB_TYPES = {"date32[day]": "DATE", "string": "VARCHAR", "large_string": "VARCHAR"}


def _hive_type(arrow_type: str) -> str:
    """DuckDB's name for a partition column's Arrow type (the partition kinds ``LakeTable`` allows)."""
    if arrow_type in _DUCKDB_TYPES:
        return _DUCKDB_TYPES[arrow_type]
    return {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER"}.get(arrow_type, "BIGINT")


class Lake:
    """The data lake. Construct it with ``lake_for(settings)``; constructing connects to nothing."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        config: LakeSettings,
        location: str,
        local_root: Path | None = None,
        cache_dir: Path | None = None,
        delta: DeltaLocation | None = None,
    ) -> None:
        """``local_root``: the store's folder when DuckDB can read its files in place; else ``cache_dir``.

        ``delta``: where delta-rs finds the same root (default: ``local_root``); a lake
        with neither refuses Delta tables.
        """
        if local_root is None and cache_dir is None:
            raise ValueError("a lake needs its files' folder (local_root) or a cache folder")
        self.store = store
        self.config = config
        self.location = location
        """Where the lake is, for people and for the per-root write lock (``s3://bucket``, a folder)."""
        self.local_root = local_root
        self.cache_dir = cache_dir
        self.delta = delta if delta is not None or local_root is None else DeltaLocation(str(local_root))
        self._lock = _write_lock(location)

    def __repr__(self) -> str:
        return f"Lake({self.location!r})"

    # --- the object store, from synchronous code ------------------------------------------------

    def _run(self, work: Callable[[], Awaitable[T]]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_awaited(work))
        raise RuntimeError("the lake blocks: call it with asyncio.to_thread from async code")

    def _get(self, key: str) -> bytes | None:
        async def get() -> bytes | None:
            try:
                return await self.store.get(key)
            except ObjectNotFoundError:
                return None

        return self._run(get)

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        self._run(lambda: self.store.put(key, data, content_type=content_type))

    def _put_all(self, objects: Sequence[_Encoded]) -> None:
        """Put every file, in parallel; when one fails, delete those that were put and re-raise."""

        async def put_all() -> None:
            results = await asyncio.gather(
                *(self.store.put(each.key, each.data, content_type=PARQUET_TYPE) for each in objects),
                return_exceptions=True,
            )
            failures = [result for result in results if isinstance(result, BaseException)]
            if failures:
                await asyncio.gather(
                    *(self.store.delete(each.key) for each in objects), return_exceptions=True
                )
                raise failures[0]

        self._run(put_all)

    def _delete_all(self, keys: Sequence[str]) -> None:
        async def delete_all() -> None:
            await asyncio.gather(*(self.store.delete(key) for key in keys))

        self._run(delete_all)

    # --- reading the catalogue of tables ---------------------------------------------------------

    def _catalogue(self) -> dict[str, list[str]]:
        raw = self._get(TABLES_KEY)
        return {"tables": [], "delta": []} if raw is None else {"delta": [], **json.loads(raw)}

    def tables(self) -> list[str]:
        """The names of the lake's tables (manifest and Delta tables), sorted."""
        return sorted(self._catalogue()["tables"])

    def delta_tables(self) -> list[str]:
        """The names of the lake's Delta tables, sorted."""
        return sorted(self._catalogue()["delta"])

    def manifest(self, table: str) -> Manifest:
        """The table's manifest; ``LakeTableNotFoundError`` when the lake has no such manifest table."""
        if not TABLE_NAME.fullmatch(table):
            raise LakeTableNotFoundError(f"no lake table {table[:80]!r}", entity="lake table")
        raw = self._get(_manifest_key(table))
        if raw is None:
            if table in self.delta_tables():
                raise LakeTableNotFoundError(
                    f"{table!r} is a Delta table: its log is its manifest (folio lake history {table})",
                    entity="lake table",
                )
            raise LakeTableNotFoundError(f"the lake has no table {table!r}", entity="lake table")
        return Manifest.from_json(raw)

    def _manifest_or_none(self, table: str) -> Manifest | None:
        raw = self._get(_manifest_key(table))
        return None if raw is None else Manifest.from_json(raw)

    # --- writing ----------------------------------------------------------------------------------

    def _encode(self, table: LakeTable, partition: str, rows: pa.Table, source: str | None) -> _Encoded:
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(
            rows,
            sink,
            compression=self.config.compression,
            row_group_size=self.config.row_group_rows,
            write_statistics=True,
        )
        data = sink.getvalue().to_pybytes()
        key = f"{table.name}/{partition}/part-{uuid.uuid4().hex}.parquet"
        entry = ManifestFile(
            path=key,
            partition=partition,
            rows=rows.num_rows,
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            row_groups=-(-rows.num_rows // self.config.row_group_rows),
            columns=column_stats(rows),
            source=source,
            written_at=_now().isoformat(),
        )
        return _Encoded(key=key, data=data, entry=entry)

    def _current(self, table: LakeTable) -> Manifest:
        """The table's manifest, checked against ``table``'s declaration; an empty one for a new table."""
        current = self._manifest_or_none(table.name)
        fresh = Manifest.empty(
            table=table.name,
            schema=table.schema,
            partition_by=table.partition_by,
            version=table.schema_version,
            description=table.description,
        )
        if current is None:
            return fresh
        if tuple(current.partition_by) != table.partition_by:
            raise LakeSchemaError(
                f"{table.name} is partitioned by {', '.join(current.partition_by)}",
                table=table.name,
                column=",".join(table.partition_by),
                reason="the table is partitioned differently",
            )
        if table.schema_version < current.schema_version:
            raise LakeSchemaError(
                f"{table.name} is at schema version {current.schema_version}, these rows declare "
                f"{table.schema_version}",
                table=table.name,
                column="*",
                reason="an older schema version than the table's",
            )
        if table.schema_version == current.schema_version:
            if not current.schema.equals(table.schema):
                raise LakeSchemaError(
                    f"{table.name}: schema version {table.schema_version} was written with other columns; "
                    "a changed schema needs the next schema_version",
                    table=table.name,
                    column="*",
                    reason="the schema changed without a new schema_version",
                )
            return current
        # A newer version: the table takes its schema; older files are read by name, new columns null.
        return Manifest(**{**current.__dict__, **{k: getattr(fresh, k) for k in _DECLARED}})

    def _register(self, table: str, *, delta: bool = False) -> None:
        catalogue = self._catalogue()
        if table not in catalogue["tables"]:
            catalogue["tables"] = sorted({*catalogue["tables"], table})
            if delta:
                catalogue["delta"] = sorted({*catalogue["delta"], table})
            if not catalogue["delta"]:
                del catalogue["delta"]  # a lake of manifest tables only keeps its first layout
            self._put(TABLES_KEY, json.dumps(catalogue).encode(), "application/json")

    def _refuse_other_kind(self, name: str, *, delta: bool) -> None:
        """``LakeConflictError`` when ``name`` is already a table of the other kind."""
        catalogue = self._catalogue()
        if name in catalogue["tables"] and (name in catalogue["delta"]) != delta:
            kind = "a Parquet-manifest" if delta else "a Delta"
            raise LakeConflictError(f"{name} is {kind} table: write it as one", table=name)

    def append(self, table: LakeTable, data: pa.Table, *, source: str | None = None) -> AppendReport:
        """Write ``data`` to ``table``: one Parquet file per partition, then the manifest.

        Refuses (``LakeSchemaError``, nothing written) rows that do not fit the schema
        (see ``folio.lake.tables.conform``) and a declaration that contradicts the
        table's manifest (other partitioning; other columns under the same
        ``schema_version``; an older version). A table seen for the first time is
        created, even by an empty ``data``.
        """
        conformed = conform(table, data)
        encoded = [
            self._encode(table, partition, rows, source)
            for partition, rows in split_partitions(table, conformed)
        ]
        with self._lock:
            self._refuse_other_kind(table.name, delta=False)
            current = self._current(table)
            self._put_all(encoded)
            try:
                updated = current.with_files((*current.files, *(each.entry for each in encoded)), now=_now())
                self._put(_manifest_key(table.name), updated.to_json(), "application/json")
            except BaseException:
                self._delete_all([each.key for each in encoded])
                raise
            self._register(table.name)
        return AppendReport(
            table=table.name,
            rows=conformed.num_rows,
            files=tuple(each.key for each in encoded),
            partitions=tuple(each.entry.partition for each in encoded),
        )

    def replace_partitions(
        self,
        table: LakeTable,
        data: pa.Table,
        *,
        where: Mapping[str, PartitionValue],
        source: str | None = None,
    ) -> ReplaceReport:
        """Make ``data`` the whole content of the partitions ``where`` selects: the idempotent write.

        ``where`` maps some partition columns to one value each (``{"date": day}``: that
        day, every shop); every partition of the table matching it is replaced, and every
        row of ``data`` must fall inside it (``LakeSchemaError`` otherwise, nothing
        written). An empty ``data`` empties the selected partitions. The new files are put
        first, then the manifest swaps the old entries for the new in one put, then the
        old files are deleted: a reader sees the partitions before or after, never both.
        When the manifest moved meanwhile (another process wrote the table) the new files
        are deleted and ``LakeConflictError`` is raised, the table as the other writer
        left it. Running it twice with the same rows leaves the same table.
        """
        unknown = sorted(set(where) - set(table.partition_by))
        if unknown or not where:
            raise ValueError(
                f"where must name partition columns of {table.name} ({', '.join(table.partition_by)}); "
                f"got {', '.join(unknown) or 'none'}"
            )
        wanted = {name: _partition_text(value) for name, value in where.items()}
        conformed = conform(table, data)
        slices = split_partitions(table, conformed)
        for partition, _ in slices:
            values = _partition_values(partition)
            outside = next((name for name in wanted if values[name] != wanted[name]), None)
            if outside is not None:
                raise LakeSchemaError(
                    f"{table.name}: a row has {outside}={values[outside]}, outside the partitions replaced "
                    f"({_where_text(wanted)})",
                    table=table.name,
                    column=outside,
                    reason="a row outside the partitions being replaced",
                )
        encoded = [self._encode(table, partition, rows, source) for partition, rows in slices]
        with self._lock:
            self._refuse_other_kind(table.name, delta=False)
            current = self._current(table)
            self._put_all(encoded)
            latest = self._manifest_or_none(table.name)
            if (latest.revision if latest else 0) != current.revision:
                self._delete_all([each.key for each in encoded])
                raise LakeConflictError(
                    f"{table.name} changed while {_where_text(wanted)} was replaced; nothing was replaced",
                    table=table.name,
                )
            replaced = [entry for entry in current.files if _selects(wanted, entry.partition)]
            gone = {entry.path for entry in replaced}
            kept = tuple(entry for entry in current.files if entry.path not in gone)
            try:
                updated = current.with_files((*kept, *(each.entry for each in encoded)), now=_now())
                self._put(_manifest_key(table.name), updated.to_json(), "application/json")
            except BaseException:
                self._delete_all([each.key for each in encoded])
                raise
            self._register(table.name)
            # Only now, with the new manifest in place, are the replaced files unreferenced.
            self._delete_all(sorted(gone))
        return ReplaceReport(
            table=table.name,
            rows=conformed.num_rows,
            files=tuple(each.key for each in encoded),
            partitions=tuple(each.entry.partition for each in encoded),
            replaced_rows=sum(entry.rows for entry in replaced),
            removed=tuple(sorted(gone)),
        )

    # --- Delta tables -----------------------------------------------------------------------------

    def _delta(self) -> DeltaLocation:
        if self.delta is None:
            raise RuntimeError(f"{self!r} has no Delta location: build it with lake_for")
        return self.delta

    def _delta_table_or_raise(self, table: str) -> DeltaLocation:
        if table not in self.delta_tables():
            raise LakeTableNotFoundError(f"the lake has no Delta table {table[:80]!r}", entity="lake table")
        return self._delta()

    def delta_append(self, table: LakeTable, data: pa.Table, *, source: str | None = None) -> AppendReport:
        """Append ``data`` to the Delta table ``table`` in one ACID commit (created by the first).

        The rows are checked as ``append`` checks them (``LakeSchemaError``, nothing
        committed); a newer ``schema_version`` may add nullable columns. A name that is
        already a manifest table is a ``LakeConflictError``. The report's ``version`` is
        the commit's, its ``files`` the data files the commit added.
        """
        location = self._delta()
        conformed = conform(table, data)
        with self._lock:
            self._refuse_other_kind(table.name, delta=True)
            before = location.files(table.name) if location.exists(table.name) else set()
            version, rows = location.append(table, conformed, source=source, config=self.config)
            self._register(table.name, delta=True)
            added = sorted(location.files(table.name, version) - before)
        return AppendReport(
            table=table.name,
            rows=rows,
            files=tuple(f"{table.name}/{path}" for path in added),
            partitions=tuple(path.rsplit("/", 1)[0] for path in added),
            version=version,
        )

    def delta_history(self, table: str, *, limit: int | None = None) -> list[DeltaVersion]:
        """The Delta table's commits, newest first (``LakeTableNotFoundError`` for no such table)."""
        return self._delta_table_or_raise(table).history(table, limit)

    def delta_vacuum(self, table: str, *, retention_hours: int = 168, dry_run: bool = False) -> list[str]:
        """Delete the files of ``table`` no version younger than ``retention_hours`` reads; their paths.

        Time travel to a version older than the retention fails afterwards. ``dry_run``
        lists what would go and deletes nothing.
        """
        if retention_hours < 0:
            raise ValueError("retention_hours cannot be negative")
        with self._lock:
            return self._delta_table_or_raise(table).vacuum(
                table, retention_hours=retention_hours, dry_run=dry_run
            )

    # --- reading ----------------------------------------------------------------------------------

    def _verified(self, entry: ManifestFile, data: bytes) -> bytes:
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise LakeChecksumError(
                f"{entry.path} does not match the sha256 of its manifest", path=entry.path
            )
        return data

    def _readable(self, files: Sequence[ManifestFile]) -> list[str]:
        """Local paths DuckDB can open for ``files``: in place, or copied from S3 and checked first."""
        if self.local_root is not None:
            return [str(self.local_root / entry.path) for entry in files]
        cache = self.cache_dir
        if cache is None:
            raise RuntimeError("unreachable: the constructor refuses a lake with neither folder")
        # A copy was checked against its sha256 when fetched; its size (a stat) catches a truncated one.
        missing = [entry for entry in files if not _has_size(cache / entry.path, entry.bytes)]

        async def fetch() -> list[bytes]:
            return list(await asyncio.gather(*(self.store.get(entry.path) for entry in missing)))

        for entry, data in zip(missing, self._run(fetch) if missing else [], strict=True):
            path = cache / entry.path
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(self._verified(entry, data))
            Path(temporary).replace(path)
        return [str(cache / entry.path) for entry in files]

    def _view_sql(self, manifest: Manifest) -> str | None:
        """The ``CREATE VIEW`` of a table over its files; None for a table with no file yet."""
        if not manifest.files:
            return None
        paths = ", ".join(_sql_text(path) for path in self._readable(manifest.files))
        types = {name: kind for name, kind, _ in manifest.columns}
        hive = ", ".join(
            f"{_sql_text(name)}: {_sql_text(_hive_type(types[name]))}" for name in manifest.partition_by
        )
        columns = ", ".join(f'"{name}"' for name, _, _ in manifest.columns)
        # Table and column names are identifiers LakeTable checked; paths and types are quoted literals.
        return (
            f'CREATE VIEW "{manifest.table}" AS SELECT {columns} FROM read_parquet([{paths}], '  # noqa: S608
            f"hive_partitioning = true, hive_types = {{{hive}}}, union_by_name = true)"
        )

    @contextmanager
    def connect(self, *, as_of: Mapping[str, AsOf] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh in-memory DuckDB with every table (and every ready-made view) defined; closed after.

        ``as_of`` opens the named Delta tables at a version or a time (time travel); the
        others are at their latest. Naming a table that is not a Delta table is a
        ``LakeQueryError``.
        """
        import duckdb

        from folio.lake.views import create_views

        as_of = as_of or {}
        catalogue = self._catalogue()
        undelta = sorted(set(as_of) - set(catalogue["delta"]))
        if undelta:
            raise LakeQueryError(f"time travel needs a Delta table; {', '.join(undelta)} is not one")
        connection = duckdb.connect(":memory:")
        try:
            present = []
            for name in sorted(catalogue["tables"]):
                if name in catalogue["delta"]:
                    connection.register(f"_delta_{name}", self._delta().dataset(name, as_of.get(name)))
                    connection.execute(f'CREATE VIEW "{name}" AS SELECT * FROM "_delta_{name}"')  # noqa: S608
                    present.append(name)
                    continue
                manifest = self.manifest(name)
                sql = self._view_sql(manifest)
                if sql is None:
                    # No file yet: an empty relation with the table's columns, so queries still bind.
                    connection.register(f"_empty_{name}", manifest.schema.empty_table())
                    sql = f'CREATE VIEW "{name}" AS SELECT * FROM "_empty_{name}"'  # noqa: S608 - a checked name
                connection.execute(sql)
                present.append(name)
            create_views(connection, present)
            yield connection
        finally:
            connection.close()

    def query(
        self, sql: str, params: Sequence[object] = (), *, as_of: Mapping[str, AsOf] | None = None
    ) -> pa.Table:
        """Run ``sql`` (DuckDB's SQL, ``?`` placeholders for ``params``) over the lake; the result as Arrow.

        A DuckDB error (syntax, unknown table or column) is a ``LakeQueryError``.
        ``as_of`` maps Delta tables to the version (an int) or time (aware datetime) to
        read them at; a version that does not exist is a ``LakeQueryError``.
        """
        import duckdb
        import pyarrow as pa

        with self.connect(as_of=as_of) as connection:
            try:
                # duckdb's stubs say a relation, but a statement with no result (SET, CREATE) gives None.
                relation = cast(
                    "duckdb.DuckDBPyRelation | None", connection.sql(sql, params=list(params) or None)
                )
                return pa.table({}) if relation is None else relation.to_arrow_table()
            except duckdb.Error as exc:
                raise LakeQueryError(str(exc).splitlines()[0]) from None

    def explain(self, sql: str, params: Sequence[object] = (), *, analyze: bool = False) -> str:
        """DuckDB's plan of ``sql``: per Parquet scan its file filters and ``Scanning Files: read/all``.

        With ``analyze`` the query runs and the plan adds the files actually read, their
        names and the rows per operator. DuckDB prints no analysed plan for a prepared
        statement, so ``analyze`` takes no ``params`` (``ValueError``): write the values in.
        """
        import duckdb

        if analyze and params:
            raise ValueError("EXPLAIN ANALYZE takes no parameters: write the values into the SQL")
        with self.connect() as connection:
            try:
                rows = connection.execute(
                    f"EXPLAIN {'ANALYZE ' if analyze else ''}{sql}", list(params)
                ).fetchall()
            except duckdb.Error as exc:
                raise LakeQueryError(str(exc).splitlines()[0]) from None
        return "\n".join(str(row[1]) for row in rows)

    # --- compaction -------------------------------------------------------------------------------

    def compact(self, table: str, *, partitions: Sequence[str] = ()) -> CompactReport:
        """Merge each partition's small files into one; the manifest first, old files deleted after.

        A partition is merged when it has two or more files and not all of them are at
        least half ``lake.target_file_bytes``. Each old file is checked against its
        sha256 before it is read, the merged rows are counted against the manifest's,
        and the old files are deleted only once the new manifest is in place (a crash
        in between leaves unlisted files, never a table that lost rows).
        ``partitions`` limits the work to those (``date=.../shop_id=...``).
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        if table in self.delta_tables():
            return self._delta_compact(table)
        with self._lock:
            manifest = self.manifest(table)
            declared = LakeTable(
                name=table,
                schema=manifest.schema,
                partition_by=manifest.partition_by,
                schema_version=manifest.schema_version,
            )
            by_partition: dict[str, list[ManifestFile]] = {}
            for entry in manifest.files:
                by_partition.setdefault(entry.partition, []).append(entry)
            half = self.config.target_file_bytes // 2
            chosen = {
                partition: entries
                for partition, entries in sorted(by_partition.items())
                if len(entries) > 1
                and any(entry.bytes < half for entry in entries)
                and (not partitions or partition in partitions)
            }
            merged: list[_Encoded] = []
            for partition, entries in chosen.items():
                contents = self._fetch_verified(entries)
                parts = [pq.read_table(pa.BufferReader(data)) for data in contents]
                rows = _as_schema(pa.concat_tables(parts, promote_options="default"), declared.data_schema)
                expected = sum(entry.rows for entry in entries)
                if rows.num_rows != expected:
                    raise LakeChecksumError(
                        f"{partition}: read {rows.num_rows} rows, the manifest says {expected}",
                        path=partition,
                    )
                sources = sorted({entry.source for entry in entries if entry.source})
                merged.append(self._encode(declared, partition, rows, "; ".join(sources) or None))
            if not merged:
                return CompactReport(table, (), 0, 0, manifest.rows, ())
            self._put_all(merged)
            replaced = {entry.path for partition in chosen for entry in chosen[partition]}
            latest = self.manifest(table)
            if latest.revision != manifest.revision:
                self._delete_all([each.key for each in merged])
                raise LakeConflictError(f"{table} changed while it was compacted; nothing was replaced")
            kept = tuple(entry for entry in manifest.files if entry.path not in replaced)
            updated = manifest.with_files((*kept, *(each.entry for each in merged)), now=_now())
            self._put(_manifest_key(table), updated.to_json(), "application/json")
            # Only now, with the new manifest in place, are the merged files unreferenced.
            self._delete_all(sorted(replaced))
        return CompactReport(
            table=table,
            partitions=tuple(chosen),
            files_before=len(replaced),
            files_after=len(merged),
            rows=updated.rows,
            removed=tuple(sorted(replaced)),
        )

    def _delta_compact(self, table: str) -> CompactReport:
        """A Delta table's compaction: ``OPTIMIZE`` in one commit.

        The replaced files leave the table's latest version but stay on disk for time
        travel until ``delta_vacuum``: ``removed`` is empty.
        """
        location = self._delta()
        with self._lock:
            before = location.files(table)
            location.compact(table, target_file_bytes=self.config.target_file_bytes)
            after = location.files(table)
        replaced = before - after
        return CompactReport(
            table=table,
            partitions=tuple(sorted({path.rsplit("/", 1)[0] for path in replaced})),
            files_before=len(replaced),
            files_after=len(after - before),
            rows=location.dataset(table).count_rows(),
            removed=(),
        )

    def _fetch_verified(self, entries: Sequence[ManifestFile]) -> list[bytes]:
        async def fetch() -> list[bytes]:
            return list(await asyncio.gather(*(self.store.get(entry.path) for entry in entries)))

        return [self._verified(entry, data) for entry, data in zip(entries, self._run(fetch), strict=True)]


_DECLARED = ("schema_version", "schema_ipc", "columns", "description")
"""The manifest fields a table's declaration sets (a new ``schema_version`` replaces them)."""


def _partition_text(value: PartitionValue) -> str:
    """A partition value as its folder name spells it (``partition_path``)."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _partition_values(partition: str) -> dict[str, str]:
    """``date=2026-12-04/shop_id=x`` as ``{"date": "2026-12-04", "shop_id": "x"}``."""
    return dict(part.split("=", 1) for part in partition.split("/"))


def _selects(wanted: Mapping[str, str], partition: str) -> bool:
    values = _partition_values(partition)
    return all(values.get(name) == value for name, value in wanted.items())


def _where_text(wanted: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in sorted(wanted.items()))


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except FileNotFoundError:
        return False


def _as_schema(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """``rows`` in ``schema``'s column order and types; columns older files lack are null."""
    import pyarrow as pa

    return pa.Table.from_arrays(
        [
            rows.column(field.name).cast(field.type)
            if field.name in rows.column_names
            else pa.nulls(rows.num_rows, field.type)
            for field in schema
        ],
        schema=schema,
    )


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()
