"""Dataset declarations, and reading CSV, JSON Lines and Parquet files against them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from folio.inbox.datasets import (
    FileFormat,
    InvalidDeclarationError,
    builtin_declarations,
    dataset_for,
    format_of,
    parse_declarations,
)
from folio.inbox.validation import InvalidFileError, read_file
from tests.unit.inbox.conftest import ORDERS_HEADER, orders_csv

pytestmark = pytest.mark.unit

DATASETS = builtin_declarations()
ORDERS = DATASETS["orders"]


def test_a_file_belongs_to_the_longest_dataset_name_it_starts_with() -> None:
    """`orders-…`, `orders_…` and `orders.csv` are orders files; `ordersx.csv` and `notes.csv` are none."""
    found = {
        name: dataset_for(Path(name), DATASETS) for name in ("orders-1.csv", "orders_a.jsonl", "orders.csv")
    }
    assert {name: d.name if d else None for name, d in found.items()} == dict.fromkeys(found, "orders")
    assert dataset_for(Path("ordersx.csv"), DATASETS) is None
    assert dataset_for(Path("notes.csv"), DATASETS) is None
    assert format_of(Path("a.NDJSON")) is FileFormat.JSONL
    assert format_of(Path("a.xlsx")) is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[datasets.x]\ncolumns = [{name = "a", type = "uuid"}]', "type 'uuid'"),
        (
            '[datasets.x]\npartition_by = ["d"]\ncolumns = [{name = "a", type = "string"}]',
            "'d' is not declared",
        ),
        ('[datasets.X]\ncolumns = [{name = "a", type = "string"}]', "name 'X'"),
        (
            '[datasets.x]\ncolumns = [{name = "a", type = "string", required = false, nullable = false}]',
            "nullable",
        ),
    ],
)
def test_a_malformed_declaration_is_refused_naming_what_is_wrong(body: str, says: str) -> None:
    """An unknown type, an undeclared partition, a bad name or an absent non-null column is refused."""
    with pytest.raises(InvalidDeclarationError, match=says):
        parse_declarations(body + "\npartition_by = []" * ("partition_by" not in body), origin="t.toml")


def test_a_valid_csv_is_read_with_the_declared_types(tmp_path: Path) -> None:
    """A valid CSV becomes a table of the dataset's schema; an absent optional column is all nulls."""
    path = tmp_path / "orders-1.csv"
    path.write_text(orders_csv(4).replace(",customer_email", "").replace(",\n", "\n"), encoding="utf-8")
    table = read_file(path, ORDERS, FileFormat.CSV)
    assert table.schema == ORDERS.schema()
    assert table.num_rows == 4
    assert table.column("total_minor").to_pylist() == [100, 101, 102, 103]
    assert table.column("customer_email").null_count == 4


def test_bad_values_are_named_by_row_and_column(tmp_path: Path) -> None:
    """A value that is no int64 and an empty required field are reported with their rows and columns."""
    rows = orders_csv(6).splitlines()
    rows[3] = rows[3].replace(",102,", ",1o2,")  # data row 3
    rows[5] = rows[5].replace(",EUR,", ",,")  # data row 5: no currency
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InvalidFileError) as raised:
        read_file(path, ORDERS, FileFormat.CSV)
    assert raised.value.problems == [
        "row 5, column 'currency': empty, but it may not be",
        "row 3, column 'total_minor': '1o2' is not a int64",
    ]


def test_every_bad_row_up_to_the_limit_is_found(tmp_path: Path) -> None:
    """The bisection finds each bad value in order, not only the first."""
    rows = orders_csv(40).splitlines()
    for n in (2, 17, 33):
        rows[n] = rows[n].replace(f",{1 + (n - 1) % 3},", ",many,")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InvalidFileError) as raised:
        read_file(path, ORDERS, FileFormat.CSV)
    assert [p.split(",")[0] for p in raised.value.problems] == ["row 2", "row 17", "row 33"]


def test_missing_and_unexpected_columns_are_refused(tmp_path: Path) -> None:
    """A CSV without a required column and with an undeclared one is refused, naming both."""
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS_HEADER.replace("currency", "colour"), encoding="utf-8")
    with pytest.raises(InvalidFileError) as raised:
        read_file(path, ORDERS, FileFormat.CSV)
    assert raised.value.problems == ["unexpected column 'colour'", "missing column 'currency'"]


def test_json_lines_are_read_and_a_wrong_type_is_named_by_line(tmp_path: Path) -> None:
    """A JSON Lines file is read; one whose field has the wrong JSON type is refused naming its line."""
    record = {
        "order_id": "o-1",
        "shop_id": "s",
        "date": "2026-12-01",
        "placed_at": "2026-12-01T10:00:00Z",
        "currency": "EUR",
        "total_minor": 990,
        "item_count": 2,
    }
    good = tmp_path / "orders.jsonl"
    good.write_text("\n".join(json.dumps({**record, "order_id": f"o-{n}"}) for n in range(3)) + "\n")
    assert read_file(good, ORDERS, FileFormat.JSONL).column("order_id").to_pylist() == ["o-0", "o-1", "o-2"]
    bad = tmp_path / "orders-bad.jsonl"
    bad.write_text(json.dumps(record) + "\n" + json.dumps({**record, "total_minor": "lots"}) + "\n")
    with pytest.raises(InvalidFileError) as raised:
        read_file(bad, ORDERS, FileFormat.JSONL)
    assert raised.value.problems == ["row 2, column 'total_minor': 'lots' is not a int64"]


def test_parquet_types_are_cast_safely_and_an_overflow_is_refused(tmp_path: Path) -> None:
    """Parquet columns are cast to the declared types; a value too large for int32 is refused."""
    data = {
        "user_id": pa.array([1, 2], pa.int64()),
        "isbn": ["a", "b"],
        "rating": pa.array([5, 7], pa.int64()),
    }
    renamed = {"User-ID": data["user_id"], "ISBN": data["isbn"], "Book-Rating": data["rating"]}
    path = tmp_path / "book_ratings.parquet"
    pq.write_table(pa.table(renamed), path)
    table = read_file(path, DATASETS["book_ratings"], FileFormat.PARQUET)
    assert table.schema.field("rating").type == pa.int32()
    pq.write_table(pa.table({**renamed, "Book-Rating": pa.array([5, 2**40], pa.int64())}), path)
    with pytest.raises(InvalidFileError, match="row 2, column 'rating'"):
        read_file(path, DATASETS["book_ratings"], FileFormat.PARQUET)


def test_book_crossing_csv_is_read_with_its_dialect(tmp_path: Path) -> None:
    """The Book-Crossing dialect (`;`, quoted, latin-1) is read through the declaration's csv options."""
    path = tmp_path / "book_ratings-bx.csv"
    path.write_bytes(
        '"User-ID";"ISBN";"Book-Rating"\r\n"276725";"034545104X";"0"\r\n"2";"caf\xe9";"5"\r\n'.encode(
            "latin-1"
        )
    )
    table = read_file(path, DATASETS["book_ratings"], FileFormat.CSV)
    assert table.to_pylist() == [
        {"user_id": 276725, "isbn": "034545104X", "rating": 0},
        {"user_id": 2, "isbn": "café", "rating": 5},
    ]
