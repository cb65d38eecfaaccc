"""The search API over HTTP: shop search, works search, suggest, keys, per-shop synonyms, problems."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from folio.core.security import Role
from folio.core.settings import Settings
from folio.search.api import IndexNames, SearchEngine
from folio.search.indexes import ensure_index, listing_document
from tests.support.identity import Session, add_member_and_login, api_key_headers, register_and_login
from tests.support.search import generated_listing, generated_work

pytestmark = pytest.mark.integration

NAMES = IndexNames()  # the gateway's names: shops here are fresh, so their aliases are too


@pytest.fixture
async def shop_indexes(engine: SearchEngine) -> AsyncIterator[list[uuid.UUID]]:
    """Shops whose indexes a test creates under the real names; they and their keys are dropped afterwards."""
    shops: list[uuid.UUID] = []
    yield shops
    for key in await engine.list_keys():
        if any(NAMES.shop(tenant_id) in (key.get("collections") or []) for tenant_id in shops):
            await engine.delete_key(int(key["id"]))
    for tenant_id in shops:
        alias = NAMES.shop(tenant_id)
        await engine.drop_alias(alias)
        for collection in await engine.list_collections():
            if NAMES.is_version_of(alias, str(collection["name"])):
                await engine.drop_collection(str(collection["name"]))


async def _stock(engine: SearchEngine, shops: list[uuid.UUID], session: Session, *titles: str) -> None:
    shops.append(session.tenant_id)
    alias = NAMES.shop(session.tenant_id)
    await ensure_index(engine, alias, names=NAMES)
    documents = [
        listing_document(generated_listing(generated_work(title)), tenant_id=session.tenant_id)
        for title in titles
    ]
    assert await engine.import_documents(alias, documents) == []


async def test_search_answers_hits_facets_and_problems(
    api_client: httpx.AsyncClient, engine: SearchEngine, shop_indexes: list[uuid.UUID]
) -> None:
    """GET /search answers the shop's hits with facets; bad DSL and deep pages are 400 problems."""
    owner = await register_and_login(api_client)
    await _stock(engine, shop_indexes, owner, "Orchard Lane", "Stone Orchard", "Mill Pond")
    response = await api_client.get("/api/v1/search", params={"q": "orchard"}, headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["found"] == 2
    assert {facet["field"] for facet in body["facets"]} == {
        "subject",
        "year",
        "publisher",
        "price_band",
        "condition",
    }
    assert all("<mark>Orchard</mark>" in hit["highlights"]["title"] for hit in body["hits"])

    bad = await api_client.get("/api/v1/search", params={"q": 'orchard "lane'}, headers=owner.headers)
    assert bad.status_code == 400
    assert bad.json()["code"] == "query-syntax"
    assert isinstance(bad.json()["position"], int)

    deep = await api_client.get(
        "/api/v1/search", params={"q": "x", "page": 60, "per_page": 20}, headers=owner.headers
    )
    assert deep.status_code == 400
    assert deep.json()["code"] == "deep-paging"
    assert "after" in deep.json()["detail"]

    unknown_facet = await api_client.get("/api/v1/search", params={"facets": "colour"}, headers=owner.headers)
    assert unknown_facet.status_code == 422


async def test_suggest_works_search_and_keys(
    api_client: httpx.AsyncClient, engine: SearchEngine, shop_indexes: list[uuid.UUID]
) -> None:
    """Suggest completes the shop's titles; /search/works answers for any member; keys name the alias."""
    customer = await register_and_login(api_client, role=Role.CUSTOMER)
    await _stock(engine, shop_indexes, customer, "Lighthouse Letters")
    suggest = await api_client.get("/api/v1/search/suggest", params={"q": "light"}, headers=customer.headers)
    assert suggest.status_code == 200, suggest.text
    assert [s["title"] for s in suggest.json()] == ["Lighthouse Letters"]
    works = await api_client.get("/api/v1/search/works", params={"q": "lighthouse"}, headers=customer.headers)
    assert works.status_code == 200, works.text
    key = await api_client.post("/api/v1/search/keys", headers=customer.headers)
    assert key.status_code == 200, key.text
    assert key.json()["collection"] == NAMES.shop(customer.tenant_id)
    anonymous = await api_client.get("/api/v1/search", params={"q": "x"})
    assert anonymous.status_code == 401


@pytest.mark.parametrize("holder", ["owner", "admin", "staff", "customer", "api-key"])
async def test_every_roles_search_key_reads_its_shop_and_the_works_and_nothing_else(
    api_client: httpx.AsyncClient,
    engine: SearchEngine,
    shop_indexes: list[uuid.UUID],
    settings: Settings,
    holder: str,
) -> None:
    """Each role's key (and an API key's) reads its shop; every other collection, logs included, is 401."""
    owner = await register_and_login(api_client)
    other = await register_and_login(api_client)
    await _stock(engine, shop_indexes, owner, "Harbour Lights")
    await _stock(engine, shop_indexes, other, "Harbour Lights")
    if holder == "owner":
        headers = owner.headers
    elif holder == "api-key":
        headers = await api_key_headers(api_client, owner, Role.CUSTOMER)
    else:
        headers = (await add_member_and_login(api_client, owner, Role(holder))).headers
    issued = await api_client.post("/api/v1/search/keys", headers=headers)
    assert issued.status_code == 200, issued.text
    key, reachable = issued.json()["key"], issued.json()["collections"]
    assert reachable == [NAMES.shop(owner.tenant_id), NAMES.works()]

    async def direct(collection: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=engine.url) as client:
            return await client.get(
                f"/collections/{collection}/documents/search",
                params={"q": "*", "query_by": "title"},
                headers={"X-TYPESENSE-API-KEY": key},
            )

    own = await direct(NAMES.shop(owner.tenant_id))
    assert own.status_code == 200, own.text
    assert {hit["document"]["tenant_id"] for hit in own.json()["hits"]} == {str(owner.tenant_id)}
    # Every collection and alias on the server, and the log collection by name whether or not it exists yet.
    names = {str(c["name"]) for c in await engine.list_collections()} | set(await engine.list_aliases())
    names |= {settings.logging.ship_collection, NAMES.shop(other.tenant_id)}
    for name in sorted(names - set(reachable)):
        refused = await direct(name)
        assert refused.status_code == 401, (name, refused.text)


async def test_a_shops_synonyms_change_its_results_only(
    api_client: httpx.AsyncClient, engine: SearchEngine, shop_indexes: list[uuid.UUID]
) -> None:
    """A synonym set in shop A makes 'yarn' find 'Wool' in A; shop B's same query still finds nothing."""
    shop_a = await register_and_login(api_client)
    shop_b = await register_and_login(api_client)
    await _stock(engine, shop_indexes, shop_a, "Wool and Needles")
    await _stock(engine, shop_indexes, shop_b, "Wool and Needles")

    async def found(session: Session) -> int:
        response = await api_client.get("/api/v1/search", params={"q": "yarn"}, headers=session.headers)
        assert response.status_code == 200, response.text
        return int(response.json()["found"])

    assert (await found(shop_a), await found(shop_b)) == (0, 0)
    put = await api_client.put(
        "/api/v1/search/synonyms/wool", json={"synonyms": ["yarn", "wool"]}, headers=shop_a.headers
    )
    assert put.status_code == 200, put.text
    assert (await found(shop_a), await found(shop_b)) == (1, 0)

    listed = await api_client.get("/api/v1/search/synonyms", headers=shop_a.headers)
    assert [s["name"] for s in listed.json()] == ["wool"]
    assert (await api_client.get("/api/v1/search/synonyms", headers=shop_b.headers)).json() == []

    audit = await api_client.get(
        "/api/v1/audit-events", params={"entity_type": "search_synonym"}, headers=shop_a.headers
    )
    assert [e["action"] for e in audit.json()["items"]] == ["search_synonym.created"]

    deleted = await api_client.delete("/api/v1/search/synonyms/wool", headers=shop_a.headers)
    assert deleted.status_code == 204
    assert await found(shop_a) == 0
    again = await api_client.delete("/api/v1/search/synonyms/wool", headers=shop_a.headers)
    assert again.status_code == 404


async def test_only_managers_change_synonyms(
    api_client: httpx.AsyncClient, engine: SearchEngine, shop_indexes: list[uuid.UUID]
) -> None:
    """Staff may read synonyms but not write them (403); invalid sets are 422."""
    owner = await register_and_login(api_client)
    staff = await add_member_and_login(api_client, owner, Role.STAFF)
    shop_indexes.append(owner.tenant_id)
    refused = await api_client.put(
        "/api/v1/search/synonyms/wool", json={"synonyms": ["yarn", "wool"]}, headers=staff.headers
    )
    assert refused.status_code == 403
    assert (await api_client.get("/api/v1/search/synonyms", headers=staff.headers)).status_code == 200
    lonely = await api_client.put(
        "/api/v1/search/synonyms/wool", json={"synonyms": ["yarn"]}, headers=owner.headers
    )
    assert lonely.status_code == 422
    bad_name = await api_client.put(
        "/api/v1/search/synonyms/Bad_Name", json={"synonyms": ["a", "b"]}, headers=owner.headers
    )
    assert bad_name.status_code == 422
