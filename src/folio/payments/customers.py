"""Customers: create, retrieve, update, list, delete (``/v1/customers``).

Deleting keeps the row: a deleted customer is retrieved as Stripe's deleted stub,
drops out of lists, and refuses updates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from folio.payments.calls import Call, Outcome, get_locked, get_or_404
from folio.payments.errors import no_such
from folio.payments.events import changed_attributes, record_event
from folio.payments.ids import new_id
from folio.payments.listing import list_page
from folio.payments.models import Customer
from folio.payments.objects import Renderer, customer_object, deleted_object
from folio.payments.schemas import CustomerCreate, CustomerList, CustomerUpdate, NoParams

__all__ = [
    "create_customer",
    "delete_customer",
    "get_live_customer",
    "list_customers",
    "merge_metadata",
    "retrieve_customer",
    "update_customer",
]


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe's metadata update: sent keys are set, a key sent empty is removed, others stay."""
    if update is None:
        return current
    if not update:  # metadata="" clears it all
        return {}
    merged = {**current, **update}
    return {key: value for key, value in merged.items() if value != ""}


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


async def get_live_customer(session: AsyncSession, call: Call, customer_id: str, *, param: str) -> Customer:
    """The shop's customer ``customer_id``, not deleted (Stripe's 404 otherwise, naming ``param``)."""
    row = await get_or_404(session, Customer, customer_id, call=call, name="customer", param=param)
    if row.deleted_at is not None:
        raise no_such("customer", customer_id, param=param)
    return row


async def create_customer(session: AsyncSession, call: Call, params: CustomerCreate) -> Outcome:
    """Create a customer (event ``customer.created``)."""
    row = Customer(
        id=new_id("customer", call.tenant_id),
        tenant_id=call.tenant_id,
        created_at=call.now,
        email=params.email,
        name=params.name,
        description=params.description,
        phone=params.phone,
        metadata_=merge_metadata({}, params.metadata),
    )
    session.add(row)
    await record_event(session, call, "customer.created", customer_object(row))
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


async def retrieve_customer(session: AsyncSession, call: Call, customer_id: str, params: NoParams) -> Outcome:
    """A customer; a deleted one as its deleted stub."""
    row = await get_or_404(session, Customer, customer_id, call=call, name="customer")
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


async def update_customer(
    session: AsyncSession, call: Call, customer_id: str, params: CustomerUpdate
) -> Outcome:
    """Change what ``params`` sends (event ``customer.updated`` with the previous values)."""
    row = await get_locked(session, Customer, customer_id, call=call, name="customer")
    if row.deleted_at is not None:
        raise no_such("customer", customer_id)
    before = customer_object(row)
    sent = params.model_fields_set
    for field in ("email", "name", "description", "phone"):
        if field in sent:
            setattr(row, field, _blank_to_none(getattr(params, field)))
    row.metadata_ = merge_metadata(row.metadata_, params.metadata)
    after = customer_object(row)
    previous = changed_attributes(before, after)
    if previous:
        await record_event(session, call, "customer.updated", after, previous=previous)
    return Outcome.of(await Renderer(session, call).render(row, params.expand))


async def delete_customer(session: AsyncSession, call: Call, customer_id: str) -> Outcome:
    """Delete a customer (event ``customer.deleted``); deleting twice is Stripe's 404."""
    row = await get_locked(session, Customer, customer_id, call=call, name="customer")
    if row.deleted_at is not None:
        raise no_such("customer", customer_id)
    snapshot = customer_object(row)
    row.deleted_at = call.now
    await record_event(session, call, "customer.deleted", snapshot)
    return Outcome.of(deleted_object("customer", row.id))


async def list_customers(session: AsyncSession, call: Call, params: CustomerList) -> Outcome:
    """The shop's customers, newest first, optionally those with one ``email``; deleted ones left out."""
    filters: list[ColumnElement[bool]] = [Customer.deleted_at.is_(None)]
    if params.email is not None:
        filters.append(Customer.email == params.email)
    return Outcome.of(
        await list_page(
            session, call, Customer, params, url="/v1/customers", name="customer", filters=filters
        )
    )
