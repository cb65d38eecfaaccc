"""Webhook endpoints, Stripe's signature, and one delivery of an event to one endpoint.

Signing follows Stripe exactly, so ``stripe.Webhook.construct_event`` verifies it: the
header ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed
with the endpoint secret>``. While a rolled secret is still live the header carries
one ``v1`` per live secret (newest first), so a receiver holding either verifies.

Rolling (``POST /v1/webhook_endpoints/{id}/roll_secret``, Folio's addition: Stripe
rolls from its dashboard) makes a new ``whsec_`` secret and keeps the old one signing
for ``expires_in`` seconds (``payments.webhook_secret_grace_s`` by default); a second
roll inside that time replaces the old secret with the one it rolls out.

Delivery is split for the broker's worker, which owns retries and backoff:
``webhook_deliveries`` says which endpoints want an event, with the body and the
secrets live *now* (call it per attempt, so a roll in between is honoured) and what a
simulation asks (``not_before`` for ``delay_webhook``, two ``copies`` for
``duplicate_webhook``); ``deliver_webhook`` POSTs once and reports what happened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.errors import NotFoundError
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.payments.calls import Call, Outcome, get_locked, get_or_404
from folio.payments.customers import merge_metadata
from folio.payments.events import wants
from folio.payments.ids import new_id, random_token, tenant_of
from folio.payments.listing import list_page
from folio.payments.models import PaymentEvent, WebhookEndpoint
from folio.payments.objects import deleted_object, event_object, webhook_endpoint_object
from folio.payments.schemas import (
    ListParams,
    NoParams,
    WebhookEndpointCreate,
    WebhookEndpointRoll,
    WebhookEndpointUpdate,
)

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryOutcome",
    "WebhookDelivery",
    "create_webhook_endpoint",
    "delete_webhook_endpoint",
    "deliver_webhook",
    "list_webhook_endpoints",
    "live_secrets",
    "new_webhook_secret",
    "retrieve_webhook_endpoint",
    "roll_webhook_secret",
    "sign",
    "signature_header",
    "update_webhook_endpoint",
    "webhook_deliveries",
]

SIGNATURE_HEADER = "Stripe-Signature"
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks) Folio"
SECRET_BYTES = 24
"""A secret's random part: 192 bits."""


def new_webhook_secret() -> str:
    """A fresh `whsec_` signing secret."""
    return f"whsec_{random_token(SECRET_BYTES)}"


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``v1`` signature: hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` keyed with ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()


def signature_header(payload: str, secrets: Sequence[str], *, timestamp: int) -> str:
    """``t=<timestamp>,v1=<sig>[,v1=<sig>]``: one signature per live secret, newest first."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(payload, secret, timestamp)}" for secret in secrets)])


def live_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    """The secrets that sign for ``endpoint`` at ``now``: its secret, and the rolled one until it expires."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret is not None and expires is not None and now < expires:
        secrets.append(endpoint.previous_secret)
    return secrets


# --- the endpoints API ----------------------------------------------------------------------------


async def create_webhook_endpoint(
    session: AsyncSession, call: Call, params: WebhookEndpointCreate
) -> Outcome:
    """Register an endpoint; the answer is the only one that shows its ``secret``."""
    row = WebhookEndpoint(
        id=new_id("webhook_endpoint", call.tenant_id),
        tenant_id=call.tenant_id,
        created_at=call.now,
        url=params.url,
        enabled_events=params.enabled_events,
        description=params.description,
        metadata_=merge_metadata({}, params.metadata),
        status="enabled",
        api_version=params.api_version,
        secret=new_webhook_secret(),
    )
    session.add(row)
    return Outcome.of(webhook_endpoint_object(row, with_secret=True))


async def retrieve_webhook_endpoint(
    session: AsyncSession, call: Call, endpoint_id: str, params: NoParams
) -> Outcome:
    """An endpoint (without its secret)."""
    del params  # nothing of an endpoint expands
    row = await get_or_404(session, WebhookEndpoint, endpoint_id, call=call, name="webhook_endpoint")
    return Outcome.of(webhook_endpoint_object(row))


async def update_webhook_endpoint(
    session: AsyncSession, call: Call, endpoint_id: str, params: WebhookEndpointUpdate
) -> Outcome:
    """Change an endpoint's URL, events, description or metadata, or disable (``disabled=true``) it."""
    row = await get_locked(session, WebhookEndpoint, endpoint_id, call=call, name="webhook_endpoint")
    if params.url is not None:
        row.url = params.url
    if params.enabled_events is not None:
        row.enabled_events = params.enabled_events
    if "description" in params.model_fields_set:
        row.description = params.description or None
    if params.disabled is not None:
        row.status = "disabled" if params.disabled else "enabled"
    row.metadata_ = merge_metadata(row.metadata_, params.metadata)
    return Outcome.of(webhook_endpoint_object(row))


async def roll_webhook_secret(
    session: AsyncSession, call: Call, endpoint_id: str, params: WebhookEndpointRoll
) -> Outcome:
    """Give the endpoint a new secret; the old one signs beside it ``expires_in`` seconds (0: not at all)."""
    row = await get_locked(session, WebhookEndpoint, endpoint_id, call=call, name="webhook_endpoint")
    grace = (
        params.expires_in if params.expires_in is not None else call.settings.payments.webhook_secret_grace_s
    )
    row.previous_secret = row.secret if grace else None
    row.previous_secret_expires_at = call.now + dt.timedelta(seconds=grace) if grace else None
    row.secret = new_webhook_secret()
    return Outcome.of(webhook_endpoint_object(row, with_secret=True))


async def delete_webhook_endpoint(session: AsyncSession, call: Call, endpoint_id: str) -> Outcome:
    """Delete an endpoint: nothing more is delivered to it."""
    row = await get_locked(session, WebhookEndpoint, endpoint_id, call=call, name="webhook_endpoint")
    await session.delete(row)
    return Outcome.of(deleted_object("webhook_endpoint", endpoint_id))


async def list_webhook_endpoints(session: AsyncSession, call: Call, params: ListParams) -> Outcome:
    """The shop's endpoints, newest first."""
    return Outcome.of(
        await list_page(
            session, call, WebhookEndpoint, params, url="/v1/webhook_endpoints", name="webhook_endpoint"
        )
    )


# --- delivery -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookDelivery:
    """One event due to one endpoint: where, what, signed with which secrets, when, and how patiently."""

    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    payload: str
    secrets: tuple[str, ...]
    not_before: dt.datetime
    timeout_s: float
    copies: int = 1


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one POST of an event got: ``delivered`` on a 2xx; else the status or the error."""

    delivered: bool
    status_code: int | None
    error: str | None
    duration_s: float


async def webhook_deliveries(
    db: Database, *, settings: Settings, event_id: str, endpoint_id: str | None = None
) -> list[WebhookDelivery]:
    """The deliveries event ``event_id`` is due: one per enabled endpoint of its shop that wants its type.

    ``endpoint_id`` narrows it to that endpoint (a retry). The shop is read from the id;
    raises ``NotFoundError`` when there is no such event. Reads the primary: an event is
    delivered right after its commit, before a replica may have it.
    """
    tenant_id = tenant_of(event_id)
    if tenant_id is None:
        raise NotFoundError(f"no payments event {event_id!r}")

    async def work(session: AsyncSession) -> list[WebhookDelivery]:
        event = (
            await session.scalars(
                select(PaymentEvent).where(PaymentEvent.id == event_id, tenant_filter(PaymentEvent))
            )
        ).one_or_none()
        if event is None:
            raise NotFoundError(f"no payments event {event_id!r}")
        query = select(WebhookEndpoint).where(
            tenant_filter(WebhookEndpoint), WebhookEndpoint.status == "enabled"
        )
        if endpoint_id is not None:
            query = query.where(WebhookEndpoint.id == endpoint_id)
        endpoints = [
            row for row in (await session.scalars(query)).all() if wants(row.enabled_events, event.type)
        ]
        payload = json.dumps(event_object(event), separators=(",", ":"))
        delay = settings.payments.simulated_webhook_delay_s if event.simulate == "delay_webhook" else 0
        now = utcnow()
        return [
            WebhookDelivery(
                event_id=event.id,
                event_type=event.type,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                payload=payload,
                secrets=tuple(live_secrets(endpoint, now)),
                not_before=event.created_at + dt.timedelta(seconds=delay),
                timeout_s=settings.payments.webhook_timeout_s,
                copies=2 if event.simulate == "duplicate_webhook" else 1,
            )
            for endpoint in endpoints
        ]

    with tenant_scope(tenant_id):
        return await db.run(work)


async def deliver_webhook(
    delivery: WebhookDelivery,
    *,
    client: httpx.AsyncClient | None = None,
    now: float | None = None,
) -> DeliveryOutcome:
    """POST ``delivery``'s event to its endpoint once, signed at ``now`` (default: the current time).

    Waits ``delivery.timeout_s`` (``payments.webhook_timeout_s``) for the answer.

    Never raises for the endpoint's failures: a non-2xx answer, a timeout or a refused
    connection is an undelivered ``DeliveryOutcome`` for the caller to retry (the broker
    worker, with backoff). ``client`` is the caller's pooled client; one is made for the
    call when None. Redirects are not followed, as Stripe does not follow them.
    """
    timestamp = int(now if now is not None else time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(delivery.payload, delivery.secrets, timestamp=timestamp),
    }
    started = time.perf_counter()
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=delivery.timeout_s, follow_redirects=False) as own:
                response = await own.post(delivery.url, content=delivery.payload.encode(), headers=headers)
        else:
            response = await client.post(
                delivery.url, content=delivery.payload.encode(), headers=headers, timeout=delivery.timeout_s
            )
    except httpx.HTTPError as exc:
        return DeliveryOutcome(
            delivered=False,
            status_code=None,
            error=f"{type(exc).__name__}: {exc}"[:500],
            duration_s=time.perf_counter() - started,
        )
    delivered = response.is_success
    return DeliveryOutcome(
        delivered=delivered,
        status_code=response.status_code,
        error=None if delivered else f"HTTP {response.status_code}",
        duration_s=time.perf_counter() - started,
    )
