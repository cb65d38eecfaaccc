"""A table's manifest: the one JSON object that says which Parquet files the table is made of.

The manifest is the table's truth: a file not listed there is not part of the table
(a write that failed before its manifest landed leaves, at worst, an unlisted file).
It is replaced whole, in one object-store put (S3 and the folder backend both make a
put atomic for readers), so a reader sees the old table or the new one, never half.

Per file it records the partition, the row count, the byte size, the sha256 of the
bytes (checked whenever the lake copies or merges a file), the number of row groups,
per column the min, max and null count, and the ``source`` the rows came from.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ColumnStats", "Manifest", "ManifestFile", "column_stats"]

JsonScalar = str | int | float | bool | None

MANIFEST_FORMAT = 1
"""Version of the manifest's own JSON layout (not of the table's schema)."""


@dataclass(frozen=True)
class ColumnStats:
    """One column of one file: smallest and largest value (JSON: dates and times as ISO text), nulls."""

    min: JsonScalar
    max: JsonScalar
    nulls: int


@dataclass(frozen=True)
class ManifestFile:
    """One Parquet file of the table."""

    path: str
    """The object key (or path) relative to the lake's root: ``<table>/<partition>/part-<uuid>.parquet``."""
    partition: str
    rows: int
    bytes: int
    sha256: str
    row_groups: int
    columns: dict[str, ColumnStats]
    source: str | None
    written_at: str


@dataclass(frozen=True)
class Manifest:
    """A table: its declaration as written, its revision, and its files."""

    table: str
    schema_version: int
    partition_by: tuple[str, ...]
    schema_ipc: str
    """The Arrow schema, IPC-serialised and base64-encoded: exact types, for readers and empty views."""
    columns: tuple[tuple[str, str, bool], ...]
    """(name, Arrow type, nullable) per column: the schema as people read it."""
    revision: int = 0
    """Goes up by one with each replacement; a rewrite checks it has not moved meanwhile."""
    files: tuple[ManifestFile, ...] = ()
    updated_at: str = ""
    description: str = ""
    format: int = field(default=MANIFEST_FORMAT)

    @property
    def rows(self) -> int:
        """Rows in the whole table."""
        return sum(file.rows for file in self.files)

    @property
    def partitions(self) -> list[str]:
        """The partitions that hold at least one file, sorted."""
        return sorted({file.partition for file in self.files})

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema the table was last written with."""
        import pyarrow as pa

        return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(self.schema_ipc)))

    def with_files(self, files: tuple[ManifestFile, ...], *, now: dt.datetime) -> Manifest:
        """The next revision, holding ``files``."""
        return replace(self, files=files, revision=self.revision + 1, updated_at=now.isoformat())

    def to_json(self) -> bytes:
        """The manifest as the JSON stored beside the table's files."""
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Read a stored manifest (``ValueError`` when it is not one)."""
        try:
            body: dict[str, Any] = json.loads(raw)
            files = tuple(
                ManifestFile(
                    **{
                        **entry,
                        "columns": {name: ColumnStats(**stats) for name, stats in entry["columns"].items()},
                    }
                )
                for entry in body.pop("files")
            )
            return cls(
                **{
                    **body,
                    "partition_by": tuple(body["partition_by"]),
                    "columns": tuple(tuple(column) for column in body["columns"]),
                    "files": files,
                }
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a lake manifest: {exc}") from exc

    @classmethod
    def empty(
        cls, *, table: str, schema: pa.Schema, partition_by: tuple[str, ...], version: int, description: str
    ) -> Manifest:
        """Revision 0 of a table that has no file yet."""
        return cls(
            table=table,
            schema_version=version,
            partition_by=partition_by,
            schema_ipc=base64.b64encode(schema.serialize().to_pybytes()).decode(),
            columns=tuple((f.name, str(f.type), f.nullable) for f in schema),
            description=description,
        )


def _json_value(value: object) -> JsonScalar:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | dt.timedelta):
        return str(value)
    return None


def column_stats(data: pa.Table) -> dict[str, ColumnStats]:
    """Min, max and null count of each column of ``data`` (no min/max for nested or binary types)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    stats = {}
    for name in data.column_names:
        column = data.column(name)
        low: JsonScalar = None
        high: JsonScalar = None
        kind = column.type
        if not (pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_null(kind)):
            extremes = pc.min_max(column)
            low, high = _json_value(extremes["min"].as_py()), _json_value(extremes["max"].as_py())
        stats[name] = ColumnStats(min=low, max=high, nulls=column.null_count)
    return stats
