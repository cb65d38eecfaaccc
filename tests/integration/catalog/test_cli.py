"""``folio catalog`` end to end on a lite (SQLite) setup, with a generated Book-Crossing file."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.entrypoints.cli import build_cli
from tests.integration.catalog.conftest import generated_isbn

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


def write_generated_books(home: Path, *, extra: list[str] | None = None) -> None:
    """A generated ``BX-Books.csv`` in the fetched layout: three good rows, three bad ones, and ``extra``."""
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
    lines += extra or []
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


def test_the_curator_unpublishes_finds_and_removes_junk(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`folio catalog works`: junk is listed with its reason, kept on --dry-run, removed on --remove."""
    monkeypatch.setenv("FOLIO_HOME", str(clean_env))
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "sqlite")
    monkeypatch.setenv("FOLIO_DATABASE_SQLITE_PATH", str(clean_env / "folio.db"))
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    monkeypatch.setenv("COLUMNS", "250")
    write_generated_books(
        clean_env, extra=[f'"{generated_isbn()}";"!!! ???";"Generated Fuzzer";"0";"";"";"";""']
    )
    runner = CliRunner()
    cli = build_cli()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["catalog", "import", "book-crossing"]).exit_code == 0

    listed = runner.invoke(cli, ["catalog", "works", "junk"])
    assert listed.exit_code == 0, listed.output
    assert "no-letters" in listed.output
    assert "1 junk works" in listed.output
    junk_id = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", listed.output)[0]

    unpublished = runner.invoke(cli, ["catalog", "works", "unpublish", junk_id])
    assert unpublished.exit_code == 0, unpublished.output
    assert "unpublished" in unpublished.output
    missing = runner.invoke(cli, ["catalog", "works", "publish", str(uuid.uuid4())])
    assert missing.exit_code == 1
    assert "there is no work" in missing.output
    assert "Traceback" not in missing.output

    dry = runner.invoke(cli, ["catalog", "works", "junk", "--remove", "--dry-run"])
    assert "dry run" in dry.output
    assert "1 junk works" in runner.invoke(cli, ["catalog", "works", "junk"]).output
    removed = runner.invoke(cli, ["catalog", "works", "junk", "--remove"])
    assert removed.exit_code == 0, removed.output
    assert "removed 1 works" in removed.output
    assert "no junk works found" in runner.invoke(cli, ["catalog", "works", "junk"]).output


def test_an_unknown_work_is_one_error_line(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing or unpublishing a work that does not exist prints one `error:` line and exits 1."""
    monkeypatch.setenv("FOLIO_HOME", str(clean_env))
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "sqlite")
    monkeypatch.setenv("FOLIO_DATABASE_SQLITE_PATH", str(clean_env / "folio.db"))
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    cli = build_cli()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    work_id = uuid.uuid4()
    for command in ("publish", "unpublish"):
        result = runner.invoke(cli, ["catalog", "works", command, str(work_id)])
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("error: ")
        assert "there is no work" in lines[0]
