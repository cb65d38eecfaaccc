"""The shops' live state in Redis: one script records an event's updates, the readers resume and snapshot.

``LiveStore.record`` runs one Lua script per event, so these happen together or not at
all: the event is marked seen (a redelivered event changes nothing), the counters move,
each update takes the shop's next sequence number (``INCR``, so it keeps growing across
restarts of every process), is appended to the shop's capped history stream (entry id
``<seq>-0``), becomes its series' latest value (the snapshot) and is published on
``folio:live:<tenant_id>``. The history and the snapshot live in Redis, not in a
gateway, so a client resumes after a gateway restart as after a dropped connection.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from redis.asyncio import Redis

from folio.live.messages import LiveKeys, LiveMessage, live_channel
from folio.live.resume import ResumePlan, plan_resume

__all__ = ["HISTORY_LENGTH", "Backlog", "LiveStore", "Update"]

HISTORY_LENGTH = 1000
"""Messages a shop's history keeps: a client further behind gets a snapshot."""
SEEN_TTL_S = 7 * 24 * 3600
"""How long an event id is remembered against redelivery (a replay from older offsets re-counts)."""
DAY_TTL_S = 3 * 24 * 3600
"""How long a day's counters are kept after their last change."""
ACTIVE_CART_S = 1800
"""A cart is active while it changed within this many seconds and no order was placed from it."""

Operation = Literal["count", "sum", "json", "clear", "cart_open", "cart_close"]


@dataclass(frozen=True)
class Update:
    """One change to one series an event makes.

    - ``count``: the day's counter ``series`` grows by ``amount``; the value is the new count.
    - ``sum``: the day's ``series:<field>`` grows by ``amount``; the value is the object of
      every field of the series (revenue per currency, minor units).
    - ``json``: the value is ``value`` as given (a stock alert).
    - ``clear``: the series ends: its value is null and it leaves the snapshot. Only a
      series the snapshot holds is cleared; otherwise the update is no message at all.
    - ``cart_open`` / ``cart_close``: customer ``field``'s cart becomes active / is
      checked out (a cart event older than its customer's last checkout opens nothing);
      the value is how many carts are active.
    """

    series: str
    operation: Operation
    field: str = ""
    amount: int = 0
    value: Any = None

    def arguments(self) -> list[str]:
        """The four script arguments this update travels as."""
        if self.operation == "json":
            return [self.series, self.operation, json.dumps(self.value), ""]
        return [self.series, self.operation, self.field, str(self.amount)]


# KEYS: seen, seq, history, latest, day counters, carts, checked-out carts.
# ARGV: channel, at, history length, seen ttl, day ttl, now (epoch s), cart window s, n, then n x 4.
_RECORD = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[4]) == false then return {} end
local out = {'recorded'}
local at, now, window = ARGV[2], tonumber(ARGV[6]), tonumber(ARGV[7])
local i = 9
for _ = 1, tonumber(ARGV[8]) do
  local series, op, field, arg = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local value
  -- A clear is only news when the snapshot holds the series (an alert was raised).
  local emit = true
  if op == 'clear' then
    emit = redis.call('HDEL', KEYS[4], series) == 1
    value = cjson.null
  elseif op == 'count' then
    value = redis.call('HINCRBY', KEYS[5], series, tonumber(arg))
    redis.call('EXPIRE', KEYS[5], ARGV[5])
  elseif op == 'sum' then
    redis.call('HINCRBY', KEYS[5], series .. ':' .. field, tonumber(arg))
    redis.call('EXPIRE', KEYS[5], ARGV[5])
    value = {}
    local all = redis.call('HGETALL', KEYS[5])
    local prefix = series .. ':'
    for j = 1, #all, 2 do
      if string.sub(all[j], 1, #prefix) == prefix then
        value[string.sub(all[j], #prefix + 1)] = tonumber(all[j + 1])
      end
    end
  elseif op == 'json' then
    value = cjson.decode(field)
  else
    -- Carts and orders are two topics: a cart event read after its customer's order
    -- (but older than it) must not open the cart again.
    if op == 'cart_open' then
      local closed = redis.call('ZSCORE', KEYS[7], field)
      if not closed or tonumber(closed) < now then
        redis.call('ZADD', KEYS[6], now, field)
      end
    else
      redis.call('ZREM', KEYS[6], field)
      redis.call('ZADD', KEYS[7], now, field)
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - window)
    redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - window)
    value = redis.call('ZCARD', KEYS[6])
  end
  if emit then
    local seq = redis.call('INCR', KEYS[2])
    local message = cjson.encode({seq = seq, series = series, value = value, at = at})
    redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[3], seq .. '-0', 'm', message)
    if op ~= 'clear' then
      redis.call('HSET', KEYS[4], series, message)
    end
    redis.call('PUBLISH', ARGV[1], message)
    out[#out + 1] = message
  end
end
return out
"""


@dataclass(frozen=True)
class Backlog:
    """What a (re)connecting client is sent first: ``messages`` in order, a ``snapshot`` or a replay.

    ``seq`` is the shop's counter when it was read: nothing at or below it follows.
    """

    plan: ResumePlan
    seq: int
    messages: tuple[LiveMessage, ...]


class LiveStore:
    """The live state of every shop on one Redis (the platform's cache server)."""

    def __init__(self, redis: Redis, *, history_length: int = HISTORY_LENGTH) -> None:
        """A store on ``redis``; connects on first use."""
        self.redis = redis
        self.history_length = history_length
        self._record = redis.register_script(_RECORD)

    async def record(
        self,
        tenant_id: uuid.UUID,
        *,
        event_id: str,
        at: dt.datetime,
        updates: Sequence[Update],
    ) -> list[LiveMessage] | None:
        """Apply one event's ``updates`` and publish them; None when ``event_id`` was already recorded.

        ``at`` is the event's time: its UTC day picks the day counters, and it is each
        message's ``at``. An event with no updates is still marked seen.
        """
        keys = LiveKeys(tenant_id)
        at_utc = at.astimezone(dt.UTC)
        arguments: list[str | int] = [
            live_channel(tenant_id),
            at_utc.isoformat().replace("+00:00", "Z"),
            self.history_length,
            SEEN_TTL_S,
            DAY_TTL_S,
            int(at_utc.timestamp()),
            ACTIVE_CART_S,
            len(updates),
        ]
        for update in updates:
            arguments += update.arguments()
        result = await self._record(
            keys=[
                keys.seen(event_id),
                keys.seq,
                keys.history,
                keys.latest,
                keys.day(at_utc.date().isoformat()),
                keys.carts,
                keys.checked_out,
            ],
            args=arguments,
        )
        if not result:
            return None
        return [LiveMessage.parse(text) for text in result[1:]]

    async def snapshot(self, tenant_id: uuid.UUID) -> Backlog:
        """Every series' latest message, in sequence order, with the counter read in the same transaction."""
        keys = LiveKeys(tenant_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(keys.seq)
            pipe.hvals(keys.latest)
            seq, latest = await pipe.execute()
        messages = sorted((LiveMessage.parse(text) for text in latest), key=lambda message: message.seq)
        return Backlog(ResumePlan.SNAPSHOT, int(seq or 0), tuple(messages))

    async def backlog(self, tenant_id: uuid.UUID, last_seq: int | None) -> Backlog:
        """What a client whose last message was ``last_seq`` missed (``plan_resume`` decides how)."""
        keys = LiveKeys(tenant_id)
        after = max(last_seq or 0, 0) + 1
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(keys.seq)
            pipe.xrange(keys.history, "-", "+", count=1)
            pipe.xrange(keys.history, f"{after}-0", "+", count=self.history_length)
            seq_text, oldest, missed = await pipe.execute()
        seq = int(seq_text or 0)
        oldest_kept = _seq_of(oldest[0][0]) if oldest else None
        plan = plan_resume(last_seq, oldest_kept=oldest_kept, newest=seq)
        if plan is ResumePlan.SNAPSHOT:
            return await self.snapshot(tenant_id)
        if plan is ResumePlan.NOTHING:
            return Backlog(plan, seq, ())
        return Backlog(plan, seq, tuple(LiveMessage.parse(fields[b"m"]) for _, fields in missed))


def _seq_of(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])
