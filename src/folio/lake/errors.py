"""The lake's problems (docs/errors.md): refused data, unknown tables, files that fail their checksum."""

from __future__ import annotations

from typing import Any

from folio.core.errors import ConflictError, FolioError, NotFoundError, ValidationFailedError

__all__ = [
    "LakeChecksumError",
    "LakeConflictError",
    "LakeQueryError",
    "LakeSchemaError",
    "LakeTableNotFoundError",
]


class LakeSchemaError(
    ValidationFailedError, code="lake-schema-mismatch", title="Data does not match the lake table", status=422
):
    """Rows refused by a table's schema: names the table, the column and the reason; nothing was written."""

    def __init__(self, detail: str, *, table: str, column: str, reason: str, **extra: Any) -> None:
        super().__init__(detail, table=table, column=column, reason=reason, **extra)
        self.table = table
        self.column = column
        self.reason = reason


class LakeTableNotFoundError(NotFoundError, code="lake-table-not-found", title="No such lake table"):
    """The lake holds no table of that name (no manifest)."""


class LakeConflictError(ConflictError, code="lake-conflict", title="The lake table changed meanwhile"):
    """A table's manifest changed under a rewrite (compaction): the rewrite was dropped, nothing lost."""


class LakeChecksumError(FolioError, code="lake-checksum-mismatch", title="Lake file corrupt", status=500):
    """A Parquet file's bytes do not match the sha256 its manifest recorded."""


class LakeQueryError(FolioError, code="lake-query-error", title="Lake query failed", status=400):
    """DuckDB refused the SQL (a syntax error, an unknown column or table)."""
