"""Redlock over N independent Redis instances, with fencing tokens that grow across holders.

The algorithm (antirez, "Distributed locks with Redis"), as done here:

1. Draw a random ``owner`` value; note the monotonic time.
2. On every instance at once, ``SET lock owner NX PX ttl`` and, only if that set it,
   ``INCR`` of the resource's fencing counter on that instance (one Lua script). Each
   instance gets at most ``locks.instance_timeout_s`` (the client's socket timeouts),
   so a dead instance costs a refusal, not the lease.
3. With a majority (``quorum``), the fencing token is the largest counter returned. The
   instances of the majority whose counter is lower are raised to it (a second round,
   only where the key is still ours); the instances at the token plus those raised
   must again make a majority. Counters agree unless failed tries left some ahead, so
   the second round is usually skipped: one round trip, like Redlock without tokens.
4. The lease is valid for ``ttl - elapsed - (drift_factor * ttl + drift_constant)``; if
   that is not positive, or either round missed its majority, the keys are deleted
   everywhere (compare-and-delete) and the try has failed; ``Locks.acquire`` pauses a
   jittered delay and tries again until its wait runs out.

``extend`` is a compare-and-``PEXPIRE`` on every instance (a majority must answer in
time); ``release`` a compare-and-``DEL`` on every instance, so a holder can never free
a lock that expired and was taken by another.

Why the tokens are ordered: let A's lease be granted before B's try starts. When it
was, a majority M of instances had a counter of at least A's token, each set while A's
key was there (the increment or the raise runs only then, in the same script). B's
``SET NX`` succeeded on a majority too, which shares an instance i with M; on i it only
succeeded after A's key was gone, so its ``INCR`` started from at least A's token: B's
token is larger. Taking the largest of the counters without raising the others would
not do: counters moved by tries that failed to reach a majority can leave the counters
of a later majority behind.

Assumption, stated in docs/locks.md: an instance that restarts keeps its counters (the
harness runs them with the append-only file: a killed process loses nothing, a power
cut up to a second unless ``appendfsync always``). An instance that came back empty
could hand out a smaller counter; the majority that still has them outvotes it only if
the restarted instance is not needed to make the majority. Also Redlock's own
assumption: instances that lose their keys on restart must stay down longer than the
longest TTL, or a lock could be granted twice.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from folio.core.cache.scripts import Script
from folio.locks.lease import Lease, quorum, validity_s
from folio.locks.manager import Locks, Refusal
from folio.locks.settings import LockSettings

__all__ = ["Redlock"]

# KEYS: the lock, the resource's fencing counter. ARGV: owner, TTL in ms.
# The incremented counter if the lock was taken, else 0.
_ACQUIRE = Script("""
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
""")

# KEYS: the lock, the counter. ARGV: owner, token. Raises the counter to the token where
# the lock is still ours: 1 if it is, else 0.
_RAISE_COUNTER = Script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then
    redis.call('SET', KEYS[2], ARGV[2])
  end
  return 1
end
return 0
""")

# KEYS: the lock. ARGV: owner, TTL in ms.
_EXTEND = Script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
""")

# KEYS: the lock. ARGV: owner.
_RELEASE = Script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
""")


class _Failed:
    """An instance that did not answer (refused, timed out, errored)."""


_FAILED = _Failed()


class Redlock(Locks):
    """Redlock over ``instances``, each an independent Redis server (never replicas of one another).

    The clients are owned: ``aclose`` closes them. Build it with ``from_urls`` so each
    client has the short timeouts and no retries of its own that the algorithm assumes.
    ``namespace`` prefixes every key (``<ns>:lock:<resource>``, and the fencing counter
    ``<ns>:lock-fence:<resource>``, kept for good: it must outlive every lease).
    """

    def __init__(
        self,
        instances: Sequence[Redis],
        settings: LockSettings,
        *,
        namespace: str = "folio",
        random: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(settings, random=random)
        if not instances:
            raise ValueError("Redlock needs at least one Redis instance")
        self.instances = list(instances)
        self.quorum = quorum(len(self.instances))
        self._namespace = namespace

    @classmethod
    def from_urls(cls, urls: Sequence[str], settings: LockSettings, *, namespace: str = "folio") -> Redlock:
        """Clients for ``urls`` that connect on first use, each bounded by ``instance_timeout_s``."""
        timeout = settings.instance_timeout_s
        clients = [
            Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                # Redlock retries whole tries itself; a client retrying one call would
                # spend the lease's validity on a dead instance.
                retry=Retry(NoBackoff(), 0),
            )
            for url in urls
        ]
        return cls(clients, settings, namespace=namespace)

    async def _try_acquire(self, resource: str, ttl_s: float) -> Lease | Refusal:
        owner = secrets.token_hex(16)
        keys = [self._lock_key(resource), self._fence_key(resource)]
        started = time.monotonic()
        answers = await self._on_all(_ACQUIRE, keys, [owner, _ms(ttl_s)])
        taken = [(index, int(answer)) for index, answer in enumerate(answers) if _is_counter(answer)]
        answered = sum(answer is not _FAILED for answer in answers)
        if len(taken) >= self.quorum:
            token = max(counter for _, counter in taken)
            behind = [index for index, counter in taken if counter < token]
            raised = await asyncio.gather(
                *(self._call(_RAISE_COUNTER, self.instances[index], keys, [owner, token]) for index in behind)
            )
            at_token = len(taken) - len(behind) + sum(answer == 1 for answer in raised)
            validity = validity_s(
                ttl_s,
                time.monotonic() - started,
                drift_factor=self.settings.drift_factor,
                drift_constant_s=self.settings.drift_constant_s,
            )
            if at_token >= self.quorum and validity > 0:
                return Lease(resource, token, ttl_s, started + validity, owner)
        if taken or answered < len(answers):
            # Some instance set the key (or may have: its answer was lost): undo it now
            # rather than leave it blocking others until its TTL.
            await self._on_all(_RELEASE, keys[:1], [owner])
        return Refusal.NO_QUORUM if answered < self.quorum else Refusal.BUSY

    async def extend(self, lease: Lease) -> Lease | None:
        """Push the lease's end back by its TTL on a majority, measured from now; None if not."""
        started = time.monotonic()
        answers = await self._on_all(
            _EXTEND, [self._lock_key(lease.resource)], [lease.owner, _ms(lease.ttl_s)]
        )
        validity = validity_s(
            lease.ttl_s,
            time.monotonic() - started,
            drift_factor=self.settings.drift_factor,
            drift_constant_s=self.settings.drift_constant_s,
        )
        if sum(answer == 1 for answer in answers) >= self.quorum and validity > 0:
            return replace(lease, valid_until=started + validity)
        return None

    async def release(self, lease: Lease) -> None:
        """Compare-and-delete on every instance; one that does not answer lets the key expire."""
        await self._on_all(_RELEASE, [self._lock_key(lease.resource)], [lease.owner])

    async def aclose(self) -> None:
        """Close every instance's client."""
        for instance in self.instances:
            await instance.aclose()

    async def _on_all(
        self, script: Script, keys: list[str], args: list[str | bytes | int | float]
    ) -> list[Any]:
        """``script`` on every instance at once: each one's answer, or ``_FAILED``."""
        return list(
            await asyncio.gather(*(self._call(script, instance, keys, args) for instance in self.instances))
        )

    @staticmethod
    async def _call(
        script: Script, instance: Redis, keys: list[str], args: list[str | bytes | int | float]
    ) -> Any:
        try:
            return await script(instance, keys, args)
        except (RedisError, OSError):
            return _FAILED

    def _lock_key(self, resource: str) -> str:
        return f"{self._namespace}:lock:{resource}"

    def _fence_key(self, resource: str) -> str:
        return f"{self._namespace}:lock-fence:{resource}"


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)


def _is_counter(answer: object) -> bool:
    """An ``_ACQUIRE`` answer meaning the key was set (the incremented counter, 1 or more)."""
    return isinstance(answer, int) and answer > 0
