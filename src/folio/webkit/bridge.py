"""The loop portal: how the synchronous Flask views call Folio's async services.

Why a portal, and not ``asyncio.run`` in each view:

- The web app is a WSGI (Flask) app mounted inside the gateway's ASGI app with
  a2wsgi's ``WSGIMiddleware``. a2wsgi runs each Flask request in one of its worker
  threads while the gateway's event loop goes on serving other requests.
- The domain services are coroutines bound to the gateway's ``Database``, whose
  connection pools (asyncpg, aiosqlite) belong to the loop that opened them. Running a
  service on a new loop in the Flask thread (``asyncio.run``) would hand a pooled
  connection to a foreign loop and fail, and a second ``Database`` per thread would
  double every pool. So the web app owns no loop and no ``Database``: a view submits
  the coroutine to the gateway's own loop with ``asyncio.run_coroutine_threadsafe``
  and blocks its worker thread (never the loop) on the result.

Where the loop comes from: ``PortalMiddleware`` wraps the WSGI app. Each HTTP request
reaches it on the gateway's loop, where it reads ``asyncio.get_running_loop()`` and
the wired platform (``app.state.platform``, set by the gateway's lifespan) and puts a
``LoopPortal`` in the ASGI scope; a2wsgi passes the scope to Flask as
``environ["asgi.scope"]``, where a view finds it with ``portal()``. Capturing per
request (it costs two attribute reads) rather than once keeps the portal right when a
process runs the app on several loops in turn (each test gets a fresh loop) and needs
no hook in the gateway's lifespan.

Context: a2wsgi runs the view in a copy of the request's ``contextvars`` context, and
``run_coroutine_threadsafe`` schedules the coroutine in a copy of the *view thread's*
context, so the correlation id and the request's read-your-writes scope reach the
service unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from flask import request
from starlette.types import ASGIApp, Receive, Scope, Send

from folio.core.db import Database
from folio.core.errors import ServiceUnavailableError
from folio.core.platform import Platform
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings

__all__ = ["SCOPE_KEY", "LoopPortal", "PortalMiddleware", "find_portal", "portal"]

P = ParamSpec("P")
T = TypeVar("T")

SCOPE_KEY = "folio.portal"
"""The ASGI scope key (and so ``environ["asgi.scope"]`` key) the request's portal sits under."""

DEFAULT_TIMEOUT_S = 30.0
"""Longest a view waits for one service call before giving up (the loop keeps no thread hostage)."""


class _HasState(Protocol):
    """The FastAPI app, as far as the portal needs it: its ``state``."""

    @property
    def state(self) -> Any:  # starlette's State is an attribute bag
        """The app state holding ``platform``."""


@dataclass(frozen=True)
class LoopPortal:
    """The gateway's event loop and platform, callable from a Flask worker thread.

    Never call ``call`` on the loop's own thread: it would wait for work that the
    blocked loop can never run (the portal refuses with ``RuntimeError``).
    """

    loop: asyncio.AbstractEventLoop
    platform: Platform
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def database(self) -> Database:
        """The gateway's database."""
        return self.platform.database

    @property
    def settings(self) -> Settings:
        """The settings the gateway's platform was wired with."""
        return self.platform.settings

    @property
    def rate_limiter(self) -> RateLimiter:
        """The gateway's rate limiter (login throttling)."""
        return self.platform.rate_limiter

    def call(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``await fn(*args, **kwargs)`` on the gateway's loop and return its result.

        Exceptions the coroutine raises propagate unchanged (``FolioError`` and all).
        Past ``timeout_s`` the coroutine is cancelled and ``ServiceUnavailableError``
        is raised; a closed loop (the gateway shutting down) raises it at once.
        """
        if _running_loop() is self.loop:
            raise RuntimeError("LoopPortal.call would block the loop it submits to")
        if self.loop.is_closed():
            raise ServiceUnavailableError("the gateway is shutting down")
        coroutine = _invoke(fn, *args, **kwargs)
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        except RuntimeError as exc:  # the loop closed between the check and the submit
            coroutine.close()
            raise ServiceUnavailableError("the gateway is shutting down") from exc
        try:
            return future.result(self.timeout_s)
        except FutureTimeoutError as exc:
            future.cancel()
            raise ServiceUnavailableError(f"the service did not answer within {self.timeout_s:g} s") from exc


def find_portal() -> LoopPortal | None:
    """This request's portal, or None outside the gateway (or before its lifespan wired the platform)."""
    found = request.environ.get("asgi.scope", {}).get(SCOPE_KEY)
    return found if isinstance(found, LoopPortal) else None


def portal() -> LoopPortal:
    """This request's portal to the gateway's loop and platform (503 before the lifespan ran)."""
    found = find_portal()
    if found is None:
        raise ServiceUnavailableError("the web app is not connected to the gateway yet")
    return found


async def _invoke(fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``fn`` on the loop, so even building its awaitable happens there."""
    return await fn(*args, **kwargs)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class PortalMiddleware:
    """ASGI wrapper that hands each request's ``LoopPortal`` to the WSGI app it wraps.

    ``host`` is the gateway app whose ``state.platform`` the lifespan wires; it is read
    per request, so the middleware can be built before the lifespan runs.
    """

    def __init__(self, app: ASGIApp, *, host: _HasState, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.app = app
        self.host = host
        self.timeout_s = timeout_s
        self.route: object | None = None
        """The gateway route this app is mounted as; named in the scope for the access log and metrics."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the portal to HTTP scopes and pass everything on."""
        if scope["type"] == "http":
            if self.route is not None:
                # In place: the gateway's request middleware reads the matched route from
                # this very scope dict (a Mount sets none), so its log line and metrics
                # name ``/app`` rather than "unmatched".
                scope["route"] = self.route
            platform = getattr(self.host.state, "platform", None)
            if platform is not None:
                portal = LoopPortal(
                    loop=asyncio.get_running_loop(),
                    platform=cast("Platform", platform),
                    timeout_s=self.timeout_s,
                )
                scope = {**scope, SCOPE_KEY: portal}
        await self.app(scope, receive, send)
