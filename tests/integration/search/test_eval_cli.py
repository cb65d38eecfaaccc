"""`folio search eval` in-process against the real Typesense and PostgreSQL, on a generated index."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.bootstrap import build_platform
from folio.clikit import CliContext
from folio.core.settings import Settings
from folio.search.api import SearchBackend
from folio.search.cli import eval_command
from folio.search.indexes import ensure_index, work_document
from tests.support.search import generated_work

pytestmark = pytest.mark.integration

LEAR = generated_work("King Lear", authors=("William Shakespeare",), isbn13="9780671722722")
RUNNING = generated_work("The Running Man", authors=("Richard Bachman",), isbn13="9780451197962")
NO_ISBN = generated_work("The Lear King Chronicles")


async def test_eval_scores_each_variant_and_writes_json(
    backend: SearchBackend, migrated_postgres: Settings, tmp_path: Path
) -> None:
    """Each variant gets a table; the JSON has per-query scores that follow from the real rankings."""
    alias = backend.names.works()
    collection = await ensure_index(backend.engine, alias, names=backend.names)
    documents = [work_document(work) for work in (LEAR, RUNNING, NO_ISBN)]
    assert await backend.engine.import_documents(collection, documents) == []
    judged = tmp_path / "judged.jsonl"
    lines = [
        {"query": '"king lear"', "judgments": {"9780671722722": 3}, "note": "generated"},
        {"query": "running", "judgments": {"9780451197962": 3}, "note": "generated: stemming"},
        {"query": "(lear", "judgments": {"9780671722722": 3}, "note": "generated: refused by the DSL"},
    ]
    judged.write_text(
        "# generated\n" + "\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8"
    )
    out = tmp_path / "eval.json"
    args = ["--judged", str(judged), "--variant", "default", "--variant", "no-typos", "--json", str(out)]
    args += ["--spelling", "off"]
    args += ["--index-prefix", backend.names.prefix]

    result = await asyncio.to_thread(
        CliRunner().invoke,
        eval_command,
        args,
        obj=CliContext(_settings=migrated_postgres, platform_factory=build_platform),
    )

    assert result.exit_code == 0, result.output
    assert "variant default" in result.output
    assert "variant no-typos" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report) == {"default", "no-typos"}
    default = report["default"]["judged (judged.jsonl)"]
    assert default["queries"] == 3
    assert default["failed"] == 1
    by_query = {item["query"]: item for item in default["results"]}
    assert by_query['"king lear"']["returned"] == ["9780671722722"]
    assert by_query['"king lear"']["ndcg_at_10"] == 1.0
    assert by_query["running"]["reciprocal_rank"] == 1.0
    assert "never closed" in by_query["(lear"]["error"]
    assert default["mrr"] == pytest.approx(2 / 3)


async def test_eval_refuses_an_invalid_judged_set(migrated_postgres: Settings, tmp_path: Path) -> None:
    """A malformed judged set ends the command with the file and line, before any search."""
    judged = tmp_path / "bad.jsonl"
    judged.write_text('{"query": "x", "judgments": {"a": 9}}\n', encoding="utf-8")
    result = await asyncio.to_thread(
        CliRunner().invoke,
        eval_command,
        ["--judged", str(judged)],
        obj=CliContext(_settings=migrated_postgres, platform_factory=build_platform),
    )
    assert result.exit_code == 1
    assert "bad.jsonl:1" in result.output
    assert "integer 0-3" in result.output


async def test_eval_needs_something_to_evaluate(migrated_postgres: Settings) -> None:
    """--no-judged without --known-items is refused."""
    result = await asyncio.to_thread(
        CliRunner().invoke,
        eval_command,
        ["--no-judged"],
        obj=CliContext(_settings=migrated_postgres, platform_factory=build_platform),
    )
    assert result.exit_code == 1
    assert "--known-items" in result.output


async def test_known_items_come_from_the_catalogue_and_find_their_work(
    backend: SearchBackend, settings: Settings, tmp_path: Path
) -> None:
    """--known-items samples the database's works, each found at rank 1; --misspelt adds one typo to each."""
    from pydantic import SecretStr

    from folio.catalog.api import import_works, iter_works
    from folio.catalog.importer import Candidate
    from folio.core.db import open_database
    from folio.core.migrations import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'folio.db'}"
    upgrade(url)
    sqlite = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "sqlite", "url": SecretStr(url)})}
    )
    generated = [  # generated titles and people, not catalogue data
        ("9780306406157", "Quillwort Harbour Mysteries", "Ada Fennimore"),
        ("9780195153446", "Brass Lanterns of Oskarvale", "Tobias Rendle"),
        (None, "Marrowgate Almanac", "Ines Calloway"),
    ]
    candidates = [
        Candidate(
            line_no=index,
            source_key=isbn or "almanac",
            values={
                "isbn13": isbn,
                "isbn10": None,
                "title": title,
                "authors": [author],
                "publisher": None,
                "year": None,
                "subjects": [],
                "language": None,
                "cover_url": None,
                "description": None,
            },
            raw="generated",
        )
        for index, (isbn, title, author) in enumerate(generated, start=1)
    ]
    async with open_database(sqlite.database, url) as database:
        await import_works(database, source="generated", items=candidates)
        works = [work async for batch in iter_works(database) for work in batch]
    collection = await ensure_index(backend.engine, backend.names.works(), names=backend.names)
    assert await backend.engine.import_documents(collection, [work_document(work) for work in works]) == []
    out = tmp_path / "eval.json"
    args = ["--no-judged", "--known-items", "3", "--seed", "5", "--variant", "default", "--json", str(out)]
    args += ["--misspelt"]

    result = await asyncio.to_thread(
        CliRunner().invoke,
        eval_command,
        [*args, "--index-prefix", backend.names.prefix],
        obj=CliContext(_settings=sqlite, platform_factory=build_platform),
    )

    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert set(payload) == {"default", "default + spelling"}
    assert "spelling vocabulary:" in result.output
    report = payload["default"]["known items (n=3, seed=5)"]
    typos = payload["default + spelling"]["misspelt known items (seed=5)"]
    assert typos["queries"] == 3
    for typed, spelt in zip(typos["results"], report["results"], strict=True):
        assert typed["query"] != spelt["query"]
        assert len(typed["query"].split()) == len(spelt["query"].split())
    assert report["queries"] == 3
    assert report["mean_ndcg_at_10"] == 1.0
    assert {item["returned"][0] for item in report["results"]} == {
        "9780306406157",
        "9780195153446",
        "generated:almanac",
    }
