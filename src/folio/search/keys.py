"""Per-shop scoped search keys, for browsers that query Typesense directly.

Design: one **search-only parent key** exists on the server (action
``documents:search`` only). Typesense shows a key's value only when it is created, so
Folio creates it *with a value it can recompute*: HMAC-SHA256 of the admin key with a
fixed label (``parent_key_value``). Every process derives the same value and nobody has
to store it; rotating the admin key yields a new parent key (the old is replaced).

A shop's key is a **scoped key** signed with the parent: it embeds
``filter_by: tenant_id:=<shop uuid>`` and ``expires_at``. Typesense ANDs the embedded
filter with whatever the client sends, so the key cannot widen to another shop: not by
another ``filter_by``, and not against another shop's collection (whose documents all
carry that shop's ``tenant_id``). Tests pin both against the real server.
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

__all__ = ["PARENT_KEY_DESCRIPTION", "ScopedKey", "ensure_parent_key", "parent_key_value", "scoped_key_for"]

log = structlog.get_logger(__name__)

PARENT_KEY_DESCRIPTION = "folio search-only parent key (scoped keys are signed with it)"
_LABEL = b"folio-search-parent-key-v1"

_ensured: set[tuple[str, str]] = set()
"""(server url, key prefix) pairs this process already ensured: one check per process."""


def parent_key_value(admin_key: str) -> str:
    """The parent key's value, derived from the admin key (64 hex characters)."""
    return hmac.new(admin_key.encode(), _LABEL, hashlib.sha256).hexdigest()


async def ensure_parent_key(engine: SearchEngine, *, force: bool = False) -> str:
    """Make sure the search-only parent key exists on the server; returns its value.

    Idempotent and cheap after the first call in a process. A key with our description
    but another value (the admin key was rotated) is deleted and recreated.
    """
    value = parent_key_value(engine.admin_key)
    marker = (engine.url, value[:4])
    if marker in _ensured and not force:
        return value
    present = False
    for key in await engine.list_keys():
        if key.get("description") != PARENT_KEY_DESCRIPTION:
            continue
        if key.get("value_prefix") == value[:4] and not present:
            present = True
        else:
            await engine.delete_key(int(key["id"]))
    if not present:
        spec: dict[str, Any] = {
            "value": value,
            "description": PARENT_KEY_DESCRIPTION,
            "actions": ["documents:search"],
            "collections": ["*"],
        }
        try:
            await engine.create_key(spec)
        except SearchEngineError as exc:
            # Another process created it between our list and create: same value, fine.
            if exc.extra.get("engine_status") != HTTPStatus.CONFLICT:
                raise
        log.info("search.parent_key_created", prefix=value[:4])
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
    """A key that searches only ``tenant_id``'s documents until ``now + ttl_s``."""
    expires_at = int((now if now is not None else time.time()) + ttl_s)
    params = {"filter_by": f"tenant_id:={tenant_id}", "expires_at": expires_at}
    return ScopedKey(key=generate_scoped_key(parent_value, params), expires_at=expires_at)
