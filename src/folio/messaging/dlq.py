"""What an operator does with dead letters: list them, replay them to their work queue, purge them.

Dead letters stay in ``<queue>.dead`` until someone acts. ``list_dead`` peeks (takes
messages unacknowledged, then returns them, so nothing is lost if it is interrupted);
``replay_dead`` publishes a clean copy (same message id, failures forgotten) to the lane
the message died in and acks the dead one only once the copy is confirmed: a crash in
between leaves both, and the inbox absorbs the duplicate; ``purge_dead`` deletes.

Nothing here declares a queue (the workers do, with their settings, and a queue's
arguments cannot change): a queue never declared has no dead letters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aio_pika.exceptions import ChannelNotFoundEntity

from folio.messaging.broker import Broker
from folio.messaging.envelope import ATTEMPT_HEADER, ERROR_HEADER, replayed_copy
from folio.messaging.topology import RETURN_HEADER, QueuePlan, WorkQueue

__all__ = ["DeadLetter", "list_dead", "purge_dead", "replay_dead"]


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message as ``folio queues dlq list`` shows it."""

    message_id: str | None
    type: str | None
    lane: str
    """The lane it died in (and where a replay sends it)."""
    attempts: int
    """Failed attempts Folio's workers counted."""
    reason: str
    """The last error, or the broker's reason (``delivery_limit``) when it dead-lettered it itself."""
    dead_since: dt.datetime | None
    body: bytes


def _first_death(headers: Mapping[str, object]) -> Mapping[str, object]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _dead_letter(work: QueuePlan, message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    death = _first_death(headers)
    # The worker's own copies name their lane and error; a message the broker
    # dead-lettered (delivery limit) says so in its newest x-death record.
    lane = _text(headers.get(RETURN_HEADER)) or _text(death.get("queue")) or work.name
    reason = _text(headers.get(ERROR_HEADER)) or _text(death.get("reason")) or "unknown"
    attempts = headers.get(ATTEMPT_HEADER)
    died = death.get("time")
    return DeadLetter(
        message_id=message.message_id,
        type=message.type,
        lane=lane if lane in work.lanes else work.name,
        attempts=attempts if isinstance(attempts, int) else 0,
        reason=reason,
        dead_since=died if isinstance(died, dt.datetime) else message.timestamp,
        body=message.body,
    )


async def _take(channel: AbstractChannel, queue: str, limit: int) -> list[AbstractIncomingMessage]:
    """Up to ``limit`` messages of ``queue``, oldest first, taken unacknowledged (``basic.get``).

    None when the queue was never declared (no worker consumed its work queue yet).
    """
    try:
        source = await channel.declare_queue(queue, passive=True)
    except ChannelNotFoundEntity:
        return []
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        message = await source.get(no_ack=False, fail=False)
        if message is None:
            break
        taken.append(message)
    return taken


async def list_dead(broker: Broker, queue: WorkQueue, *, limit: int) -> Sequence[DeadLetter]:
    """The oldest ``limit`` dead letters of ``queue``, left where they are."""
    work = broker.plan(queue)
    channel = await broker.channel()
    try:
        taken = await _take(channel, work.dead, limit)
        letters = [_dead_letter(work, message) for message in taken]
        for message in taken:
            await message.nack(requeue=True)
    finally:
        await channel.close()
    return letters


async def replay_dead(broker: Broker, queue: WorkQueue, *, limit: int) -> int:
    """Send up to ``limit`` dead letters of ``queue`` back to their lanes, oldest first; how many went."""
    work = broker.plan(queue)
    publisher = await broker.publisher()
    channel = await broker.channel()
    replayed = 0
    try:
        for message in await _take(channel, work.dead, limit):
            letter = _dead_letter(work, message)
            await publisher.send(replayed_copy(message), exchange="", routing_key=letter.lane)
            await message.ack()
            replayed += 1
    finally:
        await channel.close()  # anything taken and not acked goes back to the dead letters
    return replayed


async def purge_dead(broker: Broker, queue: WorkQueue, *, limit: int | None = None) -> int:
    """Delete ``queue``'s dead letters (the oldest ``limit`` of them, or all); how many went."""
    work = broker.plan(queue)
    channel = await broker.channel()
    try:
        if limit is not None:
            taken = await _take(channel, work.dead, limit)
            for message in taken:
                await message.ack()
            return len(taken)
        try:
            dead = await channel.declare_queue(work.dead, passive=True)
        except ChannelNotFoundEntity:
            return 0
        purged = await dead.purge()
        return int(purged.message_count or 0)
    finally:
        await channel.close()
