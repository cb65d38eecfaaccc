"""Events: every state change of a payments object, written with the change (and to the outbox).

``record_event`` adds Stripe's ``event`` row (the object's snapshot at the change and,
for updates, its ``previous_attributes``) and an outbox event (topic ``payments``, key
and payload the event's id) in the unit of work that makes the change, so an event
exists if and only if its change committed, and the webhook dispatcher (a consumer of
the ``payments`` topic) hears of each one. ``pending_webhooks`` counts the shop's
enabled endpoints that want the event when it happens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.outbox import add_outbox_event
from folio.core.tenancy import tenant_filter
from folio.payments.calls import Call, Outcome, get_or_404
from folio.payments.ids import new_id
from folio.payments.listing import list_page
from folio.payments.models import PaymentEvent, WebhookEndpoint
from folio.payments.objects import event_object
from folio.payments.schemas import EventList, NoParams

__all__ = [
    "TOPIC",
    "WEBHOOK_SIMULATIONS",
    "changed_attributes",
    "list_events",
    "record_event",
    "retrieve_event",
    "wants",
]

TOPIC = "payments"
"""The outbox topic payments publish on: one event per ``payments_events`` row."""

WEBHOOK_SIMULATIONS = frozenset({"delay_webhook", "duplicate_webhook"})
"""Simulations an event remembers, for its delivery to honour."""

_ENDPOINTS = "folio.payments.enabled_events"
_LAST_AT = "folio.payments.last_event_at"


def wants(enabled_events: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``enabled_events`` wants an event of ``event_type``."""
    return "*" in enabled_events or event_type in enabled_events


def changed_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Stripe's ``previous_attributes``: the old value of every top-level field that changed."""
    return {key: value for key, value in before.items() if after.get(key) != value}


async def _subscriptions(session: AsyncSession) -> list[list[str]]:
    """The enabled endpoints' subscriptions, read once per unit of work."""
    cached: list[list[str]] | None = session.info.get(_ENDPOINTS)
    if cached is None:
        query = select(WebhookEndpoint.enabled_events).where(
            tenant_filter(WebhookEndpoint), WebhookEndpoint.status == "enabled"
        )
        cached = list((await session.scalars(query)).all())
        session.info[_ENDPOINTS] = cached
    return cached


def _next_time(session: AsyncSession) -> dt.datetime:
    # Strictly increasing within a unit, so events of one call list in the order they happened.
    now = utcnow()
    last: dt.datetime | None = session.info.get(_LAST_AT)
    if last is not None and now <= last:
        now = last + dt.timedelta(microseconds=1)
    session.info[_LAST_AT] = now
    return now


async def record_event(
    session: AsyncSession,
    call: Call,
    event_type: str,
    snapshot: dict[str, Any],
    *,
    previous: dict[str, Any] | None = None,
) -> PaymentEvent:
    """Record that ``snapshot`` (a Stripe object) changed as ``event_type``, in the caller's unit of work.

    Precondition: ``session`` runs in ``call``'s tenant scope. The outbox event carries
    only ids; the webhook payload is read from the event row when it is delivered.
    """
    data: dict[str, Any] = {"object": snapshot}
    if previous:
        data["previous_attributes"] = previous
    pending = sum(wants(events, event_type) for events in await _subscriptions(session))
    event = PaymentEvent(
        id=new_id("event", call.tenant_id),
        tenant_id=call.tenant_id,
        created_at=_next_time(session),
        type=event_type,
        api_version=call.api_version,
        data=data,
        request_id=call.request_id,
        idempotency_key=call.idempotency_key,
        pending_webhooks=pending,
        simulate=call.simulate if call.simulate in WEBHOOK_SIMULATIONS else None,
    )
    session.add(event)
    await add_outbox_event(
        session,
        topic=TOPIC,
        key=event.id,
        type=event_type,
        payload={"event_id": event.id, "object_id": snapshot.get("id")},
        tenant_id=call.tenant_id,
    )
    return event


async def retrieve_event(session: AsyncSession, call: Call, event_id: str, params: NoParams) -> Outcome:
    """An event."""
    del params  # nothing of an event expands
    return Outcome.of(
        event_object(await get_or_404(session, PaymentEvent, event_id, call=call, name="event"))
    )


async def list_events(session: AsyncSession, call: Call, params: EventList) -> Outcome:
    """The shop's events, newest first: all, one ``type`` (``payment_intent.*``: a prefix), or ``types``."""
    filters: list[Any] = []
    if params.type is not None:
        if params.type.endswith("*"):
            filters.append(PaymentEvent.type.startswith(params.type[:-1], autoescape=True))
        else:
            filters.append(PaymentEvent.type == params.type)
    if params.types:
        filters.append(PaymentEvent.type.in_(params.types))
    return Outcome.of(
        await list_page(session, call, PaymentEvent, params, url="/v1/events", name="event", filters=filters)
    )
