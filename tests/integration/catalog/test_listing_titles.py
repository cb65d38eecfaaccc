"""Listings answer with their work's title and authors (v1, v2, one listing), in one query per page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from folio.catalog.api import ListingCreate, WorkCreate, create_listing, create_work, list_listings
from folio.core.db import Database
from folio.core.security import Role
from folio.core.settings import Settings
from tests.support.identity import add_member_and_login, create_member, register_and_login

pytestmark = pytest.mark.integration


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs inside the block, in order."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_listings_carry_the_works_title_and_authors_over_http(api_client: httpx.AsyncClient) -> None:
    """v1 pages, v2 pages and one listing all name the work's title and authors: no second call per row."""
    owner = await register_and_login(api_client)
    customer = await add_member_and_login(api_client, owner, Role.CUSTOMER)
    work = (
        await api_client.post(
            "/api/v1/catalog/works",
            json={"title": "Generated Listed Title", "authors": ["Generated Author"]},
            headers=owner.headers,
        )
    ).json()
    created = await api_client.post(
        "/api/v1/catalog/listings",
        json={"work_id": work["id"], "price_cents": 900, "currency": "EUR"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    expected = ("Generated Listed Title", ["Generated Author"])
    assert (created.json()["title"], created.json()["authors"]) == expected

    one = (
        await api_client.get(f"/api/v1/catalog/listings/{created.json()['id']}", headers=customer.headers)
    ).json()
    v1 = (await api_client.get("/api/v1/catalog/listings", headers=customer.headers)).json()["items"]
    v2 = (await api_client.get("/api/v2/catalog/listings", headers=customer.headers)).json()["data"]
    for item in (one, *v1, *v2):
        assert (item["title"], item["authors"]) == expected


async def test_a_page_of_listings_costs_the_same_queries_whatever_its_length(
    sqlite_database: Database, settings: Settings
) -> None:
    """Listing one row or six costs the same number of statements: titles come by join, not per row."""
    db = sqlite_database
    shop = await create_member(db)

    async def add_listings(count: int) -> None:
        for number in range(count):
            work = await create_work(db, principal=shop, data=WorkCreate(title=f"Generated Work {number}"))
            data = ListingCreate(work_id=work.id, price_cents=100 + number, currency="EUR")
            await create_listing(db, settings=settings, principal=shop, data=data)

    await add_listings(1)
    with counted_statements() as one_row:
        page = await list_listings(db, settings=settings, principal=shop)
    assert [item.title for item in page.items] == ["Generated Work 0"]
    await add_listings(5)
    with counted_statements() as six_rows:
        page = await list_listings(db, settings=settings, principal=shop)
    assert len(page.items) == 6
    assert len(six_rows) == len(one_row)
