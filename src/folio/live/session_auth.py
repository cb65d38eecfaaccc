"""A live stream's caller from the web app's session cookie, for browsers signed in at ``/app``.

The web app keeps its sessions server-side (Flask-Session on the cache server, the
cookie ``folio_session`` holding only a random id; ``folio.webkit.sessions``). A stream
opened without a bearer token may present that cookie instead: the session's member is
resolved again now (``identity.api.principal_for``, on the primary), so a role change or
a removal counts at once, as on every page.

Cross-site WebSocket hijacking: a browser sends cookies with a WebSocket handshake a
page of *another* site opens, and no CORS check applies, so a cookie alone would let any
site a member visits stream their shop. A cookie is therefore only accepted with no
``Origin`` or the gateway's own: browsers send ``Origin`` on every WebSocket handshake
and every cross-origin request, so a request without one is not another site's page.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError, NotFoundError, PermissionDeniedError
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.identity import api as identity
from folio.webkit.access import SESSION_TENANT, SESSION_USER
from folio.webkit.sessions import COOKIE_NAME, KEY_PREFIX

__all__ = ["has_session_cookie", "is_own_origin", "session_caller"]


def has_session_cookie(connection: HTTPConnection) -> bool:
    """Whether the request carries the web app's session cookie."""
    return bool(connection.cookies.get(COOKIE_NAME))


def is_own_origin(connection: HTTPConnection, settings: Settings) -> bool:
    """Whether the request's ``Origin`` is absent or the gateway's own (its host, or ``public_url``)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    secure = connection.url.scheme in {"https", "wss"}
    own = {f"{'https' if secure else 'http'}://{connection.headers.get('host', '')}", settings.public_url}
    return origin.rstrip("/") in {url.rstrip("/") for url in own}


async def session_caller(
    connection: HTTPConnection, *, redis: Redis, db: Database, settings: Settings
) -> Principal:
    """The member whose web session ``connection``'s cookie names (call when ``has_session_cookie``).

    Raises ``PermissionDeniedError`` for another site's page (a foreign ``Origin``),
    ``InvalidCredentialsError`` when the session has ended or its member is gone.
    """
    if not is_own_origin(connection, settings):
        raise PermissionDeniedError("another site's page may not open the live stream with the session")
    stored = await redis.get(KEY_PREFIX + connection.cookies[COOKIE_NAME])
    try:
        # Flask-Session's storage format (msgpack): the bytes the web app itself reads.
        data: Any = msgspec.msgpack.decode(stored) if isinstance(stored, bytes) else {}
        tenant_id, user_id = uuid.UUID(str(data[SESSION_TENANT])), uuid.UUID(str(data[SESSION_USER]))
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        raise InvalidCredentialsError("the session has ended; sign in again") from None
    try:
        return await identity.principal_for(db, tenant_id=tenant_id, user_id=user_id)
    except NotFoundError:
        raise InvalidCredentialsError("the session's member is no longer in the shop") from None
