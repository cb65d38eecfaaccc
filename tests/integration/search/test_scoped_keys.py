"""Scoped search keys against the real server: a shop's key sees only that shop's documents."""

from __future__ import annotations

import uuid

import httpx
import pytest

from folio.core.security import Principal, Role
from folio.search.api import SearchBackend, issue_search_key
from folio.search.engine import generate_scoped_key
from folio.search.indexes import ensure_index, listing_document
from folio.search.keys import ensure_parent_key, parent_key_value, scoped_key_for
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


async def test_scoped_key_cannot_widen_to_another_shop(backend: SearchBackend) -> None:
    """Shop A's key finds A's listing, and nothing of B's: not by filter_by, not on B's collection."""
    shop_a, alias_a = await _shop_with_listing(backend, "Lantern Keeper")
    shop_b, alias_b = await _shop_with_listing(backend, "Lantern Keeper")
    issued = await issue_search_key(backend, principal=_principal(shop_a))
    assert issued.collection == alias_a

    own = await _direct_search(backend, issued.key, alias_a)
    assert own.status_code == 200, own.text
    assert [h["document"]["tenant_id"] for h in own.json()["hits"]] == [str(shop_a)]

    widened = await _direct_search(backend, issued.key, alias_a, filter_by=f"tenant_id:={shop_b}")
    assert widened.status_code == 200
    assert widened.json()["found"] == 0

    other_collection = await _direct_search(backend, issued.key, alias_b)
    assert other_collection.status_code == 200
    assert other_collection.json()["found"] == 0

    other_either = await _direct_search(
        backend, issued.key, alias_b, filter_by=f"tenant_id:=[{shop_a},{shop_b}]"
    )
    assert other_either.json()["found"] == 0


async def test_expired_and_forged_keys_are_refused(backend: SearchBackend) -> None:
    """A key past its expires_at, or signed with anything but the parent key, is refused (401)."""
    shop, alias = await _shop_with_listing(backend, "Tidewater")
    parent = await ensure_parent_key(backend.engine)
    expired = scoped_key_for(parent, shop, ttl_s=-10)
    assert (await _direct_search(backend, expired.key, alias)).status_code == 401
    forged = generate_scoped_key(parent[:4] + "x" * 60, {"filter_by": f"tenant_id:={shop}"})
    assert (await _direct_search(backend, forged, alias)).status_code == 401
    assert (await _direct_search(backend, parent, alias)).status_code == 200


async def test_parent_key_is_search_only_and_recreated_idempotently(backend: SearchBackend) -> None:
    """The parent key exists once, allows only documents:search, and a forced re-check keeps one."""
    value = await ensure_parent_key(backend.engine, force=True)
    assert value == parent_key_value(backend.engine.admin_key)
    await ensure_parent_key(backend.engine, force=True)
    ours = [k for k in await backend.engine.list_keys() if k.get("value_prefix") == value[:4]]
    assert len(ours) == 1
    assert ours[0]["actions"] == ["documents:search"]
    async with httpx.AsyncClient(base_url=backend.engine.url) as client:
        refused = await client.get("/collections", headers={"X-TYPESENSE-API-KEY": value})
    assert refused.status_code == 401
