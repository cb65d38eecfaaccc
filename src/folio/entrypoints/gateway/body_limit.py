"""Request body limits: 413 ``payload-too-large`` before a byte too many is read.

Pure ASGI, so the check runs before routing, authentication or any body parsing. A
request whose ``Content-Length`` is over its route's limit is answered at once and its
body is never received; a body without one (``Transfer-Encoding: chunked``) is counted
as the app reads it, and the first chunk past the limit ends the request with the same
413 while the client may still be sending.

Limits go by path prefix, longest first (``folio.httpkit.body_limits``): the API's
default and a smaller one for the unauthenticated auth endpoints; nginx's
``client_max_body_size`` is rendered from the largest. Paths under no prefix (the web
app, which stops at 1 MB itself) pass untouched.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from folio.core.errors import PayloadTooLargeError
from folio.core.logging import correlation_id
from folio.entrypoints.gateway.problems import problem_response
from folio.httpkit.body_limits import BodyLimits

__all__ = ["BodyLimitMiddleware"]


def _declared_length(scope: Scope) -> int | None:
    # uvicorn (h11 and httptools) already refuses a malformed Content-Length with 400.
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None


class BodyLimitMiddleware:
    """Answers 413 problem+json for a request body over its path's limit (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (HTTP only; other scopes pass through)."""
        limit = self.limits.for_path(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit, f"the body declares {declared} bytes")
            return
        received = 0
        overflowed = False
        answered = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, overflowed, answered
            if overflowed:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflowed = True
                    if not response_started:
                        answered = True
                        await _refuse(scope, receive, send, limit, f"the body passed {limit} bytes")
                    # To the app the request is over: it stops reading, and its own
                    # answer (whatever it makes of a vanished client) is dropped below.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if answered:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int, what: str) -> None:
    error = PayloadTooLargeError(f"{what}; this endpoint accepts at most {limit} bytes", limit_bytes=limit)
    problem = error.to_problem(instance=scope["path"], correlation_id=correlation_id())
    # Close the connection: the rest of the body is still on its way and will not be read.
    await problem_response(problem, {"Connection": "close"})(scope, receive, send)
