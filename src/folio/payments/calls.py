"""What every payments use case runs with: the call (shop, time, request, simulation) and its outcome.

A use case is ``async def op(session, call, ...) -> Outcome``: it runs inside one unit
of work in the shop's tenant scope, changes rows, records events, and returns the
status and Stripe JSON body to answer with. A card decline is an outcome too (402 and
its error body), not an exception, because the failed attempt is a state change that
must commit; an exception rolls the unit back and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.columns import utcnow
from folio.core.settings import Settings
from folio.core.tenancy import tenant_filter
from folio.payments.errors import PaymentsError, no_such
from folio.payments.ids import tenant_of
from folio.payments.models import StripeRow
from folio.payments.settings import Simulation

__all__ = ["Call", "Outcome", "allowed_simulation", "find", "get_locked", "get_or_404", "timestamp"]

RowT = TypeVar("RowT", bound=StripeRow)


@dataclass(frozen=True)
class Call:
    """One request to the Stripe-compatible API (or the hosted page), as the use cases see it.

    ``base_url`` is where Folio's public pages live (``<base_url>/app/pay/...``);
    ``simulate`` is the failure to inject, already checked against the settings.
    """

    tenant_id: uuid.UUID
    settings: Settings
    base_url: str
    request_id: str | None = None
    idempotency_key: str | None = None
    simulate: Simulation | None = None
    now: dt.datetime = field(default_factory=utcnow)

    @property
    def api_version(self) -> str:
        """The Stripe API version objects and events are shaped after."""
        return self.settings.payments.api_version


@dataclass(frozen=True)
class Outcome:
    """What a call answers: an HTTP status and a Stripe JSON body (an object, a list or an error)."""

    status: int
    body: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Outcome:
        """A 200 with ``body``."""
        return cls(200, body)

    @classmethod
    def failed(cls, error: PaymentsError) -> Outcome:
        """``error``'s status and envelope, for a failure that committed (a declined card)."""
        return cls(error.status, error.envelope())


def allowed_simulation(settings: Settings, asked: Simulation | None = None) -> Simulation | None:
    """The failure to inject: ``asked``, else ``payments.simulate``; none in ``prod`` or when disabled."""
    if settings.profile == "prod" or not settings.payments.simulation_enabled:
        return None
    return asked or settings.payments.simulate


def timestamp(moment: dt.datetime | None) -> int | None:
    """``moment`` as Stripe writes times: whole seconds since the epoch (None stays None)."""
    return None if moment is None else int(moment.timestamp())


def _select(model: type[RowT], object_id: str, tenant_id: uuid.UUID) -> Any:
    return (
        select(model).where(model.id == object_id, tenant_filter(model))
        if tenant_of(object_id) == tenant_id
        else None
    )


async def find(session: AsyncSession, model: type[RowT], object_id: str | None) -> RowT | None:
    """The ``model`` row ``object_id`` in the shop in scope, or None (also for a None id)."""
    if object_id is None:
        return None
    found: RowT | None = (
        await session.scalars(select(model).where(model.id == object_id, tenant_filter(model)))
    ).one_or_none()
    return found


async def get_or_404(
    session: AsyncSession, model: type[RowT], object_id: str, *, call: Call, name: str, param: str = "id"
) -> RowT:
    """The shop's ``model`` row ``object_id``; Stripe's 404 (``No such <name>``) when there is none.

    An id that names another shop is refused without a query.
    """
    query = _select(model, object_id, call.tenant_id)
    row: RowT | None = None if query is None else (await session.scalars(query)).one_or_none()
    if row is None:
        raise no_such(name, object_id, param=param)
    return row


async def get_locked(
    session: AsyncSession, model: type[RowT], object_id: str, *, call: Call, name: str, param: str = "id"
) -> RowT:
    """``get_or_404`` with the row locked (``SELECT ... FOR UPDATE``) until the unit ends.

    Two calls changing one object (two confirms, two partial refunds) run one after the
    other, each seeing the other's result; SQLite ignores the clause and serialises
    writers itself.
    """
    query = _select(model, object_id, call.tenant_id)
    row: RowT | None = (
        None if query is None else (await session.scalars(query.with_for_update())).one_or_none()
    )
    if row is None:
        raise no_such(name, object_id, param=param)
    return row
