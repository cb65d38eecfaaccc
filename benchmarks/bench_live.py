"""Live fan-out: messages/s delivered to 1,000 WebSocket clients, 5% of them slow, Folio vs a bare broadcast.

Both servers run in a process of their own on the services' Redis and serve the same
clients the same messages:

- **Folio**: uvicorn serving ``folio.live.http``'s WebSocket route (subprotocol auth,
  the resume handshake) over one ``LiveHub`` per process: one Redis subscription, a
  bounded queue per client (coalesce, drop, disconnect; ``folio.live.queue``).
- **Peer**: a bare ``websockets`` server (the library's own ``broadcast``) fed by one
  Redis subscription: the common way to fan out, with no backpressure at all
  (``broadcast`` writes into every connection's buffer whether it drains or not). It is
  the natural baseline for what the policy costs and what it saves.

The load: ``CLIENTS`` connections from this process, ``SLOW_SHARE`` of them with a
4 KiB receive buffer that read nothing until the end (deliberately slow); the others
read and time each message. ``MESSAGES`` messages of about ``PAD`` bytes, over
``SERIES`` series in turn, are recorded at ``RATE``/s through ``LiveStore.record``
(sequence number, history, publish). **messages/s** is what the fast clients received
per second from the first publish to the last receipt; **p99** their delivery latency
(publish to receipt, one clock). Also printed: the server's CPU per delivered message,
its RSS at the end, and Folio's coalesced/dropped/disconnected counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, broadcast, serve

from benchmarks.harness import BenchResult, Measurement, free_port, process_cpu_seconds
from folio.core.platform import Platform
from folio.core.ratelimit import RateLimiter
from folio.core.security import Principal, Role
from folio.core.settings import load_settings
from folio.httpkit.principal import AUTHENTICATOR
from folio.live.api import LiveStore, Update, live_channel, serving_live
from folio.live.http import router

NAME = "live"
CLIENTS = int(os.environ.get("FOLIO_BENCH_LIVE_CLIENTS", "1000"))
SLOW_SHARE = 0.05
MESSAGES = int(os.environ.get("FOLIO_BENCH_LIVE_MESSAGES", "150"))
RATE = float(os.environ.get("FOLIO_BENCH_LIVE_RATE", "25"))
PAD = 1500
"""Bytes of padding per message: enough that a stalled client's buffers fill within the run."""
SERIES = 8
SLOW_RCVBUF = 4096
CONNECT_BATCH = 50
DRAIN_S = 30.0
"""How long after the last publish the fast clients may take to receive everything."""


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# --- the servers (run as ``python -m benchmarks.bench_live serve <side> <port> <report>``) -------


def _folio_app(tenant_id: uuid.UUID, report: Path) -> FastAPI:
    """The live router on a FastAPI app whose authenticator takes any token as the owner of ``tenant_id``."""
    owner = Principal(tenant_id=tenant_id, role=Role.OWNER, user_id=uuid.uuid4(), via="token")

    async def authenticate(*, bearer: str | None, api_key: str | None) -> Principal:  # noqa: ARG001 - the protocol's
        return owner

    registry = CollectorRegistry()
    loaded = load_settings()  # the cache server ``run`` publishes to: the same settings' ``cache_url``
    # Every connection passes the real admission (rate windows in Redis, the per-shop cap),
    # sized for one shop with CLIENTS dashboards open, as an operator would set them.
    window = f"{CLIENTS * 2}/minute"
    settings = loaded.model_copy(
        update={
            "api": loaded.api.model_copy(
                update={"rate_limit_per_key": window, "rate_limit_per_tenant": window}
            ),
            "live": loaded.live.model_copy(update={"max_connections_per_shop": CLIENTS}),
        }
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with serving_live(settings, registry=registry) as hub:
            app.state.live_hub = hub
            yield
        # Here, not after serve(): uvicorn re-raises the SIGTERM it caught once it has shut down.
        counts = {
            name: registry.get_sample_value(f"folio_live_{name}_total")
            for name in ("coalesced", "dropped", "disconnected_slow")
        }
        report.write_text(json.dumps({"rss_kib": _rss_kib(), **counts}))  # noqa: ASYNC240 - at exit, once

    app = FastAPI(lifespan=lifespan)
    platform = Platform(
        settings=settings, database=cast("Any", None),
        rate_limiter=RateLimiter(settings.cache_url, namespace=f"bench-live-{tenant_id.hex[:8]}"),
        object_store=cast("Any", None),
    )  # fmt: skip
    platform.provide(AUTHENTICATOR, authenticate)
    app.state.platform = platform
    app.include_router(router, prefix="/api/v1")
    return app


def _serve(side: str, port: int, report: Path, redis_url: str, tenant_id: uuid.UUID) -> None:
    """Serve ``side`` on ``port`` until SIGTERM; then write its counters and RSS to ``report``."""
    if side == "folio":
        app = _folio_app(tenant_id, report)
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error", lifespan="on"))
        asyncio.run(server.serve())
    else:
        asyncio.run(_serve_peer(port, redis_url, tenant_id))
        report.write_text(json.dumps({"rss_kib": _rss_kib()}))


async def _serve_peer(port: int, redis_url: str, tenant_id: uuid.UUID) -> None:
    connections: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        connections.add(connection)
        try:
            await connection.wait_closed()
        finally:
            connections.discard(connection)

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    redis = Redis.from_url(redis_url)
    async with serve(handler, "127.0.0.1", port), redis.pubsub() as pubsub:
        await pubsub.subscribe(live_channel(tenant_id))

        async def relay() -> None:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    broadcast(connections, message["data"].decode())

        task = asyncio.create_task(relay())
        await stop.wait()
        task.cancel()
    await redis.aclose()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the fast clients received."""

    latencies_ms: list[float]
    received: int = 0
    last_at: float = 0.0


async def _client(
    url: str, *, slow: bool, tally: Tally, connected: asyncio.Event, done: asyncio.Event
) -> None:
    sock = None
    if slow:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
        sock.setblocking(False)  # noqa: FBT003 - the socket API's own signature
        host, port = url.removeprefix("ws://").split("/", 1)[0].split(":")
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    async with connect(url, subprotocols=["folio.live.v1", "bearer.bench"], sock=sock, max_queue=None) as ws:  # type: ignore[list-item]
        connected.set()
        if slow:
            await done.wait()
            return
        async for text in ws:
            body = json.loads(text)
            if body.get("type") == "snapshot":
                continue
            now = time.time()
            tally.latencies_ms.append((now - body["value"]["t"]) * 1000)
            tally.received += 1
            tally.last_at = now


async def _load(url: str, redis_url: str, tenant_id: uuid.UUID) -> tuple[Tally, float]:
    """Connect the clients, publish, wait for the fast ones to drain; the tally and when publishing began."""
    tally = Tally(latencies_ms=[])
    done = asyncio.Event()
    slow_every = round(1 / SLOW_SHARE)
    tasks, events = [], []
    for index in range(CLIENTS):
        connected = asyncio.Event()
        events.append(connected)
        slow = index % slow_every == 0
        tasks.append(
            asyncio.create_task(_client(url, slow=slow, tally=tally, connected=connected, done=done))
        )
        if len(events) % CONNECT_BATCH == 0:  # a few at a time: the server accepts them as they come
            await asyncio.gather(*(event.wait() for event in events[-CONNECT_BATCH:]))
    await asyncio.gather(*(event.wait() for event in events))
    await asyncio.sleep(1.0)  # every server-side registration done
    redis = Redis.from_url(redis_url)
    store = LiveStore(redis)
    started = time.time()
    padding = "x" * PAD
    for seq in range(MESSAGES):
        value = {"t": time.time(), "pad": padding}
        await store.record(
            tenant_id,
            event_id=f"bench-{seq}",
            at=dt.datetime.now(dt.UTC),
            updates=[Update(f"s{seq % SERIES}", "json", value=value)],
        )
        await asyncio.sleep(max(0.0, started + (seq + 1) / RATE - time.time()))
    fast = CLIENTS - len(range(0, CLIENTS, slow_every))
    deadline = time.time() + DRAIN_S
    while tally.received < fast * MESSAGES and time.time() < deadline:  # noqa: ASYNC110 - a count, no event
        await asyncio.sleep(0.1)
    done.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    keys = [key async for key in redis.scan_iter(match=f"folio:live:{tenant_id}:*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    return tally, started


def _side(side: str, label: str, redis_url: str) -> tuple[Measurement, dict[str, Any]]:
    tenant_id = uuid.uuid4()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        argv = [
            sys.executable,
            "-m",
            "benchmarks.bench_live",
            "serve",
            side,
            str(port),
            str(report),
            redis_url,
            str(tenant_id),
        ]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        try:
            _wait_for_port(port, proc)
            cpu_before = process_cpu_seconds(proc.pid)
            path = "/api/v1/live/ws" if side == "folio" else "/"
            tally, started = asyncio.run(_load(f"ws://127.0.0.1:{port}{path}", redis_url, tenant_id))
            cpu = process_cpu_seconds(proc.pid) - cpu_before
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        extra = json.loads(report.read_text()) if report.exists() else {}
    seconds = max(tally.last_at - started, 1e-9)
    measurement = Measurement(
        label=label,
        requests=tally.received,
        seconds=round(seconds, 3),
        rps=tally.received / seconds,
        p50_ms=percentile(tally.latencies_ms, 0.50),
        p99_ms=percentile(tally.latencies_ms, 0.99),
        errors=0,
        cpu_ms_per_request=cpu * 1000 / max(tally.received, 1),
    )
    return measurement, extra


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the server on port {port} did not start (exit {proc.poll()})")


def run() -> BenchResult:
    """Both sides, one after the other, on the services' Redis."""
    redis_url = load_settings().cache_url
    folio, folio_extra = _side("folio", "folio hub", redis_url)
    peer, peer_extra = _side("peer", "websockets broadcast", redis_url)
    for label, measured, extra in (("folio", folio, folio_extra), ("peer", peer, peer_extra)):
        print(
            f"  {label}: {measured.requests} delivered, p50 {measured.p50_ms:.1f} ms, server {extra}",
            file=sys.stderr,
        )
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=peer,
        ratio_label="delivered msg/s folio/peer",
        parameters={
            "clients": CLIENTS,
            "slow_share": SLOW_SHARE,
            "messages": MESSAGES,
            "rate_per_s": RATE,
            "pad_bytes": PAD,
            "series": SERIES,
            "folio_server": folio_extra,
            "peer_server": peer_extra,
        },
    )


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    _serve(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5], uuid.UUID(sys.argv[6]))
