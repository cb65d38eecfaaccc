"""The audit context's public surface: what other contexts and entry points may import.

Key contracts: ``record_event(session, ...)`` writes in the caller's transaction (the
event commits with the change, or not at all); ``actor_of(principal)`` names who acts;
``record_change_event(session, principal, ...)`` is the same for a change the caller
made in its own shop; events are append-only (see ``folio.audit.service``) and only
managers read them.
"""

from __future__ import annotations

from folio.audit.schemas import ActorKind, AuditEventRead, AuditPage
from folio.audit.service import (
    actor_of,
    list_events,
    list_tenant_events,
    record_change_event,
    record_event,
)

__all__ = [
    "ActorKind",
    "AuditEventRead",
    "AuditPage",
    "actor_of",
    "list_events",
    "list_tenant_events",
    "record_change_event",
    "record_event",
]
