"""`folio search ...` in-process (click's runner) against the real PostgreSQL and Typesense."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from folio.entrypoints.cli import build_cli
from folio.search.api import SearchBackend
from tests.support.identity import register_and_login

pytestmark = pytest.mark.integration

Folio = Callable[..., Awaitable[Result]]
PG_ENV = {"FOLIO_DATABASE_BACKEND": "postgres", "FOLIO_CACHE_BACKEND": "memory"}


@pytest.fixture
def folio() -> Folio:
    """Run `folio ARGS` in-process, off the event loop (the CLI runs its own)."""

    async def run(*args: str, env: dict[str, str] = PG_ENV) -> Result:
        runner = CliRunner()
        return await asyncio.to_thread(
            runner.invoke, build_cli(), list(args), env={"COLUMNS": "200", "NO_COLOR": "1", **env}
        )

    return run


async def test_synonyms_reindex_and_status(
    api_client: httpx.AsyncClient, backend: SearchBackend, folio: Folio
) -> None:
    """Set, list and delete a shop's synonyms; reindex the shop; status shows the alias and its count."""
    owner = await register_and_login(api_client)
    prefix = ("--index-prefix", backend.names.prefix)
    shop = ("--shop", owner.shop_slug)

    created = await folio("search", "synonyms", "set", *shop, *prefix, "wool", "yarn", "wool")
    assert created.exit_code == 0, created.output
    listed = await folio("search", "synonyms", "list", *shop, *prefix)
    assert listed.output.strip() == "wool: yarn, wool"

    reindexed = await folio("search", "reindex", *shop, *prefix)
    assert reindexed.exit_code == 0, reindexed.output
    assert "0 document(s), 1 synonym set(s)" in reindexed.output
    alias = backend.names.shop(owner.tenant_id)
    collection = await backend.engine.get_alias(alias)
    assert collection is not None
    assert [s["id"] for s in await backend.engine.list_synonyms(collection)] == ["wool"]

    status = await folio("search", "status", *prefix)
    assert status.exit_code == 0, status.output
    assert "pending changes:" in status.output
    assert alias in status.output

    deleted = await folio("search", "synonyms", "delete", *shop, *prefix, "wool")
    assert deleted.exit_code == 0, deleted.output
    assert await backend.engine.list_synonyms(collection) == []
    missing = await folio("search", "synonyms", "delete", *shop, *prefix, "wool")
    assert missing.exit_code == 1
    assert "no synonym set 'wool'" in missing.output


async def test_reindex_needs_one_target_and_lite_mode_is_refused(folio: Folio, tmp_path: Path) -> None:
    """`reindex` with neither target fails with usage; lite mode refuses every search command."""
    neither = await folio("search", "reindex")
    assert neither.exit_code == 1
    assert "exactly one of --works or --shop" in neither.output
    lite = {"FOLIO_DATABASE_BACKEND": "sqlite", "FOLIO_DATABASE_SQLITE_PATH": str(tmp_path / "f.db")}
    refused = await folio("search", "status", env=lite)
    assert refused.exit_code == 1
    assert "lite mode" in refused.output
