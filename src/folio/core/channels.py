"""The shops' pub/sub channels on Redis: the one contract between their publisher and their readers.

The live dashboard's feed (``folio.live``) publishes; the gateway's live hub and the
GraphQL subscriptions (``folio.graphqlkit``) read. Both sides build the names here, so
they cannot drift apart; ``docs/live.md`` writes down the messages each carries:

- ``folio:live:<tenant_id>``: every metric update of a shop;
- ``folio:orders:<tenant_id>``: every order status change.
"""

from __future__ import annotations

import uuid

__all__ = ["LIVE_PATTERN", "LIVE_PREFIX", "live_channel", "orders_channel", "tenant_of_channel"]

LIVE_PREFIX = "folio:live:"
LIVE_PATTERN = f"{LIVE_PREFIX}*"
"""What the gateway's one subscription per process listens to."""


def live_channel(tenant_id: uuid.UUID) -> str:
    """The shop's metric updates: ``folio:live:<tenant_id>``."""
    return f"{LIVE_PREFIX}{tenant_id}"


def orders_channel(tenant_id: uuid.UUID) -> str:
    """The shop's order status changes: ``folio:orders:<tenant_id>``."""
    return f"folio:orders:{tenant_id}"


def tenant_of_channel(channel: str) -> uuid.UUID | None:
    """The shop a ``folio:live:<tenant_id>`` channel belongs to; None for anything else."""
    if not channel.startswith(LIVE_PREFIX):
        return None
    try:
        return uuid.UUID(channel.removeprefix(LIVE_PREFIX))
    except ValueError:
        return None
