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
by ``EVALSHA`` (``scripts``), falling back to ``EVAL`` when Redis forgot them.

Why generations: a load reads the origin, then fills. An invalidation that runs between
the two (the origin changed) would otherwise be undone by the fill putting the old value
back until its TTL. Each invalidation bumps a counter for its key or tag, in the same
script; the lease script reads the counters of the key and its tags before the origin
is called, and the fill script stores nothing if any of them moved. The counters live
an hour after their last bump (``_GENERATION_TTL_MS``).

Keys, namespaced per cache name (``<ns>`` is ``folio`` unless a test isolates itself):

- ``<ns>:cache:<name>:v2:<key>``: the value, an ``Entry`` envelope (``v2``: its layout,
  so a process with an older layout never reads one it cannot decode); expires at the end of
  its stale window.
- ``<ns>:cache:<name>:t:<tag>``: the set of value keys carrying ``tag``; it lives as long
  as its longest-lived member. A member whose value expired is harmless (``DEL`` of
  nothing) and leaves with the set.
- ``<ns>:cache:<name>:l:<key>``: the load lease (``SET NX PX``) one process holds while
  it calls the origin for ``key``.
- ``<ns>:cache:<name>:gk:<key>`` and ``<ns>:cache:<name>:gt:<tag>``: the generation
  counters invalidations (and write-through writes) bump.

The scripts touch keys read from a set (the tag's members), which Redis Cluster does not
allow: Folio runs one Redis (or a primary with replicas), not a cluster.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, NamedTuple, Protocol

from folio.core.cache.entry import Entry
from folio.core.cache.local import Clock
from folio.core.cache.scripts import Script, ScriptClient

__all__ = ["Lease", "PubSubClient", "RedisClient", "SharedCache"]


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


class RedisClient(ScriptClient, Protocol):
    """The part of ``redis.asyncio.Redis`` (bytes responses) the shared cache uses."""

    def get(self, name: str) -> Awaitable[Any]:
        """The value at ``name``, or None."""

    def pubsub(self) -> PubSubClient:
        """A new pub/sub connection."""

    async def aclose(self) -> None:
        """Release the connection pool."""


_GENERATION_TTL_MS = 3_600_000
"""How long a generation counter outlives its last bump: far longer than any load runs.

A counter that expired reads as 0 again; a load that captured 0, saw an invalidation
bump it and then saw it expire before filling would fill a stale value, so the counter
must outlive every load in flight when it is bumped.
"""

# KEYS: value, lease, the key's generation, each tag's generation, each tag's member set.
# ARGV: envelope, TTL in ms, lease token, tag count, then the generations the load captured
# (the key's, then each tag's). A generation that moved means an invalidation ran while the
# origin was read: the value may predate it, so it is not stored.
_FILL = Script("""
local tags = tonumber(ARGV[4])
local current = true
for i = 0, tags do
  if (redis.call('GET', KEYS[3 + i]) or '0') ~= ARGV[5 + i] then
    current = false
    break
  end
end
if current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  for i = 4 + tags, #KEYS do
    redis.call('SADD', KEYS[i], KEYS[1])
    if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then
      redis.call('PEXPIRE', KEYS[i], ARGV[2])
    end
  end
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
end
return current and 1 or 0
""")

# KEYS: value, the key's generation, each tag's member set. ARGV: envelope, TTL in ms,
# channel, message, generation TTL in ms. Bumping the generation stops a load of the old
# value, in flight now, from filling over the new one.
_WRITE = Script("""
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  end
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
""")

# KEYS: value, the key's generation. ARGV: channel, message, generation TTL in ms.
_INVALIDATE_KEY = Script("""
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
""")

# KEYS: the tag's member set, the tag's generation. ARGV: channel, message, generation TTL in ms.
_INVALIDATE_TAG = Script("""
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members, 500 do
  redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return #members
""")

# KEYS: lease, the key's generation, each tag's generation. ARGV: token, lease TTL in ms.
# The generations are read in the same trip, before the origin is: what a fill compares.
_ACQUIRE_LEASE = Script("""
local result = {0}
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  result[1] = 1
end
for i = 2, #KEYS do
  result[i] = redis.call('GET', KEYS[i]) or '0'
end
return result
""")

_RELEASE_LEASE = Script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
""")

_POLL = Script("""
return {redis.call('GET', KEYS[1]), redis.call('EXISTS', KEYS[2])}
""")


class Lease(NamedTuple):
    """An attempt at the load lease: whether it was taken, and the generations read with it."""

    taken: bool
    generations: tuple[str, ...]
    """The key's generation, then each tag's (in the order given), as ``SharedCache.fill`` takes them."""


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

    async def fill(
        self, key: str, entry: Entry, *, generations: tuple[str, ...], lease_token: str = ""
    ) -> bool:
        """Store ``entry`` until its stale window ends and index it under its tags; whether it was stored.

        ``generations`` are those ``acquire_lease`` read before the origin was called: if
        the key or one of ``entry.tags`` was invalidated since, nothing is stored (the
        value may be older than the invalidation). The lease ``lease_token`` on ``key`` is
        released in the same script if still ours, stored or not.
        """
        tag_keys = [self._tag_key(tag) for tag in entry.tags]
        generation_keys = [self._key_generation(key), *(self._tag_generation(tag) for tag in entry.tags)]
        if len(generations) != len(generation_keys):
            raise ValueError("fill needs the key's generation and one per tag")
        stored = await _FILL(
            self._redis,
            [self._value_key(key), self._lease_key(key), *generation_keys, *tag_keys],
            [entry.encode(), self._ttl_ms(entry), lease_token, len(entry.tags), *generations],
        )
        return bool(stored)

    async def write(self, key: str, entry: Entry, message: bytes) -> None:
        """Store ``entry`` whatever was there, stop older loads filling over it, publish ``message``."""
        await _WRITE(
            self._redis,
            [self._value_key(key), self._key_generation(key), *(self._tag_key(tag) for tag in entry.tags)],
            [entry.encode(), self._ttl_ms(entry), self._channel, message, _GENERATION_TTL_MS],
        )

    async def acquire_lease(self, key: str, token: str, *, ttl_s: float, tags: Sequence[str] = ()) -> Lease:
        """Try the load lease on ``key`` for ``ttl_s``; the key's and ``tags``' generations come with it."""
        keys = [self._lease_key(key), self._key_generation(key), *(self._tag_generation(tag) for tag in tags)]
        taken, *generations = await _ACQUIRE_LEASE(self._redis, keys, [token, int(ttl_s * 1000)])
        return Lease(bool(taken), tuple(_text(generation) for generation in generations))

    async def release_lease(self, key: str, token: str) -> None:
        """Give the lease back if it is still ours (the load failed: let another try at once)."""
        await _RELEASE_LEASE(self._redis, [self._lease_key(key)], [token])

    async def poll(self, key: str) -> tuple[Entry | None, bool]:
        """The stored entry and whether some process holds the lease on ``key``, in one trip."""
        data, leased = await _POLL(self._redis, [self._value_key(key), self._lease_key(key)], [])
        entry = None if data is None else Entry.decode(data, stale_s=self._stale_s)
        return entry, bool(leased)

    async def invalidate(self, key: str, message: bytes) -> None:
        """Delete ``key``, bump its generation, publish ``message`` on the channel, atomically."""
        await _INVALIDATE_KEY(
            self._redis,
            [self._value_key(key), self._key_generation(key)],
            [self._channel, message, _GENERATION_TTL_MS],
        )

    async def invalidate_tag(self, tag: str, message: bytes) -> int:
        """Delete every key tagged ``tag``, bump its generation, publish ``message``, atomically; how many."""
        count = await _INVALIDATE_TAG(
            self._redis,
            [self._tag_key(tag), self._tag_generation(tag)],
            [self._channel, message, _GENERATION_TTL_MS],
        )
        return int(count)

    def _ttl_ms(self, entry: Entry) -> int:
        return max(int((entry.stale_until - self._clock()) * 1000), 1)

    def _value_key(self, key: str) -> str:
        return f"{self._prefix}:v2:{key}"

    def _tag_key(self, tag: str) -> str:
        return f"{self._prefix}:t:{tag}"

    def _lease_key(self, key: str) -> str:
        return f"{self._prefix}:l:{key}"

    def _key_generation(self, key: str) -> str:
        return f"{self._prefix}:gk:{key}"

    def _tag_generation(self, tag: str) -> str:
        return f"{self._prefix}:gt:{tag}"


def _text(generation: bytes | str | int) -> str:
    """A generation as the fill script compares it (Redis answers bytes, a Lua default a string)."""
    return generation.decode() if isinstance(generation, bytes) else str(generation)
