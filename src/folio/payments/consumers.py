"""The payments context's message handlers: webhook delivery, run by the broker workers.

Every payments event reaches the relay through the outbox (topic ``payments``), and the
relay routes it here. Delivery is an *external* effect (an HTTP POST cannot share the
inbox's transaction), so it is at least once, as Stripe's own webhooks are: receivers
de-duplicate by the event id. An endpoint that does not answer 2xx is a transient
failure, retried on the queue's backoff ladder and dead-lettered past its end
(``folio queues dlq list --queue payments.webhooks``); an event that no longer exists
is permanent.
"""

from __future__ import annotations

import httpx

from folio.core.errors import NotFoundError
from folio.core.platform import Platform
from folio.messaging.api import HandlerRegistry, Inbound, PermanentError, TransientError, WorkQueue
from folio.payments.webhooks import deliver_webhook, webhook_deliveries

__all__ = ["WEBHOOKS", "register"]

WEBHOOKS = WorkQueue("payments.webhooks", bindings=("payments.#",))
"""Every payments event, to be delivered to the shop's endpoints that want it."""


def register(registry: HandlerRegistry, platform: Platform) -> None:
    """Register the webhook delivery handler on ``registry`` (the worker's)."""
    client = httpx.AsyncClient(follow_redirects=False)
    platform.own(client.aclose)

    async def deliver(message: Inbound) -> None:
        body = message.body if isinstance(message.body, dict) else {}
        event_id = body.get("event_id")
        if not isinstance(event_id, str):
            raise PermanentError(f"a payments event message without an event id: {message.body!r}")
        try:
            deliveries = await webhook_deliveries(
                platform.database, settings=platform.settings, event_id=event_id
            )
        except NotFoundError as exc:
            raise PermanentError(str(exc)) from exc
        failed = []
        for delivery in deliveries:
            outcome = await deliver_webhook(delivery, client=client)
            if not outcome.delivered:
                failed.append(f"{delivery.url}: {outcome.status_code or outcome.error}")
        if failed:
            # The whole message is retried; endpoints that took it get it again (at least once).
            raise TransientError("; ".join(failed))

    registry.external(WEBHOOKS, deliver)
