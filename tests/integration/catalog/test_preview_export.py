"""Previews leave the object store as files for Folio's PDF index (`catalog previews --export`, `pdf`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.catalog.api import generate_previews, import_works
from folio.catalog.importer import map_public_domain_text
from folio.core.db import open_database
from folio.core.objectstore import FileSystemObjectStore
from folio.core.settings import load_settings
from folio.entrypoints.cli import build_cli
from tests.integration.catalog.test_http import GeneratedText

pytestmark = pytest.mark.integration

GENERATED = (
    GeneratedText(
        "generated-1", "The Generated Lighthouse", "Nobody", 1850, "The keeper trims the lamp. " * 300
    ),
    GeneratedText("generated-2", "A Generated Orchard", "Nobody", 1851, "Apples ripen in the rain. " * 300),
)


def test_exported_previews_are_searchable_with_the_pdf_index(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lite mode: previews in the files store are exported as <work id>.pdf and found by folio pdf search."""
    monkeypatch.setenv("FOLIO_HOME", str(clean_env))
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "sqlite")
    monkeypatch.setenv("FOLIO_DATABASE_SQLITE_PATH", str(clean_env / "folio.db"))
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    runner = CliRunner()
    cli = build_cli()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0

    async def seed() -> None:
        settings = load_settings()
        async with open_database(settings.database, settings.database_url) as db:
            items = [map_public_domain_text(n, text) for n, text in enumerate(GENERATED, start=1)]
            await import_works(db, source="generated-texts", items=items)
            store = FileSystemObjectStore(clean_env / "objects")
            report = await generate_previews(db, store, source="generated-texts", texts=list(GENERATED))
            assert report.generated == len(GENERATED)

    asyncio.run(seed())
    exported = runner.invoke(cli, ["catalog", "previews", "--export", str(clean_env / "previews")])
    assert exported.exit_code == 0, exported.output
    assert "exported 2 previews" in exported.output
    files = sorted((clean_env / "previews").glob("*.pdf"))
    assert len(files) == 2
    assert all(file.read_bytes().startswith(b"%PDF-") for file in files)

    index_dir = str(clean_env / "pdfindex")
    indexed = runner.invoke(cli, ["pdf", "index", str(clean_env / "previews"), "--index", index_dir])
    assert indexed.exit_code == 0, indexed.output
    found = runner.invoke(cli, ["pdf", "search", "keeper lamp", "--index", index_dir])
    assert found.exit_code == 0, found.output
    assert "The Generated Lighthouse" in found.output
    assert "Orchard" not in found.output
