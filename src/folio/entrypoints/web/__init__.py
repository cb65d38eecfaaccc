"""The staff web app (Flask, server-rendered), mounted under the gateway at ``/app``.

Key contracts:

- ``mount_web_app(app, settings)`` mounts the Flask app (``app.create_web_app``) into the
  gateway through a2wsgi's ``WSGIMiddleware``; Flask views run in a2wsgi's worker
  threads and reach the async services on the gateway's own loop through the loop
  portal (``folio.webkit.bridge``). The web app owns no event loop and no ``Database``.
- This package only assembles: each context's pages are its ``web`` module (identity's
  sign-in and members pages, tasks' board, search's page), the shared mechanics are
  ``folio.webkit``; here are the Flask app, the base layout, the stylesheet, the error
  pages and the developer pages.
- Sessions are server-side (the platform's Redis client, or files in lite mode), the
  cookie HttpOnly and SameSite=Lax; every POST form carries a CSRF token; every response
  carries a strict CSP with no inline script or style (the pages use no JavaScript at all).
- The board is for staff (owner, admin, staff): a customer gets a 403 page there.
  Member management is for owners and admins; ``/app/dev/outbox`` exists only in the
  ``dev`` and ``test`` profiles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from starlette.routing import Mount
from starlette.types import ASGIApp

from folio.core.settings import Settings
from folio.entrypoints.web.app import MOUNT_PATH, create_web_app
from folio.webkit.bridge import PortalMiddleware

__all__ = ["mount_web_app"]

WSGI_WORKERS = 16
"""Flask requests served at once (a2wsgi worker threads); each may wait on one service call."""


def mount_web_app(app: FastAPI, settings: Settings) -> None:
    """Mount the web app under ``/app`` of the gateway ``app`` (connects to nothing).

    Starlette does not pass lifespan events to mounted apps, so the gateway's lifespan
    is wrapped: when it ends, the web app's worker threads stop. The session store's
    client is the platform's, closed with it.
    """
    flask_app = create_web_app(settings)
    wsgi = WSGIMiddleware(flask_app, workers=WSGI_WORKERS)  # type: ignore[arg-type]  # Flask is a WSGI app
    portal = PortalMiddleware(cast("ASGIApp", wsgi), host=app)
    mount = Mount(MOUNT_PATH, app=portal, name="web")
    app.router.routes.append(mount)
    portal.route = mount
    gateway_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: FastAPI) -> AsyncIterator[Any]:  # the gateway's state, passed through
        try:
            async with gateway_lifespan(host) as state:
                yield state
        finally:
            wsgi.executor.shutdown(wait=False)

    app.router.lifespan_context = lifespan
