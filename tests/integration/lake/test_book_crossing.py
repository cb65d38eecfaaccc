"""The Book-Crossing ratings into the lake: a real sample of the fetched file, and the not-fetched error."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.core.settings import Settings
from folio.datasets.api import fetch, read_book_crossing_ratings
from folio.entrypoints.cli import build_cli
from folio.lake.api import LakeConflictError, lake_for
from folio.lake.loads import load_book_crossing_ratings
from tests.unit.lake.test_local_lake import local_settings

pytestmark = pytest.mark.integration

DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def data_dir(settings: Settings) -> Path:
    """The repository's data folder with Book-Crossing fetched (a no-op once it is there)."""
    folder = Path(settings.home).absolute() / "data"
    fetch("book-crossing", data_dir=folder)
    return folder


def test_a_real_sample_lands_as_one_load_day(settings: Settings, tmp_path: Path, data_dir: Path) -> None:
    """The first 2,000 real ratings land under load_date as the parser reads them; a reload is refused."""
    lake = lake_for(local_settings(settings, tmp_path / "lake"))
    expected = [
        row.fields for row in itertools.islice(read_book_crossing_ratings(data_dir / "book-crossing"), 2000)
    ]

    loaded = load_book_crossing_ratings(lake, data_dir, load_date=DAY, limit=2000)

    assert (loaded.report.rows, loaded.refused) == (2000, 0)
    assert loaded.report.partitions == ("load_date=2026-12-01",)
    manifest = lake.manifest("book_crossing_ratings")
    assert manifest.files[0].source is not None
    assert manifest.files[0].source.startswith("dataset:book-crossing#")
    summary = lake.query(
        "SELECT count(*) AS n, sum(rating)::BIGINT AS s, min(line_no) AS first FROM book_crossing_ratings "
        "WHERE load_date = ?",
        [DAY],
    ).to_pylist()
    assert summary == [{"n": 2000, "s": sum(int(row["Book-Rating"]) for row in expected if row), "first": 2}]
    first = lake.query(
        "SELECT user_id, isbn, rating FROM book_crossing_ratings WHERE line_no = 2"
    ).to_pylist()
    assert expected[0] is not None
    assert first == [
        {
            "user_id": int(expected[0]["User-ID"]),
            "isbn": expected[0]["ISBN"],
            "rating": int(expected[0]["Book-Rating"]),
        }
    ]
    with pytest.raises(LakeConflictError, match="already holds the load of 2026-12-01"):
        load_book_crossing_ratings(lake, data_dir, load_date=DAY, limit=10)


def test_not_fetched_names_the_fetch_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no fetched data set, `folio lake load book-crossing` says which command fetches it."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    monkeypatch.setenv("FOLIO_LAKE_BACKEND", "local")
    monkeypatch.setenv("FOLIO_LAKE_PATH", str(tmp_path / "lake"))

    result = CliRunner().invoke(build_cli(), ["lake", "load", "book-crossing", "--limit", "5"])

    assert result.exit_code == 1
    assert "folio data fetch book-crossing" in result.output
    assert not (tmp_path / "lake" / "book_crossing_ratings").exists()
