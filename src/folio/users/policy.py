"""What each role may do: the actions the users service authorises.

An action is ``<context>.<verb>``. The table is the one place a role's rights over
orders are decided for callers across services; the orders context still checks
its own invariants (a customer sees only their own orders).
"""

from __future__ import annotations

from collections.abc import Mapping

from folio.core.security import STAFF_ROLES, Role

__all__ = ["ACTIONS", "roles_for"]

_EVERY_ROLE = frozenset(Role)

ACTIONS: Mapping[str, frozenset[Role]] = {
    "orders.read": _EVERY_ROLE,  # carts, orders, watching one: customers see their own
    "orders.place": _EVERY_ROLE,  # filling a cart and checking it out
    "orders.cancel": _EVERY_ROLE,  # an unpaid order: customers their own, staff any
    "orders.fulfil": STAFF_ROLES,  # packing, shipping, delivering
}
"""Every action the users service knows, and the roles allowed to do it."""


def roles_for(action: str) -> frozenset[Role] | None:
    """The roles allowed ``action``, or None when the action is unknown."""
    return ACTIONS.get(action)
