"""Per-shop scoped search keys, for browsers that query Typesense directly.

Design: each shop has its own **search-only parent key** on the server (action
``documents:search`` only) whose ``collections`` list names exactly what a member of
that shop may read: the shop's listings alias and the shared works alias
(``shop_key_collections``). Nothing else on the server is reachable with it: not
another shop's collection (Typesense answers 401, so ``out_of`` tells nothing about
another shop's size), not the versioned collections behind the aliases, and not the
operators' log collection (``logging.ship_collection``). Typesense 0.24 checks the
name in the request path against that list, so an alias listed there is reachable
and the concrete collection behind it is not (pinned against the real server).

Typesense shows a key's value only when it is created, so Folio creates each parent
*with a value it can recompute*: HMAC-SHA256 of the admin key over a versioned label
and the key's collections (``parent_key_value``). Every process derives the same value
and nobody has to store it; rotating the admin key, or changing what a key may reach,
yields a new value, and the stale key (same description, another value) is deleted.
Parents share value prefixes now and then (the first four characters); 0.24 tries
every key with the prefix, which a test pins.

A member's key is a **scoped key** signed with the shop's parent: it embeds
``filter_by: tenant_id:=[<shop uuid>,public]`` and ``expires_at``. Typesense ANDs the
embedded filter with whatever the client sends, so the key cannot widen by another
``filter_by`` either. Every role gets the same reach: the listing documents hold only
what the listings API shows every member (title, authors, offer, stock), and no field
is hidden from any role; a field some role may not see must not be put in a shop's
collection (``exclude_fields`` hides it from documents only, not from ``filter_by``,
``facet_by`` or ``query_by``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog

from folio.search.engine import SearchEngine, SearchEngineError, generate_scoped_key
from folio.search.indexes import PUBLIC_TENANT, IndexNames

__all__ = [
    "LEGACY_PARENT_DESCRIPTION",
    "ScopedKey",
    "ensure_shop_parent_key",
    "parent_key_value",
    "scoped_key_for",
    "shop_key_collections",
    "shop_key_description",
]

log = structlog.get_logger(__name__)

LEGACY_PARENT_DESCRIPTION = "folio search-only parent key (scoped keys are signed with it)"
"""The one parent key of earlier releases, valid for every collection (``*``): deleted on sight,
so the scoped keys signed with it (which could read the log collection) stop working."""

_LABEL = b"folio-search-shop-parent-key-v2"

_ensured: set[tuple[str, str]] = set()
"""(server url, parent value) pairs this process already ensured: one check per shop and process."""


def shop_key_collections(names: IndexNames, tenant_id: uuid.UUID) -> list[str]:
    """What a member of ``tenant_id`` may search with a scoped key: the shop's alias and the works alias."""
    return [names.shop(tenant_id), names.works()]


def shop_key_description(collections: list[str]) -> str:
    """The description of the parent key for ``collections`` (how stale copies are found)."""
    return f"folio shop search key: {', '.join(collections)}"


def parent_key_value(admin_key: str, collections: list[str]) -> str:
    """The value of the parent key for ``collections``, derived from the admin key (64 hex characters)."""
    message = _LABEL + b"\n" + "\n".join(collections).encode()
    return hmac.new(admin_key.encode(), message, hashlib.sha256).hexdigest()


async def ensure_shop_parent_key(engine: SearchEngine, names: IndexNames, tenant_id: uuid.UUID) -> str:
    """Make sure the shop's search-only parent key exists on the server; returns its value.

    Idempotent and cheap after the first call per shop in a process. Keys with the same
    description but another value (the admin key was rotated), and the legacy
    all-collections parent, are deleted.
    """
    collections = shop_key_collections(names, tenant_id)
    value = parent_key_value(engine.admin_key, collections)
    marker = (engine.url, value)
    if marker in _ensured:
        return value
    description = shop_key_description(collections)
    present = False
    for key in await engine.list_keys():
        if key.get("description") == LEGACY_PARENT_DESCRIPTION:
            await engine.delete_key(int(key["id"]))
            log.warning("search.legacy_parent_key_deleted", key_id=key["id"])
        elif key.get("description") == description:
            if key.get("value_prefix") == value[:4] and key.get("collections") == collections and not present:
                present = True
            else:
                await engine.delete_key(int(key["id"]))
    if not present:
        spec: dict[str, Any] = {
            "value": value,
            "description": description,
            "actions": ["documents:search"],
            "collections": collections,
        }
        try:
            await engine.create_key(spec)
        except SearchEngineError as exc:
            # Another process created it between our list and create: same value, fine.
            if exc.extra.get("engine_status") != HTTPStatus.CONFLICT:
                raise
        log.info("search.parent_key_created", tenant_id=str(tenant_id), prefix=value[:4])
    _ensured.add(marker)
    return value


@dataclass(frozen=True)
class ScopedKey:
    """A shop's scoped search key and when it stops working (Unix seconds)."""

    key: str
    expires_at: int


def scoped_key_for(
    parent_value: str, tenant_id: uuid.UUID, *, ttl_s: int, now: float | None = None
) -> ScopedKey:
    """A key that finds only ``tenant_id``'s and public documents until ``now + ttl_s``.

    Only as wide as ``parent_value``'s collections: sign with the shop's own parent.
    """
    expires_at = int((now if now is not None else time.time()) + ttl_s)
    params = {"filter_by": f"tenant_id:=[{tenant_id},{PUBLIC_TENANT}]", "expires_at": expires_at}
    return ScopedKey(key=generate_scoped_key(parent_value, params), expires_at=expires_at)
