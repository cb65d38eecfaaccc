"""The orders' worker side on the real RabbitMQ: customers' mails once each, and the sweeps on a schedule."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from aio_pika.abc import FieldValue
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.bootstrap import build_platform
from folio.catalog.api import get_listing
from folio.core.db import Database
from folio.core.outbox import OutboxEvent
from folio.core.settings import Settings
from folio.identity.api import get_user
from folio.locks.api import LocalLocks
from folio.mail.api import list_outbox
from folio.messaging.api import Broker, HandlerRegistry, JobRounds, Worker, WorkQueue
from folio.messaging.envelope import TENANT_HEADER, TOPIC_HEADER
from folio.messaging.registry import TransactionalConsumer
from folio.orders import consumers
from folio.orders.api import OrderStatus, confirm_payment, get_order, place_order, set_cart_item
from tests.integration.messaging.conftest import FAST, broker, eventually, running, work_queue
from tests.integration.orders.conftest import new_listing, new_shop

pytestmark = pytest.mark.integration
__all__ = ["broker", "work_queue"]  # the messaging fixtures these tests use


async def _event(db: Database, order_id: uuid.UUID, kind: str) -> OutboxEvent:
    """The outbox event ``kind`` of the order (what the relay would publish)."""

    async def work(session: AsyncSession) -> OutboxEvent:
        query = select(OutboxEvent).where(
            OutboxEvent.topic == "orders", OutboxEvent.key == str(order_id), OutboxEvent.type == kind
        )
        return (await session.scalars(query)).one()

    return await db.run(work)


async def test_an_order_paid_mails_its_customer_once_however_often_delivered(
    sqlite_database: Database, settings: Settings, broker: Broker, work_queue: WorkQueue
) -> None:
    """OrderPaid delivered twice: one mail to the customer; the same event without a customer: none.

    On a database of the test's own: a worker of a ``folio up`` sharing the suite's
    PostgreSQL would relay the order's events to the real queue and mail the customer
    too (the inbox's races on PostgreSQL are the messaging tests').
    """
    db = sqlite_database
    shop = await new_shop(db, settings)
    listing = await new_listing(db, shop)
    await set_cart_item(db, principal=shop.customer, listing_id=listing.id, quantity=2)
    order = await place_order(db, principal=shop.customer, idempotency_key="mail-once")
    await confirm_payment(db, tenant_id=shop.tenant_id, order_id=order.id, payment_reference="cs_t")
    event = await _event(db, order.id, "OrderPaid")
    assert shop.customer.user_id is not None
    email = (await get_user(db, shop.customer.user_id)).email

    platform = build_platform(settings, database=db)
    registry = HandlerRegistry()
    scratch = HandlerRegistry()
    consumers.register(scratch, platform)  # the registrar's own handler, on the test's own queue
    handler = scratch.get(consumers.NOTIFICATIONS.name)
    assert isinstance(handler, TransactionalConsumer)  # exactly once: the inbox's transaction
    assert "orders.OrderPaid" in handler.queue.bindings
    registry.transactional(work_queue, handler.handle)
    headers: dict[str, FieldValue] = {TENANT_HEADER: str(shop.tenant_id), TOPIC_HEADER: "orders"}
    publisher = await broker.publisher()
    try:
        async with running(db, broker, registry) as worker:
            for _ in range(2):  # the relay's duplicate: the same message id
                await publisher.publish(
                    work_queue,
                    event.payload,
                    type="OrderPaid",
                    message_id=f"outbox-{event.id}",
                    headers=headers,
                )
            no_customer = {**event.payload, "customer_id": None}
            await publisher.publish(work_queue, no_customer, type="OrderPaid", headers=headers)

            async def settled() -> bool:
                """All three messages handled."""
                return worker.stats.applied + worker.stats.duplicates == 3

            await eventually(settled)
        mails = await list_outbox(db, recipient=email)
    finally:
        await platform.aclose()
    assert (worker.stats.applied, worker.stats.duplicates, worker.stats.dead_lettered) == (2, 1, 0)
    assert [mail.kind for mail in mails] == ["order_paid"]
    assert "2 x Hamlet  25.00 EUR" in mails[0].body
    assert f"/app/shop/orders/{order.id}" in mails[0].body


async def test_a_worker_cancels_an_expired_hold_on_its_own(
    sqlite_database: Database, settings: Settings, broker: Broker
) -> None:
    """No CLI: the registrar's sweep, every 0.1 s under its locks, cancels the lapsed order, stock back."""
    db = sqlite_database
    shop = await new_shop(db, settings)
    listing = await new_listing(db, shop, stock=3)
    await set_cart_item(db, principal=shop.customer, listing_id=listing.id, quantity=2)
    lapsed = await place_order(
        db, principal=shop.customer, idempotency_key="lapsed", hold_for=-dt.timedelta(minutes=1)
    )
    fast = settings.model_copy(
        update={"orders": settings.orders.model_copy(update={"sweep_interval_s": 0.1})}
    )
    platform = build_platform(fast, database=db)
    registry = HandlerRegistry()
    scratch = HandlerRegistry()
    consumers.register(scratch, platform)
    for job in scratch.jobs:  # the jobs alone: the real queues belong to the real workers
        registry.every(job.interval_s, job.name, job.run)
    # This process's locks: a running dev worker's lock on orders:sweeps must not skip these rounds.
    worker = Worker(db, broker, registry, FAST, rounds=JobRounds(LocalLocks(fast.locks), lease_s=5))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:

        async def cancelled() -> bool:
            """The lapsed order cancelled by the worker's sweep."""
            order = await get_order(db, principal=shop.customer, order_id=lapsed.id)
            return order.status == OrderStatus.CANCELLED

        await eventually(cancelled)
    finally:
        stop.set()
        await task
        await platform.aclose()
    assert [job.name for job in scratch.jobs] == [consumers.SWEEPS]
    assert worker.stats.job_rounds >= 1
    assert (await get_listing(db, principal=shop.staff, listing_id=listing.id)).stock == 3
