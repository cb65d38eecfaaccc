"""Public data sets into the lake: the Book-Crossing ratings (``folio lake load book-crossing``).

The data set is fetched by ``folio data fetch book-crossing`` (``folio.datasets``); this
module only reads the fetched files with the data set's own parser and lands them.
Ratings have no date and no shop, so the table is partitioned by the day it was loaded
(``load_date``): each load is one complete snapshot of the file, a query picks one
with ``WHERE load_date = ...``, and loading again on the same day is refused rather
than doubled. Lines the parser or the checks here refuse (a non-numeric user, a
rating outside 0-10, an empty ISBN) are counted and named by line number, never
loaded; in the 2004 file there are none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from folio.lake.errors import LakeConflictError, LakeTableNotFoundError
from folio.lake.tables import LakeTable

if TYPE_CHECKING:
    from folio.lake.lake import AppendReport, Lake

__all__ = ["BookCrossingLoad", "book_crossing_ratings_table", "load_book_crossing_ratings"]

BOOK_CROSSING = "book-crossing"
MAX_RATING = 10


@cache
def book_crossing_ratings_table() -> LakeTable:
    """``book_crossing_ratings``: one row per rating (0 means an implicit one), by load day."""
    import pyarrow as pa

    return LakeTable(
        name="book_crossing_ratings",
        schema=pa.schema(
            [
                pa.field("user_id", pa.int64(), nullable=False),
                pa.field("isbn", pa.string(), nullable=False),
                pa.field("rating", pa.int8(), nullable=False),
                pa.field("line_no", pa.int32(), nullable=False),
                pa.field("load_date", pa.date32(), nullable=False),
            ]
        ),
        partition_by=("load_date",),
        description="Book-Crossing ratings (C.-N. Ziegler, 2004; 0 = implicit), one snapshot per load day.",
    )


@dataclass(frozen=True)
class BookCrossingLoad:
    """What one load read and wrote."""

    report: AppendReport
    refused: int
    refused_lines: tuple[int, ...]
    """The first refused lines' numbers (at most 20), for a look with ``sed -n``."""


def load_book_crossing_ratings(
    lake: Lake, data_dir: Path, *, load_date: dt.date, limit: int | None = None
) -> BookCrossingLoad:
    """Land the fetched ratings in ``book_crossing_ratings`` as the snapshot of ``load_date``.

    ``DatasetNotFetchedError`` (naming ``folio data fetch book-crossing``) when the data
    set is not under ``data_dir``; ``LakeConflictError`` when that day is loaded already.
    ``limit`` loads only the file's first ``limit`` lines (a sample, for tests and demos).
    """
    import pyarrow as pa

    from folio.datasets.api import get_source_or_raise, read_book_crossing_ratings

    table = book_crossing_ratings_table()
    partition = f"load_date={load_date.isoformat()}"
    try:
        loaded = lake.manifest(table.name).partitions
    except LakeTableNotFoundError:
        loaded = []
    if partition in loaded:
        raise LakeConflictError(
            f"{table.name} already holds the load of {load_date}: query it, or load on another day",
            table=table.name,
        )
    source = get_source_or_raise(BOOK_CROSSING)
    users: list[int] = []
    isbns: list[str] = []
    ratings: list[int] = []
    lines: list[int] = []
    refused: list[int] = []
    for count, row in enumerate(read_book_crossing_ratings(data_dir / BOOK_CROSSING)):
        if limit is not None and count >= limit:
            break
        fields = row.fields or {}
        user, isbn, rating = fields.get("User-ID", ""), fields.get("ISBN", ""), fields.get("Book-Rating", "")
        if not (user.isdigit() and isbn.strip() and rating.isdigit() and int(rating) <= MAX_RATING):
            refused.append(row.line_no)
            continue
        users.append(int(user))
        isbns.append(isbn.strip())
        ratings.append(int(rating))
        lines.append(row.line_no)
    rows = pa.table(
        {
            "user_id": pa.array(users, pa.int64()),
            "isbn": pa.array(isbns, pa.string()),
            "rating": pa.array(ratings, pa.int8()),
            "line_no": pa.array(lines, pa.int32()),
            "load_date": pa.array([load_date] * len(users), pa.date32()),
        }
    )
    sample = "" if limit is None else f" (first {limit} lines)"
    report = lake.append(table, rows, source=f"dataset:{BOOK_CROSSING}#{source.sha256}{sample}")
    return BookCrossingLoad(report=report, refused=len(refused), refused_lines=tuple(refused[:20]))
