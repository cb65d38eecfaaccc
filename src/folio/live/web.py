"""The live dashboard page, ``/app/live``: the shop's metrics as they happen, for its staff.

The page is server-rendered like every other; ``static/live.js`` then streams the
shop's metrics from ``/api/v1/live/ws`` (or ``/api/v1/live/events`` where WebSockets are
blocked) and draws them. The web session authenticates the page and ``/app/live/token``,
which hands the script a short-lived access token for the stream: the session cookie is
scoped to ``/app`` and a WebSocket authenticated by a cookie could be opened by any site
the member visits (cross-site WebSocket hijacking), whereas a token needs a same-origin
read. The script asks for a fresh token before every (re)connection.

The page's Content-Security-Policy is the web app's plus ``script-src 'self'`` and
``connect-src 'self'`` (its own script and its own origin's stream): still no inline
script or style.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

from folio.identity import api as identity
from folio.webkit.access import signed_in, staff_required
from folio.webkit.bridge import portal
from folio.webkit.security import CONTENT_SECURITY_POLICY

__all__ = ["LIVE_PAGE_POLICY", "blueprint"]

blueprint = Blueprint("live", __name__, template_folder="templates", static_folder="static")

LIVE_PAGE_POLICY = f"{CONTENT_SECURITY_POLICY}; script-src 'self'; connect-src 'self'"
"""The page's policy: the web app's, plus its own script and its own origin's stream."""


@blueprint.get("/")
@staff_required
def index() -> ResponseReturnValue:
    """The dashboard (staff only; customers get the 403 page)."""
    response = render_template("live/index.html")
    return response, 200, {"Content-Security-Policy": LIVE_PAGE_POLICY}


@blueprint.get("/token")
@staff_required
def token() -> ResponseReturnValue:
    """``{"access_token", "expires_in"}`` for the signed-in member: what the script streams with."""
    settings = portal().platform.settings
    issued = identity.issue_access_token(settings, signed_in())
    return jsonify(access_token=issued, expires_in=settings.identity.access_ttl_s)
