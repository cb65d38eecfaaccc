"""``LakeTable``, a table's declaration, and how rows are checked against it before anything is written.

pyarrow is imported inside the functions: a process that imports the lake's api without
writing to it (every process wires the lake) never loads it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from folio.lake.errors import LakeSchemaError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["LakeTable", "conform", "partition_path", "split_partitions"]

TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
"""A table's name: also its folder, its manifest's folder and its DuckDB view."""

COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
"""A column's name: an SQL identifier with no quoting surprises."""

_PATH_VALUE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")
"""A partition value as it appears in a folder name (``shop_id=<uuid>``): nothing a path could trip on."""


@dataclass(frozen=True)
class LakeTable:
    """A lake table: its name, columns and partitioning, declared once by whoever writes it.

    Preconditions (checked here, ``ValueError`` otherwise): ``name`` matches
    ``[a-z][a-z0-9_]{0,62}``; every partition column is in ``schema`` and is a
    ``date32``, a string or an integer (``date`` and ``shop_id`` by default).
    ``schema_version`` goes up when the schema changes; the manifest records it.
    """

    name: str
    schema: pa.Schema
    partition_by: tuple[str, ...] = ("date", "shop_id")
    schema_version: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        import pyarrow as pa

        if not TABLE_NAME.fullmatch(self.name):
            raise ValueError(f"not a lake table name: {self.name!r} (want [a-z][a-z0-9_]{{0,62}})")
        for column in self.schema.names:
            if not COLUMN_NAME.fullmatch(column):
                raise ValueError(f"not a lake column name: {column!r} (want [A-Za-z_][A-Za-z0-9_]{{0,62}})")
        if self.schema_version < 1:
            raise ValueError("schema_version starts at 1")
        for column in self.partition_by:
            if column not in self.schema.names:
                raise ValueError(f"partition column {column!r} is not in the schema of {self.name}")
            kind = self.schema.field(column).type
            if not (pa.types.is_date32(kind) or pa.types.is_string(kind) or pa.types.is_integer(kind)):
                raise ValueError(f"partition column {column!r} must be a date32, a string or an integer")
        if len(self.partition_by) == len(self.schema.names):
            raise ValueError(f"{self.name} has no column left outside its partition columns")

    @property
    def data_schema(self) -> pa.Schema:
        """The columns stored inside the Parquet files: the partition columns live in the folder names."""
        import pyarrow as pa

        return pa.schema([field for field in self.schema if field.name not in self.partition_by])


def _refuse(table: LakeTable, column: str, reason: str) -> LakeSchemaError:
    return LakeSchemaError(
        f"{table.name}: column {column!r} {reason}", table=table.name, column=column, reason=reason
    )


def conform(table: LakeTable, data: pa.Table) -> pa.Table:
    """``data`` with exactly ``table.schema``'s columns and types, or ``LakeSchemaError``.

    Columns are matched by name; a missing nullable column is filled with nulls; a type
    is converted only by a safe cast (no truncation, no overflow, strings only when
    they parse). Refused: an unknown column, a missing required one, a cast that would
    lose data, a null in a required or partition column, a partition value that cannot
    be a folder name.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(data, pa.Table):
        raise TypeError(f"Lake.append takes a pyarrow.Table, not {type(data).__name__}")
    if len(set(data.column_names)) != len(data.column_names):
        duplicate = next(name for name in data.column_names if data.column_names.count(name) > 1)
        raise _refuse(table, duplicate, "appears twice")
    for name in data.column_names:
        if name not in table.schema.names:
            raise _refuse(table, name, "is not in the table's schema")
    conformed = pa.Table.from_arrays(
        [_column(table, field, data) for field in table.schema], schema=table.schema
    )
    for name in table.partition_by:
        if pa.types.is_string(table.schema.field(name).type):
            bad = pc.invert(pc.match_substring_regex(conformed.column(name), _PATH_VALUE.pattern))
            if pc.any(bad).as_py():
                value = pc.filter(conformed.column(name), bad)[0].as_py()
                raise _refuse(table, name, f"has a value that cannot be a partition folder: {value!r}")
    return conformed


def _column(table: LakeTable, field: pa.Field, data: pa.Table) -> pa.ChunkedArray:
    """``data``'s column for ``field``, cast safely, null-filled when optional and absent; or refused."""
    import pyarrow as pa
    import pyarrow.compute as pc

    required = not field.nullable or field.name in table.partition_by
    if field.name not in data.column_names:
        if required:
            raise _refuse(table, field.name, "is missing (it is required)")
        return pa.chunked_array([pa.nulls(data.num_rows, field.type)], type=field.type)
    column = data.column(field.name)
    if column.type != field.type:
        try:
            column = pc.cast(column, field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            reason = f"cannot be converted from {column.type} to {field.type} safely ({exc})"
            raise _refuse(table, field.name, reason) from None
    if column.null_count and required:
        raise _refuse(table, field.name, f"has {column.null_count} null(s) but is required")
    return column


def partition_path(table: LakeTable, values: tuple[object, ...]) -> str:
    """``date=2026-12-04/shop_id=<id>`` for one partition's values, in ``partition_by`` order."""
    parts = []
    for name, value in zip(table.partition_by, values, strict=True):
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        parts.append(f"{name}={text}")
    return "/".join(parts)


def split_partitions(table: LakeTable, data: pa.Table) -> list[tuple[str, pa.Table]]:
    """``data`` (conformed) cut into one slice per partition, each without its partition columns.

    One sort by the partition columns, then slices between the rows where a partition
    value changes: linear after the sort, however many partitions there are.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if data.num_rows == 0:
        return []
    ordered = data.sort_by([(name, "ascending") for name in table.partition_by])
    changed = pa.array([False] * (ordered.num_rows - 1), type=pa.bool_())
    for name in table.partition_by:
        column = ordered.column(name)
        changed = pc.or_(changed, pc.not_equal(column.slice(1), column.slice(0, ordered.num_rows - 1)))
    starts = [0, *(int(index) + 1 for index in pc.indices_nonzero(changed).to_pylist())]
    ends = [*starts[1:], ordered.num_rows]
    kept = [name for name in ordered.column_names if name not in table.partition_by]
    slices = []
    for start, end in zip(starts, ends, strict=True):
        values = tuple(ordered.column(name)[start].as_py() for name in table.partition_by)
        slices.append((partition_path(table, values), ordered.slice(start, end - start).select(kept)))
    return slices
