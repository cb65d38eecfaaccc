"""Errors the data-set readers raise (the fetcher's own live beside it in ``fetch.py``)."""

from __future__ import annotations

from pathlib import Path

from folio.core.errors import FolioError


class DatasetFormatError(FolioError, code="dataset-format", title="Unexpected data set format", status=500):
    """A fetched data file is not in the shape its reader expects (a changed or wrong file)."""


class DatasetNotFetchedError(
    FolioError, code="dataset-not-fetched", title="Data set not fetched", status=409
):
    """A reader was pointed at a folder that lacks the data set's files."""


def require_file(path: Path, source_name: str) -> Path:
    """``path`` if it is a file; ``DatasetNotFetchedError`` naming the fetch command otherwise."""
    if not path.is_file():
        raise DatasetNotFetchedError(f"{path} is missing: run `folio data fetch {source_name}`")
    return path
