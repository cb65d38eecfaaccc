"""A test-only consumer whose effect is a row in ``messaging_test_effects``; also the crash test's registrar.

``record_effect`` writes one row per message in the inbox's transaction; a message whose
body has ``"block": KEY`` first waits for PostgreSQL's advisory lock KEY inside that
transaction, so a test holding the lock keeps the worker mid-message for as long as it
likes (and can see it waiting in ``pg_locks``).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.platform import Platform
from folio.messaging.api import HandlerRegistry, Inbound, WorkQueue

EFFECTS = sa.Table(
    "messaging_test_effects",
    sa.MetaData(),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("queue", sa.String(200), nullable=False, index=True),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
)
QUEUE_ENV = "FOLIO_TEST_MESSAGING_QUEUE"
"""The crash test names its unique work queue to the worker subprocess through this variable."""


async def record_effect(message: Inbound, session: AsyncSession) -> None:
    """Write the message's effect row; first wait for the advisory lock its body names, if any."""
    body = message.body
    await session.execute(
        sa.insert(EFFECTS).values(queue=message.queue, message_id=message.message_id, label=body["label"])
    )
    if body.get("block") is not None:
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": body["block"]})


def register(registry: HandlerRegistry, platform: Platform) -> None:
    """The crash test's registrar: ``record_effect`` on the queue ``FOLIO_TEST_MESSAGING_QUEUE`` names."""
    registry.transactional(WorkQueue(os.environ[QUEUE_ENV]), record_effect)
