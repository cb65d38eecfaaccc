"""Folio's own orders as a client of each shop's payments account: their key and webhook endpoint.

The orders service opens Checkout Sessions on a shop's account with the official
``stripe`` library, so it needs that shop's secret key, and it learns that a session
was paid from a webhook, so the shop's account needs an endpoint pointing at Folio's
orders. ``orders_account`` provides both, idempotently, the first time a shop sells:

- The key is *derived*, not stored: its id and secret are an HMAC of the shop's id
  under the installation's secret (``security.secret_key``), so every process that
  holds that secret computes the same key and only its hash is kept, like any key.
  An owner who revokes it stops Folio's checkout for the shop (a clear error says so).
- The endpoint listens for the events the checkout saga follows; its signing secret
  is random and, as for any endpoint, kept by payments; ``orders_webhook_secrets``
  returns the live ones (two while a secret rolls) for the route that verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.db import Database
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter, tenant_scope
from folio.payments.errors import PaymentsAuthenticationError
from folio.payments.ids import UUID_CHARS, b62encode, new_id
from folio.payments.keys import KEY_PREFIX, SECRET_CHARS
from folio.payments.models import SecretKey, WebhookEndpoint
from folio.payments.webhooks import live_secrets, new_webhook_secret

__all__ = ["ORDERS_EVENTS", "ORDERS_KEY_NAME", "orders_account", "orders_webhook_secrets"]

ORDERS_KEY_NAME = "Folio orders"
"""The name the derived key carries in the shop's list of keys."""

ORDERS_EVENTS = ["checkout.session.completed", "checkout.session.expired", "charge.refunded"]
"""The events the checkout saga follows."""


def _derived(settings: Settings, tenant_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    secret = settings.security.secret_key.get_secret_value().encode()
    digest = hmac.new(secret, b"payments.orders-key:" + tenant_id.bytes, hashlib.sha512).digest()
    key_id = uuid.UUID(bytes=digest[:16], version=4)
    return key_id, b62encode(digest[16:40], SECRET_CHARS)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def orders_account(db: Database, *, settings: Settings, tenant_id: uuid.UUID, webhook_url: str) -> str:
    """The secret key Folio's orders use on shop ``tenant_id``'s account, its webhook endpoint ensured.

    Raises ``PaymentsAuthenticationError`` when the shop's owner revoked the key.
    """
    key_id, secret = _derived(settings, tenant_id)
    key = f"{KEY_PREFIX}{b62encode(tenant_id.bytes, UUID_CHARS)}{b62encode(key_id.bytes, UUID_CHARS)}{secret}"

    async def work(session: AsyncSession) -> None:
        row = await session.scalar(select(SecretKey).where(SecretKey.id == key_id, tenant_filter(SecretKey)))
        if row is None:
            session.add(
                SecretKey(
                    id=key_id,
                    tenant_id=tenant_id,
                    name=ORDERS_KEY_NAME,
                    secret_hash=_hash(secret),
                    hint=key[-4:],
                )
            )
        elif row.revoked_at is not None:
            raise PaymentsAuthenticationError(
                f"the shop's owner revoked the {ORDERS_KEY_NAME!r} key: Folio cannot take payments for it"
            )
        if await _endpoint(session, webhook_url) is None:
            session.add(
                WebhookEndpoint(
                    id=new_id("webhook_endpoint", tenant_id),
                    tenant_id=tenant_id,
                    created_at=utcnow(),
                    url=webhook_url,
                    enabled_events=list(ORDERS_EVENTS),
                    description=f"{ORDERS_KEY_NAME}: the checkout saga",
                    metadata_={},
                    status="enabled",
                    secret=new_webhook_secret(),
                )
            )

    with tenant_scope(tenant_id):
        await db.run(work)
    return key


async def _endpoint(session: AsyncSession, url: str) -> WebhookEndpoint | None:
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.url == url, tenant_filter(WebhookEndpoint))
        .order_by(WebhookEndpoint.created_at)
    )
    return rows.first()


async def orders_webhook_secrets(db: Database, *, tenant_id: uuid.UUID, webhook_url: str) -> list[str]:
    """The secrets signing the shop's events to ``webhook_url`` now (empty when it has no such endpoint)."""

    async def work(session: AsyncSession) -> list[str]:
        endpoint = await _endpoint(session, webhook_url)
        return [] if endpoint is None else live_secrets(endpoint, utcnow())

    with tenant_scope(tenant_id):
        return await db.run(work)
