"""L2: the cache every process shares, on Redis, with tags, leases and the invalidation broadcast.

Why the kernel does not import ``redis``: the kernel tier forbids broker clients
(``[tool.folio.architecture]``), so this module states the few client methods it uses
(``RedisClient``, ``PubSubClient``) and ``folio.bootstrap`` hands it a
``redis.asyncio.Redis`` (``decode_responses=False``: values are bytes). Tests hand it the
same; nothing here needs more of the client than these protocols.

Why Lua scripts rather than ``MULTI``: invalidating a tag reads the tag's member set and
then deletes the members, a read-then-write a transaction can only do with ``WATCH`` and
retries. A script runs atomically in one round trip, so a fill can never land between
the read and the delete, and the ``PUBLISH`` of the broadcast happens in the same
script: no process can see the L2 copy gone without the broadcast having been sent. The
same holds for a fill (value, its tag sets and the lease release at once). Scripts go
by ``EVAL``: they are a few hundred bytes and Redis keeps each compiled by its hash.

Keys, namespaced per cache name (``<ns>`` is ``folio`` unless a test isolates itself):

- ``<ns>:cache:<name>:v:<key>``: the value, an ``Entry`` envelope; expires at the end of
  its stale window.
- ``<ns>:cache:<name>:t:<tag>``: the set of value keys carrying ``tag``; it lives as long
  as its longest-lived member. A member whose value expired is harmless (``DEL`` of
  nothing) and leaves with the set.
- ``<ns>:cache:<name>:l:<key>``: the load lease (``SET NX PX``) one process holds while
  it calls the origin for ``key``.

The scripts touch keys read from a set (the tag's members), which Redis Cluster does not
allow: Folio runs one Redis (or a primary with replicas), not a cluster.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from folio.core.cache.entry import Entry
from folio.core.cache.local import Clock

__all__ = ["PubSubClient", "RedisClient", "SharedCache"]


class ConnectionHooks(Protocol):
    """The pub/sub connection, as far as noticing its reconnects goes."""

    def register_connect_callback(self, callback: Callable[[Any], Awaitable[None]]) -> None:
        """Call ``callback`` (a bound method, weakly held) on each (re)connect."""

    def deregister_connect_callback(self, callback: Callable[[Any], Awaitable[None]]) -> None:
        """Stop calling ``callback`` (the connection goes back to the pool)."""


class PubSubClient(Protocol):
    """The part of ``redis.asyncio.client.PubSub`` the invalidation listener uses."""

    @property
    def connection(self) -> ConnectionHooks | None:
        """The connection, once subscribed."""

    async def subscribe(self, *channels: str) -> None:
        """Subscribe to ``channels``."""

    def listen(self) -> AsyncIterator[Any]:
        """The messages received, subscribe confirmations included."""

    async def aclose(self) -> None:
        """Unsubscribe and release the connection."""


class RedisClient(Protocol):
    """The part of ``redis.asyncio.Redis`` (bytes responses) the shared cache uses."""

    def eval(self, script: str, numkeys: int, *keys_and_args: str | bytes | int | float) -> Awaitable[Any]:
        """Run a Lua script."""

    def get(self, name: str) -> Awaitable[Any]:
        """The value at ``name``, or None."""

    def pubsub(self) -> PubSubClient:
        """A new pub/sub connection."""

    async def aclose(self) -> None:
        """Release the connection pool."""


_FILL = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  end
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
end
return 1
"""

_INVALIDATE_KEY = """
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"""

_INVALIDATE_TAG = """
local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members, 500 do
  redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return #members
"""

_ACQUIRE_LEASE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
"""

_POLL = """
return {redis.call('GET', KEYS[1]), redis.call('EXISTS', KEYS[2])}
"""


class SharedCache:
    """One named cache's L2: values with their tags, load leases, and broadcast invalidation.

    ``stale_s`` is the cache's stale window: a value stays in Redis that long after its
    TTL so a reader may serve it while one refresh runs.
    """

    def __init__(
        self, redis: RedisClient, *, prefix: str, channel: str, stale_s: float, clock: Clock
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._channel = channel
        self._stale_s = stale_s
        self._clock = clock

    async def get(self, key: str) -> Entry | None:
        """The entry stored for ``key`` (fresh or stale), or None."""
        data = await self._redis.get(self._value_key(key))
        return None if data is None else Entry.decode(data, stale_s=self._stale_s)

    async def fill(self, key: str, entry: Entry, *, lease_token: str = "") -> None:
        """Store ``entry`` until its stale window ends and index it under its tags.

        The lease ``lease_token`` on ``key`` is released in the same script if still ours.
        """
        ttl_ms = max(int((entry.stale_until - self._clock()) * 1000), 1)
        tag_keys = [self._tag_key(tag) for tag in entry.tags]
        await self._redis.eval(
            _FILL,
            2 + len(tag_keys),
            self._value_key(key),
            self._lease_key(key),
            *tag_keys,
            entry.encode(),
            ttl_ms,
            lease_token,
        )

    async def acquire_lease(self, key: str, token: str, *, ttl_s: float) -> bool:
        """Take the load lease on ``key`` for ``ttl_s`` unless another process holds it."""
        taken = await self._redis.eval(_ACQUIRE_LEASE, 1, self._lease_key(key), token, int(ttl_s * 1000))
        return bool(taken)

    async def release_lease(self, key: str, token: str) -> None:
        """Give the lease back if it is still ours (the load failed: let another try at once)."""
        await self._redis.eval(_RELEASE_LEASE, 1, self._lease_key(key), token)

    async def poll(self, key: str) -> tuple[Entry | None, bool]:
        """The stored entry and whether some process holds the lease on ``key``, in one trip."""
        data, leased = await self._redis.eval(_POLL, 2, self._value_key(key), self._lease_key(key))
        entry = None if data is None else Entry.decode(data, stale_s=self._stale_s)
        return entry, bool(leased)

    async def invalidate(self, key: str, message: bytes) -> None:
        """Delete ``key`` and publish ``message`` on the invalidation channel, atomically."""
        await self._redis.eval(_INVALIDATE_KEY, 1, self._value_key(key), self._channel, message)

    async def invalidate_tag(self, tag: str, message: bytes) -> int:
        """Delete every key carrying ``tag`` and publish ``message``, atomically; how many keys."""
        count = await self._redis.eval(_INVALIDATE_TAG, 1, self._tag_key(tag), self._channel, message)
        return int(count)

    def _value_key(self, key: str) -> str:
        return f"{self._prefix}:v:{key}"

    def _tag_key(self, tag: str) -> str:
        return f"{self._prefix}:t:{tag}"

    def _lease_key(self, key: str) -> str:
        return f"{self._prefix}:l:{key}"
