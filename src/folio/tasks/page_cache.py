"""Cached task lists: the encoded answers of ``GET /api/v{1,2}/tasks``, per shop and caller's view.

Listing tasks is the API's busiest read, and its answer changes only when a task of the
shop is written: so the encoded page is kept in Folio's cache (``folio.core.cache``: L1
in the process, L2 in Redis) and served from there until a write of that shop.

Key contracts:

- **Keyed on everything that decides the answer**: the API version, the resolved query
  (``service.query_for``: filters with ``me`` made a user id, the order, and the
  caller's *visibility*, so a customer's page is never served to staff or to another
  customer) and the position (page and size, or cursor and limit). The shop's id leads
  the key, and every page carries the shop's tag.
- **Invalidated by every write.** ``SqlAlchemyTaskUnitOfWork`` calls ``forget_shop``
  after each unit that committed (bootstrap wires it), so the writer's next read in any
  process misses: at once in the writer's process, within the pub/sub delay in others
  (the cache's broadcast; its ``l1_ttl_s`` bounds it if a message is lost).
- Writes that bypass the service (a per-shop data migration, SQL by hand) are seen
  after at most ``PAGE_TTL_S``.
- Pages are built from the primary (``reads_from_primary``): a replica behind the write
  whose invalidation just ran would put the old page back for ``PAGE_TTL_S``.
- Pages were built under the shop's tenant scope and row-level security; a hit answers
  without the database, so a page is only ever served for the exact query it answered.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable

from folio.core.cache import Cache
from folio.core.db import reads_from_primary
from folio.core.platform import Slot

__all__ = ["PAGES_CACHE", "PAGE_TTL_S", "TASK_PAGES", "TaskPages", "shop_tag"]

PAGES_CACHE = "tasks.pages"
"""The cache's name (its metrics' ``cache`` label)."""

PAGE_TTL_S = 60.0
"""How long a page lives without a write: the bound for writes that bypass the service."""


def shop_tag(tenant_id: uuid.UUID) -> str:
    """The tag every cached page of the shop carries."""
    return f"tasks:{tenant_id.hex}"


class TaskPages:
    """The encoded task-list pages of every shop, over one named ``Cache``."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    @staticmethod
    def key(tenant_id: uuid.UUID, *parts: object) -> str:
        """The key of the page ``parts`` (version, resolved query, position) name in the shop."""
        digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
        return f"{tenant_id.hex}:{digest}"

    async def get_or_build(
        self, tenant_id: uuid.UUID, key: str, build: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        """The cached page ``key``, or ``build()``'s (kept for the next caller; errors are not kept)."""

        async def fill() -> bytes:
            with reads_from_primary():
                return await build()

        return await self.cache.get_or_load(key, fill, ttl_s=PAGE_TTL_S, tags=(shop_tag(tenant_id),))

    async def forget_shop(self, tenant_id: uuid.UUID) -> None:
        """Drop every cached page of the shop, in every process (a task of it was written)."""
        await self.cache.invalidate_tag(shop_tag(tenant_id))


TASK_PAGES: Slot[TaskPages] = Slot("tasks pages")
"""Where the platform keeps the page cache; ``folio.bootstrap`` provides it."""
