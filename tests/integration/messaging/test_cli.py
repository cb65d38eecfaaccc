"""`folio queues status` and `folio queues dlq list|replay|purge` against the harness's RabbitMQ."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession

from folio.bootstrap import build_platform
from folio.clikit import CliContext
from folio.core.db import Database
from folio.core.platform import Platform
from folio.core.settings import Settings
from folio.entrypoints.cli import build_cli
from folio.messaging.api import Broker, HandlerRegistry, Inbound, PermanentError, WorkQueue
from folio.messaging.cli import queues_group
from tests.integration.messaging.conftest import FAST, effect_labels, eventually, running
from tests.integration.messaging.handlers import record_effect

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("effects")]


def _row(output: str, first_cell: str) -> list[str]:
    line = next(line for line in output.splitlines() if f"│ {first_cell} " in line)
    return [cell.strip() for cell in line.split("│")[1:-1]]


async def test_an_operator_lists_replays_and_purges_dead_letters(
    migrated_postgres: Settings, pg_database: Database, broker: Broker, work_queue: WorkQueue
) -> None:
    """Two messages die; status and list show them, replay sends one back (applied), purge drops one."""
    refusing = {"first", "second"}

    async def picky(message: Inbound, session: AsyncSession) -> None:
        if message.body["label"] in refusing:
            raise PermanentError(f"refused {message.body['label']}")
        await record_effect(message, session)

    registry = HandlerRegistry()
    registry.transactional(work_queue, picky)

    def register(into: HandlerRegistry, platform: Platform) -> None:
        into.transactional(work_queue, picky)

    def folio_queues(*args: str) -> Result:
        # The CLI's settings are the worker's (FAST): the queues' names and arguments agree.
        settings = migrated_postgres.model_copy(update={"messaging": FAST})
        context = CliContext(platform_factory=build_platform, _settings=settings)
        return CliRunner().invoke(
            queues_group([register]), list(args), obj=context, env={"COLUMNS": "250", "NO_COLOR": "1"}
        )

    async def invoke(*args: str) -> Result:
        result = await asyncio.to_thread(folio_queues, *args)
        assert result.exit_code == 0, result.output
        return result

    async with running(pg_database, broker, registry) as worker:
        publisher = await broker.publisher()
        for label in ("first", "second"):
            await publisher.publish(work_queue, {"label": label}, type="test.effect", message_id=label)

        async def both_dead() -> bool:
            """Two messages dead-lettered."""
            return worker.stats.dead_lettered == 2

        await eventually(both_dead)
        status = await invoke("status", "--queue", work_queue.name)
        assert _row(status.output, work_queue.name) == [work_queue.name, "0", "0", "0", "2", "2"]
        listed = await invoke("dlq", "list", "--queue", work_queue.name)
        rows = [line for line in listed.output.splitlines() if "test.effect" in line]
        oldest = _row(listed.output, rows[0].split("│")[1].strip())
        assert len(rows) == 2
        assert oldest[1:4] == ["test.effect", work_queue.name, "1"]
        assert oldest[5] == f"PermanentError: refused {oldest[0]}"

        refusing.clear()  # the cause is fixed
        replayed = await invoke("dlq", "replay", "--queue", work_queue.name, "--limit", "1")
        assert f"replayed 1 message(s) to {work_queue.name}" in replayed.output

        async def applied() -> bool:
            """The replayed message applied."""
            return worker.stats.applied == 1

        await eventually(applied)
        purged = await invoke("dlq", "purge", "--queue", work_queue.name)
        assert f"purged 1 dead letter(s) of {work_queue.name}" in purged.output
    assert await effect_labels(pg_database, work_queue.name) == [oldest[0]]  # replayed oldest first
    empty = await invoke("dlq", "list", "--queue", work_queue.name)
    assert f"{work_queue.name} has no dead letters" in empty.output


async def test_folio_queues_names_an_unknown_queue_in_one_line(
    migrated_postgres: Settings, broker: Broker
) -> None:
    """`folio queues dlq list --queue nope` ends with one error line naming the registered queues."""
    env = {"FOLIO_DATABASE_BACKEND": "postgres", "COLUMNS": "200", "NO_COLOR": "1"}
    result = await asyncio.to_thread(
        CliRunner().invoke, build_cli(), ["queues", "dlq", "list", "--queue", "nope"], env=env
    )
    assert result.exit_code == 1
    assert "error: no consumer owns a work queue called 'nope'" in result.output


async def test_rabbitmqctl_shows_the_work_queues_folio_declared(
    migrated_postgres: Settings, broker: Broker, work_queue: WorkQueue
) -> None:
    """`folio services rabbitmqctl list_queues -p folio` shows each queue of a work queue, quorum."""
    await broker.declare(work_queue)
    args = ["services", "rabbitmqctl", "list_queues", "-p", "folio", "name", "type", "messages_ready"]
    result = await asyncio.to_thread(CliRunner().invoke, build_cli(), args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    listed = {
        line.split("\t")[0]: line.split("\t")[1:] for line in result.output.splitlines() if "\t" in line
    }
    for name in broker.plan(work_queue).all_queues():
        assert listed[name] == ["quorum", "0"]
