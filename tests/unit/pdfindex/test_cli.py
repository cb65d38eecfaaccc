from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from folio.entrypoints.cli import build_cli
from tests.unit.pdfindex.conftest import write_pdf


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
    """Searching a directory with no index exits 2 with one line that says how to build one."""
    index_dir = tmp_path / "never-built"
    result = CliRunner().invoke(build_cli(), ["pdf", "search", "ghost", "--index", str(index_dir)])
    assert result.exit_code == 2
    build = f"folio pdf index FILE.pdf... --index {index_dir}"
    assert result.output == f"error: no PDF index in {index_dir}; build it first: {build}\n"


def test_index_into_an_unusable_folder_fails_cleanly(hamlet_pdfs: dict[str, Path], tmp_path: Path) -> None:
    """An index folder that cannot be created ends with one line naming it, exit 1, no traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    index_dir = blocker / "idx"
    result = CliRunner().invoke(
        build_cli(), ["pdf", "index", str(hamlet_pdfs["yorick.pdf"]), "--index", str(index_dir)]
    )
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.splitlines()[-1] == f"error: {index_dir}: not a directory"
    assert "Traceback" not in result.output


def test_the_help_example_of_stopwords_in_a_phrase_works(
    hamlet_pdfs: dict[str, Path], tmp_path: Path
) -> None:
    """The phrase example of `folio pdf search --help` finds Hamlet's page; a bare stopword is named."""
    runner = CliRunner()
    index_dir = tmp_path / "idx"
    folder = hamlet_pdfs["ghost.pdf"].parent
    write_pdf(
        folder / "hamlet-act-3.pdf",
        title="Hamlet, Act III",
        pages=[["Enter Hamlet.", "To be, or not to be, that is the question:"]],
    )
    runner.invoke(build_cli(), ["pdf", "index", str(folder), "--index", str(index_dir)])
    help_text = runner.invoke(build_cli(), ["pdf", "search", "--help"]).output
    example = "'\"to be or not\" AND (hamlet OR ophelia) NOT yorick'"
    assert example in help_text

    result = runner.invoke(
        build_cli(),
        ["pdf", "search", '"to be or not" AND (hamlet OR ophelia) NOT yorick', "--index", str(index_dir)],
    )
    assert result.exit_code == 0, result.output
    assert "1. " in result.output
    assert "Hamlet, Act III" in result.output
    assert "2. " not in result.output

    result = runner.invoke(build_cli(), ["pdf", "search", '"to be or not to be"', "--index", str(index_dir)])
    assert {"To Be or Not", "Hamlet, Act III"} <= set(result.output.split("  "))
    assert "note:" not in result.output

    result = runner.invoke(build_cli(), ["pdf", "search", "the yorick", "--index", str(index_dir)])
    assert result.exit_code == 0
    assert 'note: ignored "the": too common to search alone; quote a phrase to keep them' in result.output
    assert "Alas Poor Yorick" in result.output


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
