"""Who is asking, per request: the session's member, re-checked, and the access guards of the views.

The session stores only ``tenant_id`` and ``user_id`` (plus names for the page header),
written by ``sign_in``. Before each view the member's current principal is resolved
again by the ``PrincipalLookup`` the web app's assembly installs
(``install_signed_in_caller``; identity's ``principal_for``), so a role change or a
removal takes effect on the member's very next click; a member who is gone is signed
out. The guards then compare that principal's role, never anything the session
claims. Platform operators (``security.platform_operators``) are asked of the
``OperatorCheck`` installed beside the lookup (identity's ``is_platform_operator``), in
the same call: being one does not depend on the shop or the role. Webkit itself knows
no context: it sits below identity.

Replicas: readonly service calls may go to a streaming replica, which can lag. Two
rules keep the web app from acting on stale data:

- The principal and the operator check are always resolved on the primary (both must
  read there: an access decision must see the role change or removal that just happened).
- For ``STICKY_PRIMARY_S`` after a member's successful POST, all of that member's reads
  go to the primary (``folio.core.db.pin_reads_to_primary``), so the page they are
  redirected to shows what they just did (the gateway's read-your-writes scope only
  spans one request).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from folio.core.db import Database, pin_reads_to_primary
from folio.core.errors import AuthenticationRequiredError, NotFoundError
from folio.core.security import Principal
from folio.webkit.bridge import portal
from folio.webkit.security import STATIC_ENDPOINT
from folio.webkit.sessions import rotate_session

__all__ = [
    "OperatorCheck",
    "PrincipalLookup",
    "current_principal",
    "install_signed_in_caller",
    "is_operator",
    "login_required",
    "manager_required",
    "operator_required",
    "safe_next",
    "sign_in",
    "sign_out",
    "signed_in",
    "staff_required",
]


class PrincipalLookup(Protocol):
    """Resolves a session's member to their principal now (identity's ``principal_for``).

    Must read on the primary, and must raise ``NotFoundError`` when the user is no
    longer a member of the shop (the session is then signed out).
    """

    def __call__(self, db: Database, /, *, tenant_id: uuid.UUID, user_id: uuid.UUID) -> Awaitable[Principal]:
        """The principal ``user_id`` is in shop ``tenant_id``, with their current role."""


class OperatorCheck(Protocol):
    """Whether a user is one of the installation's platform operators (identity's ``is_platform_operator``).

    Must read on the primary, like the lookup.
    """

    def __call__(self, db: Database, /, *, user_id: uuid.UUID) -> Awaitable[bool]:
        """True when ``user_id`` operates the platform, whatever shop they are signed in to."""


_LOOKUP = "folio.principal_lookup"
_OPERATOR_CHECK = "folio.operator_check"

SESSION_TENANT = "tenant_id"
SESSION_USER = "user_id"
SESSION_PRIMARY_UNTIL = "primary_until"

STICKY_PRIMARY_S = 10.0
"""How long after a successful POST a session's reads stay on the primary (replica lag is far shorter)."""

SUCCESS_LIMIT = 400

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


def install_signed_in_caller(app: Flask, *, lookup: PrincipalLookup, operator_check: OperatorCheck) -> None:
    """Resolve the session's member (``lookup``, ``operator_check``) before each page; pin reads after a POST.

    The web app's assembly calls this once, with identity's lookup and check.
    """
    app.extensions[_LOOKUP] = lookup
    app.extensions[_OPERATOR_CHECK] = operator_check

    @app.before_request
    def _principal() -> None:
        if request.endpoint != STATIC_ENDPOINT:
            _load_principal()

    app.after_request(_remember_writes)


def current_principal() -> Principal | None:
    """The signed-in member of this request, or None."""
    principal: Principal | None = g.get("principal")
    return principal


def is_operator() -> bool:
    """Whether this request's signed-in member is a platform operator (False when nobody is signed in)."""
    return bool(g.get("operator", False))


def signed_in() -> Principal:
    """The signed-in member (views behind a guard); ``AuthenticationRequiredError`` when there is none."""
    principal = current_principal()
    if principal is None:
        raise AuthenticationRequiredError("log in first")
    return principal


def sign_in(*, tenant_id: uuid.UUID, user_id: uuid.UUID, **shown: str) -> None:
    """Start a fresh session for ``user_id`` in shop ``tenant_id``; ``shown``: names the header shows."""
    rotate_session(**{SESSION_TENANT: str(tenant_id), SESSION_USER: str(user_id)}, **shown)


def sign_out() -> None:
    """End the session: its data is dropped and its id forgotten."""
    rotate_session()


def _load_principal() -> None:
    """Resolve the session's member into ``g.principal`` and ``g.operator`` (before every view)."""
    g.principal, g.operator = None, False
    tenant_id, user_id = session.get(SESSION_TENANT), session.get(SESSION_USER)
    if not tenant_id or not user_id:
        return
    here = portal()
    sticky = float(session.get(SESSION_PRIMARY_UNTIL) or 0) > time.time()
    try:
        g.principal, g.operator = here.call(
            _resolve_principal,
            current_app.extensions[_LOOKUP],
            current_app.extensions[_OPERATOR_CHECK],
            here.database,
            tenant_id=uuid.UUID(str(tenant_id)),
            user_id=uuid.UUID(str(user_id)),
            sticky=sticky,
        )
    except (NotFoundError, ValueError):
        session.clear()
        flash("You are no longer a member of that shop; you have been signed out.", "warning")


def _remember_writes(response: Response) -> Response:
    """After a successful POST, keep this session's reads on the primary for a while (after every view)."""
    if request.method == "POST" and response.status_code < SUCCESS_LIMIT:
        session[SESSION_PRIMARY_UNTIL] = time.time() + STICKY_PRIMARY_S
    return response


async def _resolve_principal(
    lookup: PrincipalLookup,
    operator_check: OperatorCheck,
    db: Database,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    sticky: bool,
) -> tuple[Principal, bool]:
    """The member's principal and whether they are an operator, read on the primary.

    ``sticky`` pins the whole request there too. One portal call for both: the view
    thread waits on the loop once.
    """
    if sticky:
        pin_reads_to_primary()
    principal = await lookup(db, tenant_id=tenant_id, user_id=user_id)
    return principal, await operator_check(db, user_id=user_id)


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

operator_required = _guard(lambda _principal: is_operator())
"""Only platform operators, whatever their role in the shop they are in (the ops and trace pages)."""


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path inside the web app, else ``default`` (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    root = request.script_root + "/"
    if parts.scheme or parts.netloc or not parts.path.startswith(root) or "\\" in target:
        return default
    return target
