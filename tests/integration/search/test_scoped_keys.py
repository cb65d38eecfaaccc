"""Scoped search keys against the real server: a shop's key reads its listings and the works, nothing else."""

from __future__ import annotations

import itertools
import json
import logging
import random
import uuid

import httpx
import pytest

from folio.core.logging.shipping import SearchLogShipper
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.search.api import SearchBackend, issue_search_key
from folio.search.engine import generate_scoped_key
from folio.search.indexes import ensure_index, listing_document, work_document
from folio.search.keys import (
    LEGACY_PARENT_DESCRIPTION,
    ensure_shop_parent_key,
    parent_key_value,
    scoped_key_for,
    shop_key_collections,
    shop_key_description,
)
from tests.support.search import generated_listing, generated_work

pytestmark = pytest.mark.integration


def _principal(tenant_id: uuid.UUID) -> Principal:
    return Principal(tenant_id=tenant_id, role=Role.CUSTOMER, user_id=uuid.uuid4(), via="token")


async def _shop_with_listing(backend: SearchBackend, title: str) -> tuple[uuid.UUID, str]:
    tenant_id = uuid.uuid4()
    alias = backend.names.shop(tenant_id)
    await ensure_index(backend.engine, alias, names=backend.names)
    document = listing_document(generated_listing(generated_work(title)), tenant_id=tenant_id)
    assert await backend.engine.import_documents(alias, [document]) == []
    return tenant_id, alias


async def _direct_search(backend: SearchBackend, key: str, collection: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=backend.engine.url) as client:
        return await client.get(
            f"/collections/{collection}/documents/search",
            params={"q": "*", "query_by": "title_stem", **params},
            headers={"X-TYPESENSE-API-KEY": key},
        )


def _ship_generated_log_line(settings: Settings, collection: str, tenant_id: uuid.UUID) -> None:
    """Ship one generated log line of ``tenant_id`` through the real shipper into ``collection``."""
    logging_settings = settings.logging.model_copy(update={"ship_collection": collection})
    shipper = SearchLogShipper(settings.services.search, logging_settings)
    shipper.setFormatter(logging.Formatter("%(message)s"))
    line = {"ts": "2026-12-03T09:00:00Z", "level": "warning", "event": "generated.login_failed"}
    message = json.dumps({**line, "tenant_id": str(tenant_id)})
    shipper.emit(logging.LogRecord("generated", logging.WARNING, __file__, 1, message, None, None))
    shipper.close()
    assert shipper.shipped == 1


async def test_a_shops_key_reaches_its_listings_and_the_works_and_nothing_else(
    backend: SearchBackend, settings: Settings
) -> None:
    """A's key reads A's listings and the works; every other collection and alias (B's, the logs) is 401."""
    shop_a, alias_a = await _shop_with_listing(backend, "Lantern Keeper")
    shop_b, alias_b = await _shop_with_listing(backend, "Lantern Keeper")
    works = await ensure_index(backend.engine, backend.names.works(), names=backend.names)
    assert await backend.engine.import_documents(works, [work_document(generated_work("Lantern"))]) == []
    logs = f"{backend.names.prefix}folio-logs"
    _ship_generated_log_line(settings, logs, shop_a)
    issued = await issue_search_key(backend, principal=_principal(shop_a))
    assert (issued.collection, issued.collections) == (alias_a, [alias_a, backend.names.works()])

    own = await _direct_search(backend, issued.key, alias_a)
    assert own.status_code == 200, own.text
    assert [h["document"]["tenant_id"] for h in own.json()["hits"]] == [str(shop_a)]
    catalogue = await _direct_search(backend, issued.key, backend.names.works())
    assert catalogue.status_code == 200, catalogue.text
    assert [h["document"]["title"] for h in catalogue.json()["hits"]] == ["Lantern"]
    widened = await _direct_search(backend, issued.key, alias_a, filter_by=f"tenant_id:={shop_b}")
    assert (widened.status_code, widened.json()["found"]) == (200, 0)

    # The log collection is real and holds A's line: the admin key finds it, A's key may not ask.
    assert (await backend.engine.search(logs, {"q": "*", "query_by": "event"}))["found"] == 1
    reachable = set(issued.collections)
    names = {str(c["name"]) for c in await backend.engine.list_collections()}
    names |= set(await backend.engine.list_aliases())
    names |= {logs, settings.logging.ship_collection, alias_b}
    for name in sorted(names - reachable):
        refused = await _direct_search(backend, issued.key, name, query_by="event")
        assert refused.status_code == 401, (name, refused.text)
        assert "out_of" not in refused.text


async def test_another_shops_key_learns_nothing_about_a_shop(backend: SearchBackend) -> None:
    """B's key on A's collection is refused outright: no hits, no `found`, no `out_of` (A's size)."""
    _shop_a, alias_a = await _shop_with_listing(backend, "Tidewater")
    shop_b, _alias_b = await _shop_with_listing(backend, "Tidewater")
    key_b = (await issue_search_key(backend, principal=_principal(shop_b))).key
    for params in ({}, {"filter_by": f"tenant_id:={shop_b}"}):
        refused = await _direct_search(backend, key_b, alias_a, **params)
        assert refused.status_code == 401
        assert set(refused.json()) == {"message"}
    async with httpx.AsyncClient(base_url=backend.engine.url) as client:
        multi = await client.post(
            "/multi_search",
            json={"searches": [{"collection": alias_a, "q": "*", "query_by": "title_stem"}]},
            headers={"X-TYPESENSE-API-KEY": key_b},
        )
    assert multi.status_code == 401
    assert "out_of" not in multi.text


async def test_expired_and_forged_keys_are_refused(backend: SearchBackend) -> None:
    """A key past its expires_at, or signed with anything but the shop's parent key, is refused (401)."""
    shop, alias = await _shop_with_listing(backend, "Tidewater")
    parent = await ensure_shop_parent_key(backend.engine, backend.names, shop)
    expired = scoped_key_for(parent, shop, ttl_s=-10)
    assert (await _direct_search(backend, expired.key, alias)).status_code == 401
    forged = generate_scoped_key(parent[:4] + "x" * 60, {"filter_by": f"tenant_id:={shop}"})
    assert (await _direct_search(backend, forged, alias)).status_code == 401
    assert (await _direct_search(backend, parent, alias)).status_code == 200


async def test_parent_key_is_search_only_per_shop_and_replaces_stale_and_legacy_keys(
    backend: SearchBackend,
) -> None:
    """The shop's parent allows documents:search on its two aliases only; stale and legacy parents go."""
    shop = uuid.uuid4()
    collections = shop_key_collections(backend.names, shop)
    stale = await backend.engine.create_key(
        {
            "description": shop_key_description(collections),
            "actions": ["documents:search"],
            "collections": collections,
        }
    )
    legacy = await backend.engine.create_key(
        {"description": LEGACY_PARENT_DESCRIPTION, "actions": ["documents:search"], "collections": ["*"]}
    )
    value = await ensure_shop_parent_key(backend.engine, backend.names, shop)
    assert value == parent_key_value(backend.engine.admin_key, collections)
    assert await ensure_shop_parent_key(backend.engine, backend.names, shop) == value
    keys = await backend.engine.list_keys()
    ours = [k for k in keys if k.get("description") == shop_key_description(collections)]
    assert [(k["value_prefix"], k["actions"], k["collections"]) for k in ours] == [
        (value[:4], ["documents:search"], collections)
    ]
    assert {stale["id"], legacy["id"]}.isdisjoint(k["id"] for k in keys)
    async with httpx.AsyncClient(base_url=backend.engine.url) as client:
        refused = await client.get("/collections", headers={"X-TYPESENSE-API-KEY": value})
    assert refused.status_code == 401


async def test_shops_whose_parent_keys_share_a_prefix_both_work(backend: SearchBackend) -> None:
    """Two shops' parents with the same first four characters: each shop's scoped key still works."""
    rng = random.Random(9)  # noqa: S311  # generated tenant ids, reproducible; not security
    seen: dict[str, uuid.UUID] = {}
    for _ in itertools.count():
        tenant = uuid.UUID(int=rng.getrandbits(128), version=4)
        prefix = parent_key_value(backend.engine.admin_key, shop_key_collections(backend.names, tenant))[:4]
        if prefix in seen:
            pair = (seen[prefix], tenant)
            break
        seen[prefix] = tenant
    for tenant in pair:
        alias = backend.names.shop(tenant)
        await ensure_index(backend.engine, alias, names=backend.names)
        document = listing_document(generated_listing(generated_work("Shared Prefix")), tenant_id=tenant)
        assert await backend.engine.import_documents(alias, [document]) == []
    for tenant in pair:
        issued = await issue_search_key(backend, principal=_principal(tenant))
        answer = await _direct_search(backend, issued.key, backend.names.shop(tenant))
        assert answer.status_code == 200, answer.text
        assert [h["document"]["tenant_id"] for h in answer.json()["hits"]] == [str(tenant)]
