"""The live context's part of the GraphQL schema: ``liveMetrics``, relayed from the live channel.

``liveMetrics`` streams what the live stage publishes on ``folio:live:<tenant_id>``
(``{"seq", "series", "value", "at"}``) for the caller's shop, optionally only some
series. It holds no metric logic: the feed (``folio.live.feed``) owns the values. Its
``value`` is a ``Float``, so only the numeric series travel; a series whose value is an
object (``revenue`` per currency, a ``stock_alert:<listing_id>``) or null (a cleared
alert) is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from strawberry.types import Info

from folio.core.security import STAFF_ROLES, require_role
from folio.graphqlkit import GraphQLContext, SchemaPart, context_of, subscription
from folio.live.messages import live_channel

__all__ = ["SCHEMA", "LiveMetric"]


@strawberry.type(description="One value of a live series (orders, revenue, active carts, stock alerts).")
class LiveMetric:
    """One message of ``folio:live:<tenant_id>``."""

    seq: int
    series: str
    value: float
    at: dt.datetime

    @classmethod
    def of(cls, message: dict[str, Any]) -> LiveMetric:
        """The metric a channel message carries.

        ``KeyError``/``ValueError`` when it is not one, ``TypeError`` when its value is not a
        number (an object-valued series, or a cleared alert's null).
        """
        value = message["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"series {message.get('series')!r} has no numeric value")
        return cls(
            seq=int(message["seq"]),
            series=str(message["series"]),
            value=float(value),
            at=dt.datetime.fromisoformat(str(message["at"])),
        )


@strawberry.type
class LiveSubscription:
    """The live dashboard's subscription fields."""

    @subscription(graphql_type=LiveMetric, description="The shop's live metrics as they change (staff).")
    async def live_metrics(
        self, info: Info[GraphQLContext, None], series: list[str] | None = None
    ) -> AsyncIterator[LiveMetric]:
        """Each new value of the caller's shop's series (all, or those named)."""
        context = context_of(info)
        require_role(context.caller, STAFF_ROLES, action="watch the shop's live metrics")
        wanted = set(series) if series else None
        async for message in context.channels.listen(live_channel(context.caller.tenant_id)):
            try:
                metric = LiveMetric.of(message)
            except (KeyError, TypeError, ValueError):
                continue  # not the contract (the publisher's bug), or a value a Float cannot carry
            if wanted is None or metric.series in wanted:
                yield metric


SCHEMA = SchemaPart(name="live", subscriptions=(LiveSubscription,))
"""The live metrics' part of the gateway's schema."""
