"""Who is asking, per request: the session's member, re-checked, and the role guards of the views.

The session stores only ``tenant_id`` and ``user_id`` (plus names for the page header).
Before each view the member's current principal is resolved again with
``identity.api.principal_for``, so a role change or a removal takes effect on the
member's very next click; a member who is gone is signed out. The guards then
compare that principal's role, never anything the session claims.

Replicas: readonly service calls may go to a streaming replica, which can lag. Two
rules keep the web app from acting on stale data:

- The principal is always resolved on the primary (``identity.api.principal_for``
  reads there: an access decision must see the role change or removal that just happened).
- For ``STICKY_PRIMARY_S`` after a member's successful POST, all of that member's reads
  go to the primary (``folio.core.db.pin_reads_to_primary``), so the page they are
  redirected to shows what they just did (the gateway's read-your-writes scope only
  spans one request).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Response, abort, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from folio.core.db import Database, pin_reads_to_primary
from folio.core.errors import AuthenticationRequiredError, NotFoundError, ServiceUnavailableError
from folio.core.security import Principal
from folio.entrypoints.web.bridge import SCOPE_KEY, LoopPortal
from folio.identity import api as identity

__all__ = [
    "current_principal",
    "load_principal",
    "login_required",
    "manager_required",
    "portal",
    "remember_writes",
    "safe_next",
    "signed_in",
    "staff_required",
]

P = ParamSpec("P")

SESSION_TENANT = "tenant_id"
SESSION_USER = "user_id"
SESSION_PRIMARY_UNTIL = "primary_until"

STICKY_PRIMARY_S = 10.0
"""How long after a successful POST a session's reads stay on the primary (replica lag is far shorter)."""

SUCCESS_LIMIT = 400

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


def portal() -> LoopPortal:
    """This request's portal to the gateway's loop and platform (503 before the lifespan ran)."""
    found = request.environ.get("asgi.scope", {}).get(SCOPE_KEY)
    if not isinstance(found, LoopPortal):
        raise ServiceUnavailableError("the web app is not connected to the gateway yet")
    return found


def current_principal() -> Principal | None:
    """The signed-in member of this request, or None."""
    principal: Principal | None = g.get("principal")
    return principal


def signed_in() -> Principal:
    """The signed-in member (views behind a guard); ``AuthenticationRequiredError`` when there is none."""
    principal = current_principal()
    if principal is None:
        raise AuthenticationRequiredError("log in first")
    return principal


def load_principal() -> None:
    """Resolve the session's member into ``g.principal`` (before every view)."""
    g.principal = None
    tenant_id, user_id = session.get(SESSION_TENANT), session.get(SESSION_USER)
    if not tenant_id or not user_id:
        return
    here = portal()
    sticky = float(session.get(SESSION_PRIMARY_UNTIL) or 0) > time.time()
    try:
        g.principal = here.call(
            _resolve_principal,
            here.database,
            tenant_id=uuid.UUID(str(tenant_id)),
            user_id=uuid.UUID(str(user_id)),
            sticky=sticky,
        )
    except (NotFoundError, ValueError):
        session.clear()
        flash("You are no longer a member of that shop; you have been signed out.", "warning")


def remember_writes(response: Response) -> Response:
    """After a successful POST, keep this session's reads on the primary for a while (after every view)."""
    if request.method == "POST" and response.status_code < SUCCESS_LIMIT:
        session[SESSION_PRIMARY_UNTIL] = time.time() + STICKY_PRIMARY_S
    return response


async def _resolve_principal(
    db: Database, *, tenant_id: uuid.UUID, user_id: uuid.UUID, sticky: bool
) -> Principal:
    """The member's principal, read on the primary; ``sticky`` pins the whole request there too."""
    if sticky:
        pin_reads_to_primary()
    return await identity.principal_for(db, tenant_id=tenant_id, user_id=user_id)


def _guard(check: Callable[[Principal], bool]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: object, **kwargs: object) -> ResponseReturnValue:
            principal = current_principal()
            if principal is None:
                flash("Please log in first.", "info")
                return redirect(
                    url_for("auth.login", next=request.script_root + request.full_path.rstrip("?"))
                )
            if not check(principal):
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]  # same signature as ``view``

    return decorate


login_required = _guard(lambda _principal: True)
"""Only signed-in members; anonymous visitors go to the login page."""

staff_required = _guard(lambda principal: principal.is_staff)
"""Only owners, admins and staff (customers get the 403 page: the board is staff-only)."""

manager_required = _guard(lambda principal: principal.is_manager)
"""Only owners and admins (member management)."""


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path inside the web app, else ``default`` (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    root = request.script_root + "/"
    if parts.scheme or parts.netloc or not parts.path.startswith(root) or "\\" in target:
        return default
    return target
