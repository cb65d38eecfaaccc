"""Dataset declarations: what each kind of inbox file must hold, and which lake table it lands in.

A declaration is data, kept in a TOML file (the built-in ``datasets.toml`` beside this
module, or ``inbox.datasets_file``)::

    [datasets.orders]
    table = "inbox_orders"                 # the lake table (LakeTable.name)
    description = "Orders a shop's till exported."
    partition_by = ["date", "shop_id"]     # the lake's partition columns (declared below)
    csv = { delimiter = ",", encoding = "utf-8" }
    columns = [
      { name = "order_id", type = "string", nullable = false },
      { name = "total_minor", type = "int64", nullable = false },
      { name = "note", type = "string", required = false },
      { name = "user_id", source = "User-ID", type = "int64" },   # named otherwise in the file
    ]

A file belongs to the dataset its name starts with: ``orders.csv``,
``orders-2026-12-01.jsonl`` and ``orders_shop7.parquet`` are ``orders`` files (the
longest declared name wins). ``required`` columns (the default) must be in the file;
a column that is not ``nullable`` must hold a value on every row.

Types are the lake's: ``string``, ``int32``, ``int64``, ``float64``, ``bool``, ``date32``
(``YYYY-MM-DD``) and ``timestamp`` (microseconds, UTC; ISO 8601 in text files).
pyarrow is imported where a schema is built, not with this module: ``folio inbox
status`` reads declarations and never loads it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from folio.core.errors import ValidationFailedError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMN_TYPES",
    "ColumnDeclaration",
    "CsvDialect",
    "DatasetDeclaration",
    "FileFormat",
    "InvalidDeclarationError",
    "builtin_declarations",
    "dataset_for",
    "format_of",
    "load_declarations",
    "parse_declarations",
]

COLUMN_TYPES = ("string", "int32", "int64", "float64", "bool", "date32", "timestamp")
"""The type names a declaration may use."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""A dataset, lake table or column name: the lake's table-name rule."""


class InvalidDeclarationError(ValidationFailedError, code="inbox-invalid-declaration"):
    """A dataset declaration file is malformed: the message names the dataset and the field."""


class FileFormat(StrEnum):
    """The file formats the inbox reads, each with its own workers."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


_SUFFIXES = {
    ".csv": FileFormat.CSV,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".parquet": FileFormat.PARQUET,
}


def format_of(path: Path) -> FileFormat | None:
    """The format ``path``'s suffix says (``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``), or None."""
    return _SUFFIXES.get(path.suffix.lower())


@dataclass(frozen=True)
class ColumnDeclaration:
    """One column a dataset's files carry."""

    name: str
    type: str
    nullable: bool = True
    required: bool = True
    source: str | None = None
    """The column's name in the file when it differs from ``name`` (``User-ID``)."""

    @property
    def file_name(self) -> str:
        """What the column is called in the file."""
        return self.source or self.name

    def arrow_type(self) -> pa.DataType:
        """The pyarrow type of the column in the lake."""
        import pyarrow as pa

        return {
            "string": pa.string,
            "int32": pa.int32,
            "int64": pa.int64,
            "float64": pa.float64,
            "bool": pa.bool_,
            "date32": pa.date32,
            "timestamp": lambda: pa.timestamp("us", tz="UTC"),
        }[self.type]()


@dataclass(frozen=True)
class CsvDialect:
    """How a dataset's CSV files are written."""

    delimiter: str = ","
    encoding: str = "utf-8"


@dataclass(frozen=True)
class DatasetDeclaration:
    """One inbox kind: its columns, its CSV dialect and the lake table its rows land in."""

    name: str
    table: str
    columns: tuple[ColumnDeclaration, ...]
    partition_by: tuple[str, ...] = ("date", "shop_id")
    description: str = ""
    schema_version: int = 1
    csv: CsvDialect = CsvDialect()

    def schema(self) -> pa.Schema:
        """The lake table's schema: every declared column, in order, with its nullability."""
        import pyarrow as pa

        return pa.schema([pa.field(c.name, c.arrow_type(), nullable=c.nullable) for c in self.columns])

    def column(self, name: str) -> ColumnDeclaration:
        """The declared column called ``name`` (``KeyError`` when there is none)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def dataset_for(path: Path, datasets: dict[str, DatasetDeclaration]) -> DatasetDeclaration | None:
    """The dataset ``path``'s name declares it a file of (the longest matching name), or None."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    matches = [
        name
        for name in datasets
        if stem == name or (stem.startswith(name) and stem[len(name)] in "-_.")  # `orders-…`, not `ordersx`
    ]
    return datasets[max(matches, key=len)] if matches else None


def builtin_declarations() -> dict[str, DatasetDeclaration]:
    """The declarations shipped with Folio (``folio/inbox/datasets.toml``)."""
    text = resources.files("folio.inbox").joinpath("datasets.toml").read_text(encoding="utf-8")
    return parse_declarations(text, origin="folio/inbox/datasets.toml")


def load_declarations(path: Path | None) -> dict[str, DatasetDeclaration]:
    """The declarations in the TOML file ``path``, or the built-in ones when ``path`` is None."""
    if path is None:
        return builtin_declarations()
    return parse_declarations(path.read_text(encoding="utf-8"), origin=str(path))


def parse_declarations(text: str, *, origin: str) -> dict[str, DatasetDeclaration]:
    """Parse a declarations document; ``InvalidDeclarationError`` names ``origin`` and what is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidDeclarationError(f"{origin}: not TOML: {exc}") from exc
    raw = document.get("datasets")
    if not isinstance(raw, dict) or not raw:
        raise InvalidDeclarationError(f"{origin}: no [datasets.<name>] table")
    declarations = {name: _dataset(name, body, origin=origin) for name, body in raw.items()}
    tables = [d.table for d in declarations.values()]
    if len(set(tables)) != len(tables):
        raise InvalidDeclarationError(f"{origin}: two datasets land in the same lake table")
    return declarations


def _dataset(name: str, body: Any, *, origin: str) -> DatasetDeclaration:
    where = f"{origin}: datasets.{name}"
    if not isinstance(body, dict):
        raise InvalidDeclarationError(f"{where}: not a table")
    unknown = set(body) - {"table", "description", "partition_by", "schema_version", "csv", "columns"}
    if unknown:
        raise InvalidDeclarationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    table = body.get("table", name)
    for label, value in (("name", name), ("table", table)):
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise InvalidDeclarationError(f"{where}: {label} {value!r} is not [a-z][a-z0-9_]{{0,62}}")
    columns = tuple(_column(raw, where=where) for raw in body.get("columns", []))
    if not columns:
        raise InvalidDeclarationError(f"{where}: no columns")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise InvalidDeclarationError(f"{where}: a column is declared twice")
    partition_by = _partitions(body.get("partition_by", ("date", "shop_id")), columns, where=where)
    csv = body.get("csv", {})
    if not isinstance(csv, dict) or set(csv) - {"delimiter", "encoding"}:
        raise InvalidDeclarationError(f"{where}: csv takes `delimiter` and `encoding` only")
    dialect = CsvDialect(**csv)
    if len(dialect.delimiter) != 1:
        raise InvalidDeclarationError(f"{where}: csv.delimiter must be one character")
    schema_version = body.get("schema_version", 1)
    if not isinstance(schema_version, int) or schema_version < 1:
        raise InvalidDeclarationError(f"{where}: schema_version must be a positive integer")
    return DatasetDeclaration(
        name=name,
        table=table,
        columns=columns,
        partition_by=partition_by,
        description=str(body.get("description", "")),
        schema_version=schema_version,
        csv=dialect,
    )


def _partitions(raw: Any, columns: tuple[ColumnDeclaration, ...], *, where: str) -> tuple[str, ...]:
    partition_by = tuple(raw)
    if not partition_by:
        raise InvalidDeclarationError(f"{where}: partition_by names no column (the lake needs one)")
    declared = {column.name: column for column in columns}
    for partition in partition_by:
        column = declared.get(partition)
        if column is None:
            raise InvalidDeclarationError(f"{where}: partition column {partition!r} is not declared")
        if column.nullable or not column.required:
            raise InvalidDeclarationError(
                f"{where}: partition column {partition!r} may not be null or absent"
            )
    return partition_by


def _column(raw: Any, *, where: str) -> ColumnDeclaration:
    if not isinstance(raw, dict) or set(raw) - {"name", "type", "nullable", "required", "source"}:
        raise InvalidDeclarationError(f"{where}: a column is `{{name, type, nullable, required, source}}`")
    name, type_ = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidDeclarationError(f"{where}: column name {name!r} is not [a-z][a-z0-9_]{{0,62}}")
    if type_ not in COLUMN_TYPES:
        raise InvalidDeclarationError(
            f"{where}: column {name!r}: type {type_!r} is not one of {COLUMN_TYPES}"
        )
    column = ColumnDeclaration(
        name=name,
        type=type_,
        nullable=bool(raw.get("nullable", True)),
        required=bool(raw.get("required", True)),
        source=raw.get("source"),
    )
    if not column.required and not column.nullable:
        raise InvalidDeclarationError(f"{where}: column {name!r} may be absent, so it must be nullable")
    return column
