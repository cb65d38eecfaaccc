"""The live shop metrics as a GraphQL subscription, relayed from the live dashboard's channel.

``liveMetrics`` streams what the pipeline publishes on ``folio:live:<tenant_id>``
(``{"seq", "series", "value", "at"}``) for the caller's shop, optionally only some
series. It holds no metric logic: the live dashboard's publisher owns the values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from strawberry.types import Info

from folio.core.security import STAFF_ROLES, require_role
from folio.graphqlkit.channels import live_channel
from folio.graphqlkit.context import GraphQLContext, context_of
from folio.graphqlkit.fields import subscription
from folio.graphqlkit.schema import SchemaPart

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
        """The metric a channel message carries (``KeyError``/``ValueError`` when it is not one)."""
        return cls(
            seq=int(message["seq"]),
            series=str(message["series"]),
            value=float(message["value"]),
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
            except (KeyError, ValueError):
                continue  # not the channel's contract: the publisher's bug
            if wanted is None or metric.series in wanted:
                yield metric


SCHEMA = SchemaPart(name="live", subscriptions=(LiveSubscription,))
"""The live metrics' part of the gateway's schema."""
