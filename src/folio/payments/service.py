"""Payments use cases for Folio's own callers (the hosted page, workers, operators), over a ``Database``.

The Stripe-compatible API reaches the use cases through ``folio.payments.http`` and
``idempotency.perform``; these functions serve the rest: the shop is read from the
object's id (``folio.payments.ids``), each runs one unit of work in that shop's scope
on the primary, and they raise ``NotFoundError`` for an id that is not one of ours.
"""

from __future__ import annotations

import hmac
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import Database
from folio.core.errors import NotFoundError
from folio.core.settings import Settings
from folio.core.tenancy import tenant_scope
from folio.payments import checkout
from folio.payments.calls import Call, find
from folio.payments.ids import tenant_of
from folio.payments.models import Charge
from folio.payments.receipts import Receipt, load_receipt, queue_receipt_mail, receipt_token
from folio.payments.schemas import CardDetails
from folio.payments.settings import Simulation

__all__ = [
    "expire_overdue_checkout_sessions",
    "get_receipt",
    "pay_checkout_session",
    "send_receipt",
    "view_checkout_session",
]


def _call(
    settings: Settings, tenant_id: uuid.UUID, base_url: str | None, simulate: Simulation | None = None
) -> Call:
    return Call(
        tenant_id=tenant_id, settings=settings, base_url=base_url or settings.public_url, simulate=simulate
    )


def _tenant(object_id: str, what: str) -> uuid.UUID:
    tenant_id = tenant_of(object_id)
    if tenant_id is None:
        raise NotFoundError(f"no such {what}")
    return tenant_id


async def _succeeded_charge(session: AsyncSession, charge_id: str) -> Charge:
    charge = await find(session, Charge, charge_id)
    if charge is None or charge.status != "succeeded":
        raise NotFoundError("no such receipt")
    return charge


async def get_receipt(
    db: Database, *, settings: Settings, charge_id: str, token: str | None = None, base_url: str | None = None
) -> Receipt:
    """The receipt of succeeded charge ``charge_id``; with ``token``, only if it is the receipt link's.

    ``NotFoundError`` for anything else (an unknown charge, a failed one, a wrong token),
    so a guessed link learns nothing. Gives the charge its receipt number if it had none.
    """
    tenant_id = _tenant(charge_id, "receipt")
    call = _call(settings, tenant_id, base_url)
    if token is not None and not hmac.compare_digest(token, receipt_token(call, charge_id)):
        raise NotFoundError("no such receipt")

    async def work(session: AsyncSession) -> Receipt:
        return await load_receipt(session, call, await _succeeded_charge(session, charge_id))

    with tenant_scope(tenant_id):
        return await db.run(work)


async def send_receipt(
    db: Database,
    *,
    settings: Settings,
    charge_id: str,
    recipient: str | None = None,
    base_url: str | None = None,
) -> Receipt:
    """Queue the receipt of succeeded charge ``charge_id`` to ``recipient`` (default: its receipt e-mail).

    Raises ``NotFoundError`` as ``get_receipt`` does, and ``ValueError`` when there is no
    one to send it to.
    """
    tenant_id = _tenant(charge_id, "receipt")
    call = _call(settings, tenant_id, base_url)

    async def work(session: AsyncSession) -> Receipt:
        charge = await _succeeded_charge(session, charge_id)
        to = recipient or charge.receipt_email
        if to is None:
            raise ValueError(f"charge {charge_id} has no receipt e-mail; name a recipient")
        return await queue_receipt_mail(session, call, charge, recipient=to)

    with tenant_scope(tenant_id):
        return await db.run(work)


async def view_checkout_session(
    db: Database, *, settings: Settings, session_id: str, base_url: str
) -> checkout.CheckoutView:
    """What the hosted page shows of checkout session ``session_id`` (expiring it if its time ran out)."""
    tenant_id = _tenant(session_id, "checkout session")
    call = _call(settings, tenant_id, base_url)

    async def work(session: AsyncSession) -> checkout.CheckoutView:
        return await checkout.view_checkout_session(session, call, session_id)

    with tenant_scope(tenant_id):
        return await db.run(work)


async def pay_checkout_session(
    db: Database,
    *,
    settings: Settings,
    session_id: str,
    card: CardDetails,
    email: str | None,
    base_url: str,
    simulate: Simulation | None = None,
) -> checkout.PaymentAttempt:
    """Pay checkout session ``session_id`` with ``card`` (the hosted page); see ``checkout``."""
    tenant_id = _tenant(session_id, "checkout session")
    call = _call(settings, tenant_id, base_url, simulate)

    async def work(session: AsyncSession) -> checkout.PaymentAttempt:
        return await checkout.pay_checkout_session(session, call, session_id, card=card, email=email)

    with tenant_scope(tenant_id):
        return await db.run(work)


async def expire_overdue_checkout_sessions(
    db: Database, *, settings: Settings, tenant_id: uuid.UUID, limit: int = 100
) -> int:
    """Expire up to ``limit`` of the shop's open sessions past their ``expires_at`` (a scheduler's job)."""
    call = _call(settings, tenant_id, None)

    async def work(session: AsyncSession) -> int:
        return await checkout.expire_overdue_sessions(session, call, limit=limit)

    with tenant_scope(tenant_id):
        return await db.run(work)
