"""Refunds: all of what is left of a captured charge, or part of it (``/v1/refunds``).

The charge is locked while a refund is made, so concurrent partial refunds never add
up to more than was captured. A refund succeeds at once (test mode) and records
``refund.created`` and ``charge.refunded`` (with the charge's previous
``amount_refunded``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from folio.payments.calls import Call, Outcome, get_locked, get_or_404
from folio.payments.customers import merge_metadata
from folio.payments.errors import InvalidRequestError
from folio.payments.events import changed_attributes, record_event
from folio.payments.ids import new_id
from folio.payments.listing import list_page
from folio.payments.models import Charge, PaymentIntent, Refund
from folio.payments.objects import Renderer, refund_object
from folio.payments.receipts import format_amount
from folio.payments.schemas import NoParams, RefundCreate, RefundList

__all__ = ["create_refund", "list_refunds", "retrieve_refund"]


async def _charge_to_refund(session: AsyncSession, call: Call, params: RefundCreate) -> Charge:
    if params.charge is not None:
        return await get_locked(session, Charge, params.charge, call=call, name="charge", param="charge")
    if params.payment_intent is None:
        raise InvalidRequestError(
            "One of the following params should be provided for this request: charge or payment_intent.",
            code="parameter_missing",
            param="charge",
        )
    intent = await get_or_404(
        session,
        PaymentIntent,
        params.payment_intent,
        call=call,
        name="payment_intent",
        param="payment_intent",
    )
    if intent.status != "succeeded" or intent.latest_charge_id is None:
        raise InvalidRequestError(
            f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
            code="charge_not_refundable",
            param="payment_intent",
        )
    return await get_locked(session, Charge, intent.latest_charge_id, call=call, name="charge")


async def create_refund(session: AsyncSession, call: Call, params: RefundCreate) -> Outcome:
    """Refund ``amount`` (default: all that is left) of a captured charge."""
    charge = await _charge_to_refund(session, call, params)
    if charge.status != "succeeded" or not charge.captured:
        raise InvalidRequestError(
            f"Charge {charge.id} has not been captured and cannot be refunded.",
            code="charge_not_refundable",
            param="charge",
        )
    left = charge.amount_captured - charge.amount_refunded
    if left <= 0:
        raise InvalidRequestError(
            f"Charge {charge.id} has already been refunded.", code="charge_already_refunded", param="charge"
        )
    amount = params.amount if params.amount is not None else left
    if amount > left:
        raise InvalidRequestError(
            f"Refund amount ({format_amount(amount, charge.currency)}) is greater than unrefunded amount "
            f"on charge ({format_amount(left, charge.currency)})",
            code="amount_too_large",
            param="amount",
        )
    refund = Refund(
        id=new_id("refund", call.tenant_id),
        tenant_id=call.tenant_id,
        created_at=call.now,
        charge_id=charge.id,
        payment_intent_id=charge.payment_intent_id,
        amount=amount,
        currency=charge.currency,
        status="succeeded",
        reason=params.reason,
        metadata_=merge_metadata({}, params.metadata),
    )
    session.add(refund)
    renderer = Renderer(session, call)
    before = await renderer.render(charge)
    charge.amount_refunded += amount
    after = await renderer.render(charge)
    await record_event(session, call, "refund.created", refund_object(refund))
    await record_event(session, call, "charge.refunded", after, previous=changed_attributes(before, after))
    return Outcome.of(await renderer.render(refund, params.expand))


async def retrieve_refund(session: AsyncSession, call: Call, refund_id: str, params: NoParams) -> Outcome:
    """A refund."""
    refund = await get_or_404(session, Refund, refund_id, call=call, name="refund")
    return Outcome.of(await Renderer(session, call).render(refund, params.expand))


async def list_refunds(session: AsyncSession, call: Call, params: RefundList) -> Outcome:
    """The shop's refunds, newest first, optionally one charge's or one intent's."""
    filters: list[Any] = []
    if params.charge is not None:
        filters.append(Refund.charge_id == params.charge)
    if params.payment_intent is not None:
        filters.append(Refund.payment_intent_id == params.payment_intent)
    return Outcome.of(
        await list_page(session, call, Refund, params, url="/v1/refunds", name="refund", filters=filters)
    )
