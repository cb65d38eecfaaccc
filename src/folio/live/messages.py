"""The channel contract: Redis keys, pub/sub channels and the JSON a live message carries.

Other readers of the pub/sub (GraphQL subscriptions) rely on exactly this; ``docs/live.md``
writes it down:

- ``folio:live:<tenant_id>``: every metric update of a shop, JSON
  ``{"seq": int, "series": str, "value": number | object, "at": iso8601}``; ``seq`` is
  the shop's, from ``INCR folio:live:<tenant_id>:seq``, so it grows across restarts.
- ``folio:orders:<tenant_id>``: every order status change,
  ``{"order_id", "status", "version", "at"}``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from folio.core.channels import LIVE_PATTERN, LIVE_PREFIX, live_channel, orders_channel, tenant_of_channel

__all__ = [
    "LIVE_PATTERN",
    "LiveKeys",
    "LiveMessage",
    "live_channel",
    "orders_channel",
    "tenant_of_channel",
]


@dataclass(frozen=True)
class LiveKeys:
    """The Redis keys of one shop's live state (none expires but the day counters and the dedup marks)."""

    tenant_id: uuid.UUID

    @property
    def seq(self) -> str:
        """The shop's sequence counter (``INCR``)."""
        return f"{LIVE_PREFIX}{self.tenant_id}:seq"

    @property
    def history(self) -> str:
        """The capped stream of the shop's last messages, entry id ``<seq>-0``."""
        return f"{LIVE_PREFIX}{self.tenant_id}:history"

    @property
    def latest(self) -> str:
        """Hash: series -> its latest message (the snapshot)."""
        return f"{LIVE_PREFIX}{self.tenant_id}:latest"

    @property
    def carts(self) -> str:
        """Sorted set: customer -> when their cart last changed (the active carts)."""
        return f"{LIVE_PREFIX}{self.tenant_id}:carts"

    @property
    def checked_out(self) -> str:
        """Sorted set: customer -> when they last placed an order (a late cart event opens nothing)."""
        return f"{LIVE_PREFIX}{self.tenant_id}:checked-out"

    def day(self, day: str) -> str:
        """Hash of one UTC day's counters (``orders_placed``, ``revenue:<currency>``...)."""
        return f"{LIVE_PREFIX}{self.tenant_id}:day:{day}"

    def seen(self, event_id: str) -> str:
        """Marks an event already counted: a redelivery counts once."""
        return f"{LIVE_PREFIX}{self.tenant_id}:seen:{event_id}"


@dataclass(frozen=True)
class LiveMessage:
    """One metric update as published: its sequence number, its series, and its JSON text as sent."""

    seq: int
    series: str
    text: str

    @classmethod
    def parse(cls, text: str | bytes) -> LiveMessage:
        """The message of a channel's JSON; ``ValueError`` when it is not one."""
        raw = text.decode() if isinstance(text, bytes) else text
        body = json.loads(raw)
        seq, series = (body.get("seq"), body.get("series")) if isinstance(body, dict) else (None, None)
        if not isinstance(seq, int) or not isinstance(series, str):
            raise ValueError(f"not a live message: {raw[:200]!r}")  # noqa: TRY004 - bad input, not a bug
        return cls(seq=seq, series=series, text=raw)
