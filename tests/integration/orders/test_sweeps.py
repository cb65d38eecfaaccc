"""The sweeps visit only the shops with work due, found in one query across shops (RLS on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.settings import Settings
from folio.identity.api import list_tenants
from folio.orders.api import OrderRead, OrderStatus, get_order, place_order, set_cart_item
from folio.orders.sweeps import expire_all_reservations, find_due_shops
from tests.integration.orders.conftest import Shop, new_listing, new_shop

pytestmark = pytest.mark.integration

IDLE_SHOPS = 3


@dataclass(frozen=True)
class Placed:
    """A shop and the unpaid order it has."""

    shop: Shop
    order: OrderRead


async def _unpaid_order(db: Database, settings: Settings, *, hold_for: dt.timedelta) -> Placed:
    """A new shop whose customer placed one order, its stock held for ``hold_for`` (negative: lapsed)."""
    shop = await new_shop(db, settings)
    listing = await new_listing(db, shop, stock=2)
    await set_cart_item(db, principal=shop.customer, listing_id=listing.id, quantity=1)
    order = await place_order(db, principal=shop.customer, idempotency_key="sweep", hold_for=hold_for)
    return Placed(shop, order)


@dataclass(frozen=True)
class Shops:
    """Shops whose orders are held for a while yet, and one whose order's hold ran out."""

    idle: list[Placed]
    lapsed: Placed

    @property
    def idle_ids(self) -> set[uuid.UUID]:
        """The idle shops' ids."""
        return {placed.shop.tenant_id for placed in self.idle}


@pytest.fixture
async def shops(any_database: Database, settings: Settings) -> Shops:
    """``IDLE_SHOPS`` shops with an order held for an hour, and one with an order whose hold lapsed."""
    idle = [
        await _unpaid_order(any_database, settings, hold_for=dt.timedelta(hours=1)) for _ in range(IDLE_SHOPS)
    ]
    return Shops(idle, await _unpaid_order(any_database, settings, hold_for=-dt.timedelta(minutes=1)))


async def test_the_expiry_sweep_visits_only_the_shop_with_a_lapsed_hold(
    any_database: Database, shops: Shops
) -> None:
    """One lapsed hold among idle shops: the pass cancels it and opens no transaction in the idle shops."""
    report = await expire_all_reservations(any_database)

    lapsed = shops.lapsed
    assert lapsed.shop.tenant_id in report.visited
    assert not shops.idle_ids & report.visited
    if any_database.backend == "sqlite":  # a fresh file: these shops are all there is
        assert len(await list_tenants(any_database)) == IDLE_SHOPS + 1
        assert (report.shops, report.orders) == (1, 1)
    cancelled = await get_order(any_database, principal=lapsed.shop.customer, order_id=lapsed.order.id)
    assert cancelled.status == OrderStatus.CANCELLED
    for placed in shops.idle:
        held = await get_order(any_database, principal=placed.shop.customer, order_id=placed.order.id)
        assert held.status == OrderStatus.PENDING_PAYMENT


async def test_due_shops_are_found_by_kind_across_shops(any_database: Database, shops: Shops) -> None:
    """Lapsed holds and stranded checkouts are told apart; a cutoff not given finds nothing of its kind."""
    mine = shops.idle_ids | {shops.lapsed.shop.tenant_id}
    now = utcnow()

    expired = await find_due_shops(any_database, expired_before=now)
    # No payment was opened for any of them: with a cutoff after they were placed, all are stranded.
    stranded = await find_due_shops(any_database, stranded_before=now + dt.timedelta(minutes=1))

    assert expired.expired & mine == {shops.lapsed.shop.tenant_id}
    assert not expired.stranded & mine
    assert stranded.stranded & mine == mine
    assert not stranded.expired & mine


async def test_the_application_role_still_sees_no_shop_without_its_scope(pg_database: Database) -> None:
    """The probe flag set by hand opens nothing to the application role: the policy is the owner's."""

    async def count(session: AsyncSession) -> int:
        await session.execute(text("SELECT set_config('folio.orders_due_probe', 'on', true)"))
        return int((await session.execute(text("SELECT count(*) FROM orders"))).scalar_one())

    assert await pg_database.run(count) == 0
