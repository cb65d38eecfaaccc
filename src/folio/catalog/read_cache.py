"""Cached catalogue reads: a work and a shop's listing by id, as the API and the shop pages read them.

A work is read far more often than it changes (every listing page, every product page,
every order line names one), and a listing changes only when its shop edits it or its
work changes. Both are kept in Folio's cache (``folio.core.cache``, cache
``catalog.reads``: L1 in the process, L2 in Redis) for ``READ_TTL_S``.

Key contracts:

- **A work is cached once for every shop**, with the fields that decide who may see it
  (``published``, ``owner_tenant_id``); the service applies the same visibility rule to
  a cached work as to one read from the database, so a shop's private work is never
  shown to another shop.
- **A listing is cached per shop** (its key leads with the shop's id): it was read under
  the shop's tenant scope and row-level security, and is only served to that shop.
- **Invalidated by the catalogue's outbox events**, in the process that committed them
  at once (``Database.on_committed``, wired by bootstrap) and in the others within the
  cache's broadcast delay: ``work.*`` drops the work (a cached listing takes its work's
  title and authors from the work's entry), ``listing.*`` drops the listing, and
  ``catalog.bulk_imported``, or a unit that changed more than ``BULK_CHANGES`` entities,
  drops everything.
- Writes that bypass the service (SQL by hand) are seen after at most ``READ_TTL_S``.
- Fills read the primary (``reads_from_primary``): a replica behind a write whose
  invalidation already ran would put the old value back for the whole TTL.
- Not found is never cached: an id that appears later is found at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from folio.catalog.outbox import TOPIC
from folio.catalog.schemas import ListingRead, WorkRead
from folio.core.cache import Cache
from folio.core.db import reads_from_primary
from folio.core.outbox import EventDraft
from folio.core.platform import Slot

__all__ = ["BULK_CHANGES", "CATALOG_READS", "READS_CACHE", "READ_TTL_S", "CatalogReads"]

READS_CACHE = "catalog.reads"
"""The cache's name (its metrics' ``cache`` label)."""

READ_TTL_S = 300.0
"""How long a read lives without a change: the bound for writes that bypass the service."""

BULK_CHANGES = 100
"""A unit that changed more entities than this drops the whole cache (one call, not one per entity)."""

_EVERYTHING = "catalog:all"

R = TypeVar("R", WorkRead, ListingRead)


def _work_tag(work_id: str) -> str:
    return f"catalog:work:{work_id}"


def _listing_tag(listing_id: str) -> str:
    return f"catalog:listing:{listing_id}"


class CatalogReads:
    """Works and listings by id over one named ``Cache``; see the module docstring."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def work(self, work_id: uuid.UUID, load: Callable[[], Awaitable[WorkRead]]) -> WorkRead:
        """The work ``work_id``, cached, else ``load()``'s (whose errors propagate and are not kept)."""

        def encode(found: WorkRead) -> dict[str, Any]:
            # The fields hidden from the API are kept: visibility and previews need them.
            owner = None if found.owner_tenant_id is None else str(found.owner_tenant_id)
            return {
                **found.model_dump(mode="json"),
                "preview_key": found.preview_key,
                "owner_tenant_id": owner,
            }

        cached = await self._read(f"work:{work_id.hex}", _work_tag(work_id.hex), load, encode)
        return WorkRead.model_validate(cached)

    async def listing(
        self,
        tenant_id: uuid.UUID,
        listing_id: uuid.UUID,
        load: Callable[[], Awaitable[ListingRead]],
        load_work: Callable[[uuid.UUID], Awaitable[WorkRead]],
    ) -> ListingRead:
        """The shop's listing ``listing_id``, cached for that shop only, else ``load()``'s.

        The listing is kept without its work's title and authors, which come from the
        work's own entry (``load_work`` on a miss): a change to the work then drops one
        entry, not every listing of it in every shop.
        """

        def encode(found: ListingRead) -> dict[str, Any]:
            return found.model_dump(mode="json", exclude={"title", "authors"})

        key = f"listing:{tenant_id.hex}:{listing_id.hex}"
        listing = await self._read(key, _listing_tag(listing_id.hex), load, encode)
        work_id = uuid.UUID(listing["work_id"])
        work = await self.work(work_id, lambda: load_work(work_id))
        return ListingRead.model_validate({**listing, "title": work.title, "authors": work.authors})

    async def _read(
        self, key: str, tag: str, load: Callable[[], Awaitable[R]], encode: Callable[[R], dict[str, Any]]
    ) -> dict[str, Any]:
        """The cached fields of ``key``, else ``encode(load())``'s, read from the primary and kept."""

        async def fill() -> bytes:
            with reads_from_primary():
                found = await load()
            return json.dumps(encode(found)).encode()

        body = await self.cache.get_or_load(key, fill, ttl_s=READ_TTL_S, tags=(tag, _EVERYTHING))
        fields: dict[str, Any] = json.loads(body)
        return fields

    async def forget_changes(self, notes: Sequence[Any]) -> None:
        """Drop what the catalogue events among ``notes`` (a committed unit's) made stale."""
        tags: set[str] = set()
        for note in notes:
            if not isinstance(note, EventDraft) or note.topic != TOPIC:
                continue
            entity, entity_id = note.payload.get("entity"), note.payload.get("entity_id")
            if entity == "catalog" or entity_id is None:
                tags = {_EVERYTHING}
                break
            hex_id = uuid.UUID(str(entity_id)).hex
            tags.add(_work_tag(hex_id) if entity == "work" else _listing_tag(hex_id))
        if len(tags) > BULK_CHANGES:
            tags = {_EVERYTHING}
        for tag in sorted(tags):
            await self.cache.invalidate_tag(tag)


CATALOG_READS: Slot[CatalogReads] = Slot("catalog reads")
"""Where the platform keeps the catalogue's read cache; ``folio.bootstrap`` provides it."""
