"""/graphql over HTTP on the real PostgreSQL and Redis: auth, tenancy, roles, limits, SQL, caching, APQ."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from benchmarks.bench_graphql import QUERY, counting_statements, seed_orders

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from folio.entrypoints.gateway.graphql import gateway_schema
from folio.graphqlkit import CACHE_HEADER, Channels, GraphQLContext, query_hash
from tests.integration.graphqlkit.conftest import gql
from tests.integration.orders.conftest import Shop, new_shop

pytestmark = pytest.mark.integration

ORDER_IDS = "{ orders { data { id } } }"


def codes(response: httpx.Response) -> list[str]:
    """The problem codes of a GraphQL response's errors."""
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


async def test_a_request_without_credentials_is_a_401_problem(api_client: httpx.AsyncClient) -> None:
    """No token or key: the REST API's 401 problem, before any GraphQL runs."""
    response = await gql(api_client, {}, "{ shop { id } }")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "authentication-required"


async def test_the_caller_sees_its_shop_and_its_orders_with_their_lines(
    api_client: httpx.AsyncClient, shop: Shop, headers_of: Any
) -> None:
    """The shop, and each order's lines with their listing and work, from the services."""
    query = (
        "{ shop { id } orders { data { lines { title listing { stock work { title } } work { title } } } } }"
    )
    response = await gql(api_client, headers_of(shop.staff), query)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["shop"]["id"] == str(shop.tenant_id)
    lines = [line for order in data["orders"]["data"] for line in order["lines"]]
    assert len(lines) == 6
    assert all(line["listing"]["work"]["title"] == line["work"]["title"] for line in lines)


async def test_another_shops_token_sees_none_of_its_orders(
    api_client: httpx.AsyncClient,
    shop: Shop,
    headers_of: Any,
    pg_database: Database,
    migrated_postgres: Settings,
) -> None:
    """Shop B's owner lists no order of shop A, and asking for one by id is order-not-found."""
    order_id = (await gql(api_client, headers_of(shop.staff), ORDER_IDS)).json()["data"]["orders"]["data"][0][
        "id"
    ]
    other = await new_shop(pg_database, migrated_postgres)
    listed = await gql(api_client, headers_of(other.owner), ORDER_IDS)
    assert listed.json()["data"]["orders"]["data"] == []
    asked = await gql(api_client, headers_of(other.owner), f'{{ order(id: "{order_id}") {{ id }} }}')
    assert codes(asked) == ["order-not-found"]
    assert asked.json()["errors"][0]["extensions"]["status"] == 404


async def test_a_customer_sees_only_their_own_orders(
    api_client: httpx.AsyncClient, shop: Shop, headers_of: Any
) -> None:
    """The staff's orders are not a customer's: the service's role rule, not GraphQL's."""
    staff = (await gql(api_client, headers_of(shop.staff), ORDER_IDS)).json()["data"]["orders"]["data"]
    customer = (await gql(api_client, headers_of(shop.customer), ORDER_IDS)).json()["data"]["orders"]["data"]
    assert len(staff) == 2
    assert customer == []


async def test_fifty_orders_run_as_many_statements_as_five(
    pg_database: Database, migrated_postgres: Settings, redis_limiter: RateLimiter
) -> None:
    """Dataloaders: the 50-orders query's SQL does not grow with the orders; naive resolvers' does."""
    composed = gateway_schema()
    platform = build_platform(migrated_postgres, database=pg_database, rate_limiter=redis_limiter)
    small, many = (
        await new_shop(pg_database, migrated_postgres),
        await new_shop(pg_database, migrated_postgres),
    )
    await seed_orders(pg_database, migrated_postgres, small.staff, orders=5, lines=3)
    await seed_orders(pg_database, migrated_postgres, many.staff, orders=50, lines=3)

    async def statements(shop: Shop, *, batching: bool) -> int:
        context = GraphQLContext(
            platform=platform,
            loaders=composed.loaders,
            principal=shop.staff,
            channels=Channels(None),
            batching=batching,
        )
        with counting_statements(pg_database) as ran:
            result = await composed.schema.execute(
                QUERY, variable_values={"limit": 50}, context_value=context
            )
        assert result.errors is None
        assert len(result.data["orders"]["data"]) in {5, 50}  # type: ignore[index]
        return len(ran)

    try:
        batched_five, batched_fifty = (
            await statements(small, batching=True),
            await statements(many, batching=True),
        )
        naive_fifty = await statements(many, batching=False)
    finally:
        await platform.aclose()
    assert batched_five == batched_fifty
    assert batched_fifty <= 8
    # One listing and one work read per line without the loaders: 300 for 150 lines.
    assert naive_fifty >= 2 * 150


async def test_an_answer_is_cached_until_the_shop_writes(
    api_client: httpx.AsyncClient, shop: Shop, headers_of: Any
) -> None:
    """A repeated query is a cache hit; a change to one of the shop's listings forgets it."""
    query = "{ listings { items { id priceCents } } }"
    first = await gql(api_client, headers_of(shop.staff), query)
    second = await gql(api_client, headers_of(shop.staff), query)
    assert (first.headers[CACHE_HEADER], second.headers[CACHE_HEADER]) == ("miss", "hit")
    assert second.json() == first.json()
    listing = first.json()["data"]["listings"]["items"][0]
    changed = await api_client.patch(
        f"/api/v1/catalog/listings/{listing['id']}",
        json={"price_cents": 4242},
        headers=headers_of(shop.staff),
    )
    assert changed.status_code == 200, changed.text
    third = await gql(api_client, headers_of(shop.staff), query)
    assert third.headers[CACHE_HEADER] == "miss"
    prices = {item["id"]: item["priceCents"] for item in third.json()["data"]["listings"]["items"]}
    assert prices[listing["id"]] == 4242


async def test_a_mutation_is_never_cached(api_client: httpx.AsyncClient, shop: Shop, headers_of: Any) -> None:
    """CreateTask runs each time it is sent, through the tasks service."""
    mutation = 'mutation { createTask(title: "Reorder Moomin paperbacks") { id title status } }'
    made = [await gql(api_client, headers_of(shop.staff), mutation) for _ in range(2)]
    assert [response.headers[CACHE_HEADER] for response in made] == ["bypass", "bypass"]
    ids = {response.json()["data"]["createTask"]["id"] for response in made}
    assert len(ids) == 2


async def test_automatic_persisted_queries_register_on_a_miss(
    api_client: httpx.AsyncClient, shop: Shop, headers_of: Any
) -> None:
    """APQ: an unknown hash is PersistedQueryNotFound; sent with its text it is stored; then it runs alone."""
    query = f"query Apq{uuid.uuid4().hex} {{ shop {{ id }} }}"  # a text no run stored before
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": query_hash(query)}}
    headers = headers_of(shop.staff)
    missed = await gql(api_client, headers, None, extensions=persisted)
    assert missed.status_code == 400
    assert missed.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert codes(missed) == ["persisted-query-not-found"]
    stored = await gql(api_client, headers, query, extensions=persisted)
    again = await gql(api_client, headers, None, extensions=persisted)
    assert stored.status_code == again.status_code == 200
    assert again.json()["data"] == {"shop": {"id": str(shop.tenant_id)}}
    wrong = await gql(api_client, headers, "{ shop { slug } }", extensions=persisted)
    assert codes(wrong) == ["validation-failed"]


@pytest.fixture
async def strict_client(
    migrated_postgres: Settings, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with a per-credential limit of 3 requests a minute."""
    settings = migrated_postgres.model_copy(
        update={"api": migrated_postgres.api.model_copy(update={"rate_limit_per_key": "3/minute"})}
    )
    platform = build_platform(settings, database=pg_database, rate_limiter=redis_limiter)
    app = create_app(settings, platform=platform)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://folio.test") as client,
    ):
        yield client
    await platform.aclose()


async def test_graphql_and_rest_share_the_callers_rate_limit(
    strict_client: httpx.AsyncClient, shop: Shop, headers_of: Any
) -> None:
    """Two REST calls and one GraphQL call spend the window: the next GraphQL call is a 429 problem."""
    headers = headers_of(shop.staff)
    rest = [await strict_client.get("/api/v1/me", headers=headers) for _ in range(2)]
    allowed = await gql(strict_client, headers, "{ shop { id } }")
    refused = await gql(strict_client, headers, "{ shop { id } }")
    assert [r.status_code for r in [*rest, allowed]] == [200, 200, 200]
    assert allowed.headers["RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate-limited"
