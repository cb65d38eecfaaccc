"""``folio orders expire`` on a lite (SQLite) setup: an expired hold is cancelled and its stock returns."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.catalog.api import get_listing
from folio.core.db import open_database
from folio.core.settings import load_settings
from folio.entrypoints.cli import build_cli
from folio.orders.api import OrderRead, OrderStatus, get_order, place_order, set_cart_item
from tests.integration.orders.conftest import Shop, new_listing, new_shop

pytestmark = pytest.mark.integration


def test_expire_cancels_lapsed_holds_in_every_shop(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep cancels the lapsed order, keeps the live one, and says how many it changed."""
    monkeypatch.setenv("FOLIO_HOME", str(clean_env))
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "sqlite")
    monkeypatch.setenv("FOLIO_DATABASE_SQLITE_PATH", str(clean_env / "folio.db"))
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    runner = CliRunner()
    cli = build_cli()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    settings = load_settings()

    async def place_two() -> tuple[Shop, OrderRead, OrderRead, uuid.UUID]:
        async with open_database(settings.database, settings.database_url) as db:
            shop = await new_shop(db, settings)
            listing = await new_listing(db, shop, stock=2)
            await set_cart_item(db, principal=shop.customer, listing_id=listing.id, quantity=1)
            lapsed = await place_order(
                db, principal=shop.customer, idempotency_key="old", hold_for=-dt.timedelta(minutes=1)
            )
            await set_cart_item(db, principal=shop.customer, listing_id=listing.id, quantity=1)
            live = await place_order(db, principal=shop.customer, idempotency_key="new")
            return shop, lapsed, live, listing.id

    shop, lapsed, live, listing_id = asyncio.run(place_two())

    result = runner.invoke(cli, ["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 order(s) cancelled across 1 shop(s)" in result.output

    async def states() -> tuple[OrderStatus, OrderStatus, int]:
        async with open_database(settings.database, settings.database_url) as db:
            return (
                (await get_order(db, principal=shop.customer, order_id=lapsed.id)).status,
                (await get_order(db, principal=shop.customer, order_id=live.id)).status,
                (await get_listing(db, principal=shop.staff, listing_id=listing_id)).stock,
            )

    assert asyncio.run(states()) == (OrderStatus.CANCELLED, OrderStatus.PENDING_PAYMENT, 1)
