"""The loop portal: Flask threads run coroutines on the gateway's loop, and only there."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest
from starlette.types import Message, Receive, Scope, Send

from folio.core.errors import NotFoundError, ServiceUnavailableError
from folio.core.platform import Platform
from folio.webkit.bridge import SCOPE_KEY, LoopPortal, PortalMiddleware

pytestmark = pytest.mark.unit

PLATFORM = cast("Platform", object())


async def _in_thread(portal: LoopPortal, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``portal.call`` from a worker thread, as a Flask view would."""
    return await asyncio.to_thread(portal.call, fn, *args, **kwargs)


async def test_call_runs_the_coroutine_on_the_loop() -> None:
    """A thread's call runs on the portal's loop (not the thread) and returns the result."""
    loop = asyncio.get_running_loop()
    portal = LoopPortal(loop=loop, platform=PLATFORM)
    seen: dict[str, object] = {}

    async def work(value: int, *, plus: int) -> int:
        seen["loop"] = asyncio.get_running_loop()
        seen["thread"] = threading.current_thread()
        return value + plus

    assert await _in_thread(portal, work, 40, plus=2) == 42
    assert seen["loop"] is loop
    assert seen["thread"] is threading.main_thread()


async def test_call_propagates_domain_errors() -> None:
    """A FolioError raised by the service reaches the view unchanged."""
    portal = LoopPortal(loop=asyncio.get_running_loop(), platform=PLATFORM)

    async def missing() -> None:
        raise NotFoundError("no such task")

    with pytest.raises(NotFoundError, match="no such task"):
        await _in_thread(portal, missing)


async def test_call_times_out_and_cancels_the_work() -> None:
    """Past the portal's timeout the view gets a 503 error and the coroutine is cancelled."""
    portal = LoopPortal(loop=asyncio.get_running_loop(), platform=PLATFORM, timeout_s=0.05)
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(ServiceUnavailableError, match="did not answer"):
        await _in_thread(portal, slow)
    await asyncio.wait_for(cancelled.wait(), timeout=1)


async def test_call_on_the_loop_thread_is_refused() -> None:
    """Blocking the loop on its own work would deadlock, so the portal refuses."""
    portal = LoopPortal(loop=asyncio.get_running_loop(), platform=PLATFORM)

    async def work() -> None:
        return None

    with pytest.raises(RuntimeError, match="would block the loop"):
        portal.call(work)


def test_call_after_the_loop_closed_is_unavailable() -> None:
    """A closed loop (the gateway shutting down) answers 503 at once."""
    loop = asyncio.new_event_loop()
    loop.close()
    portal = LoopPortal(loop=loop, platform=PLATFORM)

    async def work() -> None:
        return None

    with pytest.raises(ServiceUnavailableError, match="shutting down"):
        portal.call(work)


class _Host:
    """A stand-in for the gateway app: just ``state``."""

    def __init__(self, platform: object | None) -> None:
        self.state = type("State", (), {"platform": platform})()


async def _noop_receive() -> Message:
    return {"type": "http.request"}


async def _noop_send(_message: Message) -> None:
    return None


async def _scope_seen_by(host: _Host, scope: Scope) -> Scope:
    seen: dict[str, Scope] = {}

    async def app(inner: Scope, _receive: Receive, _send: Send) -> None:
        seen["scope"] = inner

    await PortalMiddleware(app, host=host)(scope, _noop_receive, _noop_send)
    return seen["scope"]


async def test_middleware_hands_each_request_a_portal() -> None:
    """HTTP scopes get a portal on the running loop with the host's platform."""
    platform = object()
    scope = await _scope_seen_by(_Host(platform), {"type": "http", "path": "/"})
    portal = scope[SCOPE_KEY]
    assert isinstance(portal, LoopPortal)
    assert portal.loop is asyncio.get_running_loop()
    assert portal.platform is platform


async def test_middleware_without_a_platform_passes_the_scope_through() -> None:
    """Before the lifespan wired a platform (or for other scope types) nothing is added."""
    assert SCOPE_KEY not in await _scope_seen_by(_Host(None), {"type": "http", "path": "/"})
    assert SCOPE_KEY not in await _scope_seen_by(_Host(object()), {"type": "lifespan"})
