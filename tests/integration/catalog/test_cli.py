"""``folio catalog`` end to end on a lite (SQLite) setup, with a generated Book-Crossing file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.integration

COLUMNS = (
    "ISBN",
    "Book-Title",
    "Book-Author",
    "Year-Of-Publication",
    "Publisher",
    "Image-URL-S",
    "Image-URL-M",
)
HEADER = ";".join(f'"{name}"' for name in (*COLUMNS, "Image-URL-L"))


def write_generated_books(home: Path) -> None:
    """A generated ``BX-Books.csv`` in the fetched layout: three good rows and three bad ones."""
    folder = home / "data" / "book-crossing" / "bookRecommender" / "datasets"
    folder.mkdir(parents=True)
    lines = [
        HEADER,
        '"0195153448";"Classical Mythology";"Mark P. O. Morford";"2002";"Oxford University Press";"";"";""',
        '"0002005018";"Clara Callan";"Richard Bruce Wright";"2001";"HarperFlamingo Canada";"";"";""',
        '"0306406152";"Generated Title";"Generated Author";"0";"Generated Press";"";"";""',
        '"0195153449";"Bad Check Digit";"Nobody";"2002";"Nobody";"";"";""',
        '"0060973129";"From The Future";"Nobody";"2999";"Nobody";"";"";""',
        '"0002005018";"Clara Callan Again";"Richard Bruce Wright";"2001";"HarperFlamingo Canada";"";"";""',
    ]
    (folder / "BX-Books.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))


def test_import_twice_then_inspect(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import prints counts and reasons; a re-run finds all rows unchanged; quarantine lists refused lines."""
    monkeypatch.setenv("FOLIO_HOME", str(clean_env))
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "sqlite")
    monkeypatch.setenv("FOLIO_DATABASE_SQLITE_PATH", str(clean_env / "folio.db"))
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    monkeypatch.setenv("COLUMNS", "200")
    write_generated_books(clean_env)
    runner = CliRunner()
    cli = build_cli()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0

    first = runner.invoke(cli, ["catalog", "import", "book-crossing"])
    assert first.exit_code == 0, first.output
    assert "inserted    │ 3" in first.output
    assert "quarantined │ 3" in first.output
    for reason in ("invalid-isbn", "impossible-year", "duplicate-key"):
        assert reason in first.output

    second = runner.invoke(cli, ["catalog", "import", "book-crossing"])
    assert second.exit_code == 0, second.output
    assert "inserted    │ 0" in second.output
    assert "unchanged   │ 3" in second.output

    quarantine = runner.invoke(cli, ["catalog", "quarantine", "--reason", "invalid-isbn"])
    assert quarantine.exit_code == 0, quarantine.output
    assert "Bad Check Digit" in quarantine.output
    runs = runner.invoke(cli, ["catalog", "import-runs"])
    assert runs.exit_code == 0
    assert runs.output.count("completed") == 2

    missing = runner.invoke(cli, ["catalog", "import", "austen-novels"])
    assert missing.exit_code == 1
    assert "folio data fetch austen-novels" in missing.output
