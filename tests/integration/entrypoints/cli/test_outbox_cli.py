"""`folio outbox status|poisoned|requeue` in-process (click's runner) on a migrated SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import open_database
from folio.core.migrations import upgrade
from folio.core.outbox import RetryPolicy, add_outbox_event, claim_events, fail_event, subscribe_consumer
from folio.core.settings import Settings
from folio.entrypoints.cli import build_cli

pytestmark = pytest.mark.integration

CONSUMER = "generated-consumer"


async def _folio(*args: str, env: dict[str, str]) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, build_cli(), list(args), env={"COLUMNS": "200", "NO_COLOR": "1", **env}
    )


@pytest.fixture
async def poisoned_env(settings: Settings, clean_env: Path) -> dict[str, str]:
    """A migrated SQLite file where CONSUMER set aside one event ("bad") and has one pending ("good")."""
    url = f"sqlite+aiosqlite:///{clean_env / 'folio.db'}"
    await asyncio.to_thread(upgrade, url)
    database = settings.database.model_copy(update={"backend": "sqlite", "url": None})
    async with open_database(database, url) as db:
        await subscribe_consumer(db, consumer=CONSUMER, topic="generated")

        async def publish(session: AsyncSession) -> None:
            for key in ("bad", "good"):
                await add_outbox_event(session, topic="generated", key=key, type="thing.changed", payload={})

        await db.run(publish)
        now = dt.datetime.now(dt.UTC)
        [bad, _] = await claim_events(db, consumer=CONSUMER, limit=10, now=now)
        once = RetryPolicy(max_attempts=1, first_backoff_s=0.0)
        await fail_event(
            db, consumer=CONSUMER, event_id=bad.id, error="Traceback...\nKeyError: 'isbn'", retry=once
        )
    return {"FOLIO_DATABASE_BACKEND": "sqlite", "FOLIO_DATABASE_URL": url, "FOLIO_CACHE_BACKEND": "memory"}


async def test_an_operator_sees_the_backlog_and_puts_a_poisoned_event_back(
    poisoned_env: dict[str, str],
) -> None:
    """Status counts pending and poisoned, `poisoned` shows the last error line, `requeue` clears it."""
    status = await _folio("outbox", "status", env=poisoned_env)
    assert status.exit_code == 0, status.output
    row = next(line for line in status.output.splitlines() if CONSUMER in line)
    assert [cell.strip() for cell in row.split("│")[1:6]] == [CONSUMER, "generated", "1", "0", "1"]

    poisoned = await _folio("outbox", "poisoned", CONSUMER, env=poisoned_env)
    assert "KeyError: 'isbn'" in poisoned.output
    assert "thing.changed" in poisoned.output

    requeued = await _folio("outbox", "requeue", CONSUMER, env=poisoned_env)
    assert requeued.exit_code == 0, requeued.output
    assert "requeued 1 event(s)" in requeued.output
    after = await _folio("outbox", "poisoned", CONSUMER, env=poisoned_env)
    assert f"{CONSUMER} has no poisoned events" in after.output


async def test_requeue_refuses_an_event_id_that_is_not_a_number(poisoned_env: dict[str, str]) -> None:
    """A bad event id is a usage error (exit 2) naming the argument; nothing is requeued."""
    result = await _folio("outbox", "requeue", CONSUMER, "latest", env=poisoned_env)
    assert result.exit_code == 2
    assert "EVENT_IDS" in result.output
    still = await _folio("outbox", "poisoned", CONSUMER, env=poisoned_env)
    assert "KeyError: 'isbn'" in still.output
