from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from folio.entrypoints.cli import build_cli


def test_index_then_search_from_the_command_line(hamlet_pdfs: dict[str, Path], tmp_path: Path) -> None:
    """`folio pdf index` then `folio pdf search` finds the passage with the word, highlighted."""
    runner = CliRunner()
    index_dir = tmp_path / "idx"
    folder = hamlet_pdfs["ghost.pdf"].parent
    result = runner.invoke(build_cli(), ["pdf", "index", str(folder), "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "3 documents" in result.output

    result = runner.invoke(build_cli(), ["pdf", "search", "yorick", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "Alas Poor Yorick" in result.output
    assert "«Yorick»" in result.output

    result = runner.invoke(
        build_cli(), ["pdf", "search", "denmark OR jest", "--index", str(index_dir), "--top", "1"]
    )
    assert result.output.count("1. ") == 1
    assert "2. " not in result.output


def test_bad_query_exits_with_the_position(hamlet_pdfs: dict[str, Path], tmp_path: Path) -> None:
    """A query that does not parse exits 2 and points at the problem."""
    runner = CliRunner()
    index_dir = tmp_path / "idx"
    runner.invoke(build_cli(), ["pdf", "index", str(hamlet_pdfs["yorick.pdf"]), "--index", str(index_dir)])
    result = runner.invoke(build_cli(), ["pdf", "search", "(yorick", "--index", str(index_dir)])
    assert result.exit_code == 2
    assert "expected ')' at position 7" in result.output


def test_search_without_an_index_fails_cleanly(tmp_path: Path) -> None:
    """Searching a directory with no index exits 2 with one line."""
    result = CliRunner().invoke(build_cli(), ["pdf", "search", "ghost", "--index", str(tmp_path)])
    assert result.exit_code == 2
    assert "no readable index" in result.output


def test_unreadable_file_is_skipped_and_reported(hamlet_pdfs: dict[str, Path], tmp_path: Path) -> None:
    """A file that is not a PDF is skipped with a message, the rest indexed, and the exit code is 1."""
    runner = CliRunner()
    index_dir = tmp_path / "idx"
    bogus = tmp_path / "bogus.pdf"
    bogus.write_text("not a pdf")
    result = runner.invoke(
        build_cli(), ["pdf", "index", str(bogus), str(hamlet_pdfs["yorick.pdf"]), "--index", str(index_dir)]
    )
    assert result.exit_code == 1
    assert "skipped:" in result.output
    assert "1 documents" in result.output
    result = runner.invoke(build_cli(), ["pdf", "search", "denmark", "--index", str(index_dir)])
    assert result.exit_code == 0
    assert "no matches" in result.output
