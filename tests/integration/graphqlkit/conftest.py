"""Fixtures for the GraphQL integration tests: shops with orders, callers' headers, a query helper.

``pg_database`` is the orders tests' (the primary only: a read right after a write must
not race the replica's replay); ``api_client`` is the suite's gateway over it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from benchmarks.bench_graphql import seed_orders

from folio.core.db import Database
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.identity.api import issue_access_token
from tests.integration.orders.conftest import Shop, new_shop, pg_database
from tests.support.identity import bearer

__all__ = ["gql", "pg_database"]


@pytest.fixture
def headers_of(migrated_postgres: Settings) -> Any:
    """The ``Authorization`` header of a member's access token."""

    def headers(principal: Principal) -> dict[str, str]:
        return bearer(issue_access_token(migrated_postgres, principal))

    return headers


@pytest.fixture
async def shop(pg_database: Database, migrated_postgres: Settings) -> Shop:
    """A new shop with two orders of three lines each (its staff placed them)."""
    made = await new_shop(pg_database, migrated_postgres)
    await seed_orders(pg_database, migrated_postgres, made.staff, orders=2, lines=3)
    return made


async def gql(
    client: httpx.AsyncClient, headers: dict[str, str], query: str | None, **body: Any
) -> httpx.Response:
    """``POST /graphql`` with ``query`` and the other body members (``variables``, ``extensions``)."""
    return await client.post("/graphql", json={"query": query, **body}, headers=headers)
