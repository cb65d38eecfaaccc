"""The live dashboard's routes: ``/api/v1/live/ws`` (WebSocket) and ``/api/v1/live/events`` (SSE).

Both stream a shop's metric updates (``docs/live.md`` has the frames). The caller is a
member with an access token or, without one, the web session's cookie
(``folio.live.session_auth``: only with no ``Origin`` or the gateway's own), and the
stream is always the caller's own shop: there is no shop parameter, so another shop's
member only ever gets their own shop's stream. Only staff (owner, admin, staff) may
watch; a customer is refused. Each connection attempt counts as one request of its
caller in the API's rate-limit windows (``admit_connection``), and a shop holds at most
``live.max_connections_per_shop`` streams in one process.

- **WebSocket.** The token travels in ``Sec-WebSocket-Protocol``
  (``["folio.live.v1", "bearer.<token>"]``), never in the URL, so it stays out of
  access logs and browser history; the server answers with ``folio.live.v1``. ``?after=N``
  resumes after the message with ``seq`` N. The connection is accepted first and then
  closed with a code a browser can read: 4401 no or invalid credential, 4403 not staff
  or another site's page, 4429 too many connections (the rate windows or the shop's
  cap), 4408 too far behind (the backpressure policy), 4503 the live feed is
  unavailable (lite mode: no Redis); 1001 when the gateway shuts down.
- **SSE** (for networks that block WebSockets). ``EventSource`` cannot send headers, so
  the token may come as ``?access_token=`` as well as ``Authorization: Bearer``; the
  gateway logs paths only, never query strings. ``Last-Event-ID`` (sent by the browser
  on its own reconnects) or ``?after=`` resumes; each event's ``id`` is its ``seq``.
  Refusals are the API's problems (401, 403, 429 with ``Retry-After``, 503).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from folio.core.errors import FolioError, PermissionDeniedError, RateLimitedError, ServiceUnavailableError
from folio.core.platform import Platform
from folio.core.security import Principal
from folio.core.text import CleanText
from folio.httpkit.principal import AUTHENTICATOR
from folio.live.admission import admit_connection
from folio.live.hub import Frame, LiveHub, TooManyClientsError
from folio.live.queue import ClientTooSlowError
from folio.live.session_auth import has_session_cookie, session_caller

__all__ = ["CLOSE_CODES", "PROTOCOL", "router"]

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/live", tags=["live"])

PROTOCOL = "folio.live.v1"
"""The WebSocket subprotocol the server speaks (and answers with)."""
BEARER_PREFIX = "bearer."
"""A subprotocol entry that carries the access token."""
CLOSE_CODES = {
    "unauthenticated": 4401,
    "forbidden": 4403,
    "too_slow": 4408,
    "too_many": 4429,
    "unavailable": 4503,
    "internal": 1011,
}
"""The WebSocket close codes of the live stream."""
HEARTBEAT_S = 15.0
"""An SSE comment this often keeps proxies from closing a quiet stream and finds gone clients."""
CLOSE_TIMEOUT_S = 2.0
"""How long a close handshake may take with a client that stopped reading."""
FULL_RETRY_AFTER_S = 10
"""The ``Retry-After`` of a stream refused because its shop has no room (connections come and go)."""
_bearer = HTTPBearer(auto_error=False)


def hub_of(connection: HTTPConnection) -> LiveHub | None:
    """The gateway's hub (its lifespan put it on the app's state); None in lite mode or before startup."""
    hub: LiveHub | None = getattr(connection.app.state, "live_hub", None)
    return hub


async def _admit(connection: HTTPConnection, token: str | None) -> tuple[Principal, LiveHub]:
    """The staff member opening the stream and the hub to stream from, else the refusal.

    ``token`` wins; without one the web session's cookie is the credential (no cookie
    either: the authenticator's 401). Then the connection counts against the caller's
    rate windows, and the shop must have room for one more stream.
    """
    platform: Platform = connection.app.state.platform
    hub = hub_of(connection)
    if token is None and has_session_cookie(connection):
        if hub is None:
            raise ServiceUnavailableError("the live feed is not running")
        principal = await session_caller(
            connection, redis=hub.redis, db=platform.database, settings=platform.settings
        )
    else:
        principal = await platform.get(AUTHENTICATOR)(bearer=token, api_key=None)
    if not principal.is_staff:
        raise PermissionDeniedError("only the shop's staff may watch its live metrics")
    if hub is None:
        raise ServiceUnavailableError("the live feed is not running")
    await admit_connection(platform, principal)
    if not hub.has_room(principal.tenant_id):
        raise _no_room(hub)
    return principal, hub


def _no_room(hub: LiveHub) -> RateLimitedError:
    return RateLimitedError(
        f"this shop has {hub.max_clients_per_shop} live connections open, as many as it may",
        retry_after_s=FULL_RETRY_AFTER_S,
    )


def _close_code(refusal: FolioError) -> tuple[int, str]:
    """The WebSocket close code and reason of a refusal (its problem's status, as a 44xx/45xx code)."""
    if isinstance(refusal, PermissionDeniedError):
        return CLOSE_CODES["forbidden"], "staff of this shop, from its own pages, only"
    if isinstance(refusal, RateLimitedError):
        return CLOSE_CODES["too_many"], f"too many connections; retry in {refusal.retry_after_s}s"
    if isinstance(refusal, ServiceUnavailableError):
        return CLOSE_CODES["unavailable"], "the live feed is not running"
    return CLOSE_CODES["unauthenticated"], "a valid access token or session is required"


def _token_of(subprotocols: list[str]) -> str | None:
    return next(
        (offer.removeprefix(BEARER_PREFIX) for offer in subprotocols if offer.startswith(BEARER_PREFIX)), None
    )


@router.websocket("/ws")
async def live_socket(websocket: WebSocket, after: Annotated[int | None, Query(ge=0)] = None) -> None:
    """The shop's live metrics over a WebSocket (see the module docstring for auth and close codes)."""
    offered: list[str] = list(websocket.scope.get("subprotocols", []))
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    try:
        principal, hub = await _admit(websocket, _token_of(offered))
    except FolioError as refusal:
        await websocket.close(*_close_code(refusal))
        return
    await _serve_socket(websocket, hub, principal, after)


async def _serve_socket(websocket: WebSocket, hub: LiveHub, principal: Principal, after: int | None) -> None:
    async def send() -> int:
        try:
            async for frame in hub.stream(principal.tenant_id, after):
                await websocket.send_text(frame.text)
        except ClientTooSlowError:
            return CLOSE_CODES["too_slow"]
        except TooManyClientsError:  # another connection took the last room since _admit
            return CLOSE_CODES["too_many"]
        return 1000  # pragma: no cover - the stream only ends by being too slow or full

    async def receive() -> None:
        # The client sends nothing; reading finds out when it goes away.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    sender = asyncio.create_task(send())
    receiver = asyncio.create_task(receive())
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
    if receiver in done or sender.cancelled():
        return  # the client went away: nothing to close, nothing failed
    error = sender.exception()
    if error is not None:
        log.error("live.stream_failed", tenant_id=str(principal.tenant_id), error=repr(error))
    reasons = {CLOSE_CODES["too_slow"]: "too far behind", CLOSE_CODES["too_many"]: "too many connections"}
    code = CLOSE_CODES["internal"] if error else sender.result()
    reason = "stream failed" if error else reasons[code]
    with contextlib.suppress(Exception):  # a client that stopped reading may never answer the close
        await asyncio.wait_for(websocket.close(code, reason), CLOSE_TIMEOUT_S)


@router.get(
    "/events",
    summary="The shop's live metrics as Server-Sent Events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_events(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    after: Annotated[int | None, Query(ge=0, description="Resume after this `seq`.")] = None,
    access_token: Annotated[
        Annotated[str, CleanText(max_length=4096)] | None, Query(description="The token, for `EventSource`.")
    ] = None,
    last_event_id: Annotated[
        str | None, Header(description="Sent by `EventSource` when it reconnects.")
    ] = None,
) -> StreamingResponse:
    """``text/event-stream`` of ``update`` and ``snapshot`` events, each with ``id: <seq>``."""
    principal, hub = await _admit(request, bearer.credentials if bearer is not None else access_token)
    resume = int(last_event_id) if last_event_id is not None and last_event_id.isdigit() else after
    return StreamingResponse(
        _event_stream(hub.stream(principal.tenant_id, resume)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _event_stream(frames: AsyncGenerator[Frame, None]) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    pending = asyncio.ensure_future(anext(frames))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_S)
            if not done:
                yield ": keep-alive\n\n"
                continue
            try:
                frame = pending.result()
            except (StopAsyncIteration, ClientTooSlowError, TooManyClientsError):
                return  # EventSource reconnects with Last-Event-ID
            yield f"id: {frame.seq}\nevent: {frame.kind}\ndata: {frame.text}\n\n"
            pending = asyncio.ensure_future(anext(frames))
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        await frames.aclose()
