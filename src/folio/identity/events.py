"""What identity publishes on the outbox (topic ``identity``): shops registered, members coming and going.

Payloads carry ids and roles, never e-mail addresses or names of people: a consumer
that needs more asks identity's api. ``schema_version`` is 1 for every type; a change
that removes or renames a field is a new version, published beside the old one.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.outbox import add_outbox_event

__all__ = [
    "EVENT_TYPES",
    "MEMBER_ADDED",
    "MEMBER_REMOVED",
    "MEMBER_ROLE_CHANGED",
    "SHOP_REGISTERED",
    "TOPIC",
    "publish_member_event",
    "publish_shop_registered",
]

TOPIC = "identity"
"""The outbox topic every identity event is published on."""
SHOP_REGISTERED = "ShopRegistered"
MEMBER_ADDED = "MemberAdded"
MEMBER_ROLE_CHANGED = "MemberRoleChanged"
MEMBER_REMOVED = "MemberRemoved"
EVENT_TYPES = (SHOP_REGISTERED, MEMBER_ADDED, MEMBER_ROLE_CHANGED, MEMBER_REMOVED)
"""Every type identity publishes."""


async def publish_shop_registered(
    session: AsyncSession, *, tenant_id: uuid.UUID, slug: str, plan: str, owner_id: uuid.UUID
) -> None:
    """Publish ``ShopRegistered`` in the registration's transaction."""
    await add_outbox_event(
        session,
        topic=TOPIC,
        key=str(tenant_id),
        type=SHOP_REGISTERED,
        payload={"slug": slug, "plan": plan, "owner_id": str(owner_id)},
        tenant_id=tenant_id,
    )


async def publish_member_event(
    session: AsyncSession,
    kind: str,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    previous_role: str | None = None,
) -> None:
    """Publish a member event (``kind``: added, role changed, removed) in the caller's transaction.

    ``role`` is the member's role after the change (the one they had, for a removal).
    """
    if kind not in EVENT_TYPES[1:]:
        raise ValueError(f"{kind!r} is not a member event")
    payload: dict[str, str] = {"user_id": str(user_id), "role": role}
    if previous_role is not None:
        payload["previous_role"] = previous_role
    await add_outbox_event(
        session, topic=TOPIC, key=str(user_id), type=kind, payload=payload, tenant_id=tenant_id
    )
