"""Whose handlers the worker runs: each context's ``consumers.register``, in one list.

Adding a context's handlers is one import and one entry here (``folio queues`` reads
the same list, so it knows the queues too)::

    from folio.payments import consumers as payments_consumers

    REGISTRARS: tuple[Registrar, ...] = (payments_consumers.register,)

The shape of a ``consumers.py`` is in ``folio.messaging.registry`` and docs/workers.md.
"""

from __future__ import annotations

from folio.messaging.api import Registrar
from folio.orders import consumers as orders_consumers
from folio.payments import consumers as payments_consumers

__all__ = ["REGISTRARS"]

REGISTRARS: tuple[Registrar, ...] = (payments_consumers.register, orders_consumers.register)
"""Every context's registrar, in the order their queues are declared."""
