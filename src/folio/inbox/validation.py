"""Reading an inbox file into a pyarrow table of its dataset's schema, or saying where it is wrong.

Every format goes through one check (``conform``): no column the declaration does not
name, every required column present, each value convertible to its column's type
(safe casts only: ``300`` is no ``int32`` overflow, ``abc`` no number), no null where the
column may not be null. ``InvalidFileError`` lists the first problems, each naming the
row (1 is the first data row; in a CSV file it is on line 2) and the column.

- CSV is read with every declared column as text, then cast column by column, so a bad
  value is found by its position (a bisection over casts of slices: a handful of
  vectorised casts, not a Python loop over the rows).
- JSON Lines is read by pyarrow with the JSON types of the declared columns; when that
  fails, a line-by-line pass finds the line and the field to name (the slow path runs
  only for a file that is wrong).
- Parquet brings its own types, cast safely to the declared ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from folio.core.errors import ValidationFailedError
from folio.inbox.datasets import ColumnDeclaration, DatasetDeclaration, FileFormat

__all__ = ["MAX_PROBLEMS", "InvalidFileError", "conform", "read_file"]

MAX_PROBLEMS = 5
"""Problems one error lists: enough to see a pattern, few enough to read."""

_JSON_TYPES = {"int32": "int64", "date32": "string", "timestamp": "string"}
"""The JSON type a declared column is read as before it is cast (JSON has no dates, one integer)."""


class InvalidFileError(ValidationFailedError, code="inbox-invalid-file", title="Invalid inbox file"):
    """The file does not hold its dataset's schema; ``problems`` names the first rows and columns."""

    def __init__(self, file_name: str, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        super().__init__(f"{file_name}: " + "; ".join(shown) + more, problems=shown)
        self.problems = shown


def read_file(path: Path, dataset: DatasetDeclaration, file_format: FileFormat) -> pa.Table:
    """The rows of ``path`` as a table of ``dataset.schema()``; ``InvalidFileError`` when they are not."""
    if file_format is FileFormat.CSV:
        raw = _read_csv(path, dataset)
    elif file_format is FileFormat.JSONL:
        raw = _read_jsonl(path, dataset)
    else:
        raw = _read_parquet(path)
    return conform(raw, dataset, file_name=path.name)


def conform(raw: pa.Table, dataset: DatasetDeclaration, *, file_name: str) -> pa.Table:
    """``raw`` (columns named as in the file) cast to ``dataset``'s schema, or ``InvalidFileError``."""
    declared = {column.file_name: column for column in dataset.columns}
    problems = [f"unexpected column {name!r}" for name in raw.column_names if name not in declared]
    problems += [
        f"missing column {column.file_name!r}"
        for column in dataset.columns
        if column.required and column.file_name not in raw.column_names
    ]
    if problems:
        raise InvalidFileError(file_name, problems)
    arrays: list[pa.ChunkedArray] = []
    for column in dataset.columns:
        if column.file_name not in raw.column_names:
            arrays.append(pa.chunked_array([pa.nulls(raw.num_rows, column.arrow_type())]))
            continue
        cast, bad = _cast(raw.column(column.file_name), column)
        problems += bad
        if cast is not None and not column.nullable and cast.null_count:
            nulls = pc.indices_nonzero(pc.is_null(cast)).slice(0, MAX_PROBLEMS).to_pylist()
            problems += [f"row {i + 1}, column {column.name!r}: empty, but it may not be" for i in nulls]
        if cast is not None:
            arrays.append(cast)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InvalidFileError(file_name, problems)
    return pa.Table.from_arrays(arrays, schema=dataset.schema())


def _cast(values: pa.ChunkedArray, column: ColumnDeclaration) -> tuple[pa.ChunkedArray | None, list[str]]:
    """``values`` as ``column``'s type, or None and the first rows that would not convert."""
    target = column.arrow_type()
    if values.type == target:
        return values, []
    try:
        return pc.cast(values, target, safe=True), []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        if not _castable_at_all(values.type, target):
            return None, [f"column {column.name!r}: {values.type} cannot become {column.type} ({exc})"]
    return None, [
        f"row {row + 1}, column {column.name!r}: {values[row].as_py()!r} is not a {column.type}"
        for row in _bad_rows(values, target)
    ]


def _castable_at_all(source: pa.DataType, target: pa.DataType) -> bool:
    try:
        pc.cast(pa.nulls(1, source), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return True


def _bad_rows(values: pa.ChunkedArray, target: pa.DataType) -> Iterator[int]:
    """The first ``MAX_PROBLEMS`` rows whose value does not cast to ``target``, in order.

    A cast fails as a whole, so the first bad row is found by bisection: the prefix
    up to ``mid`` fails to cast exactly when a bad row lies before ``mid``.
    """
    start, found = 0, 0
    while found < MAX_PROBLEMS and start < len(values):
        if _casts(values.slice(start), target):
            return
        low, high = start, len(values)  # a bad row lies in [low, high)
        while high - low > 1:
            mid = (low + high) // 2
            if _casts(values.slice(low, mid - low), target):
                low = mid
            else:
                high = mid
        yield low
        found += 1
        start = low + 1


def _casts(values: pa.ChunkedArray, target: pa.DataType) -> bool:
    try:
        pc.cast(values, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return True


def _read_csv(path: Path, dataset: DatasetDeclaration) -> pa.Table:
    dialect = dataset.csv
    try:
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(encoding=dialect.encoding),
            parse_options=pa_csv.ParseOptions(delimiter=dialect.delimiter),
            # Text first, cast after: a bad value is then named by its row (see the module docstring).
            convert_options=pa_csv.ConvertOptions(
                column_types={column.file_name: pa.string() for column in dataset.columns},
                null_values=[""],  # not pyarrow's default list, where a title "NA" or "null" would vanish
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InvalidFileError(path.name, [f"not a readable CSV file: {exc}"]) from exc


def _read_jsonl(path: Path, dataset: DatasetDeclaration) -> pa.Table:
    schema = pa.schema([pa.field(column.file_name, _json_type(column)) for column in dataset.columns])
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    try:
        return pa_json.read_json(path, parse_options=options)
    except pa.ArrowInvalid as exc:
        problems = list(_json_problems(path, dataset)) or [f"not a readable JSON Lines file: {exc}"]
        raise InvalidFileError(path.name, problems) from exc


def _json_type(column: ColumnDeclaration) -> pa.DataType:
    name = _JSON_TYPES.get(column.type)
    if name is None:
        return column.arrow_type()
    return pa.int64() if name == "int64" else pa.string()


def _json_problems(path: Path, dataset: DatasetDeclaration) -> Iterator[str]:
    """Where a JSON Lines file pyarrow refused is wrong, line by line (the slow path)."""
    declared = {column.file_name: column for column in dataset.columns}
    found = 0
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            for problem in _json_line_problems(line, declared):
                yield f"row {number}, {problem}"
                found += 1
                if found >= MAX_PROBLEMS:
                    return


def _json_line_problems(line: str, declared: dict[str, ColumnDeclaration]) -> Iterator[str]:
    try:
        record: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        yield f"not JSON: {exc.msg} at character {exc.pos + 1}"
        return
    if not isinstance(record, dict):
        yield f"a JSON {type(record).__name__}, not an object"
        return
    for key, value in record.items():
        column = declared.get(key)
        if column is None:
            yield f"unexpected field {key!r}"
        elif value is not None and not _json_value_fits(value, column):
            yield f"column {column.name!r}: {value!r} is not a {column.type}"


def _json_value_fits(value: object, column: ColumnDeclaration) -> bool:
    if column.type in {"string", "date32", "timestamp"}:
        return isinstance(value, str)
    if column.type == "bool":
        return isinstance(value, bool)
    if column.type == "float64":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, int) and not isinstance(value, bool)


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except pa.ArrowInvalid as exc:
        raise InvalidFileError(path.name, [f"not a readable Parquet file: {exc}"]) from exc
