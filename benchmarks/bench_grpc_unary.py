"""gRPC unary calls through Folio's interceptors vs a plain grpc.aio server and stub: calls/s and p99.

Both servers run the same trivial servicer (``UsersService.GetUser``, answered from the
request, no database) in a process of their own on loopback, one at a time:

- Folio: ``folio.grpckit.GrpcServer`` (service-token check, end-user claims, request
  context, deadline, metrics, one JSON access line per call; health and reflection
  registered), called through ``folio.users.api.UsersClient`` (its token, ids, deadline,
  client metrics, retry policy in the service config);
- peer: a helloworld-style ``grpc.aio.server()`` with the generated servicer and nothing
  else, called through the bare generated stub.

The load is ``CONCURRENCY`` calls in flight from one asyncio client in the benchmark's
process, for ``SECONDS`` after an unmeasured warm-up. Server CPU per call comes from
``/proc/<pid>/stat`` (steadier than calls/s on a shared machine). The ratio is Folio's
calls/s over the peer's.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from benchmarks.harness import BenchResult, Measurement, free_port, process_cpu_seconds
from folio.core.settings import Settings
from folio.grpckit import GrpcServer, ServiceCredentials, ServiceRegistration
from folio.users.api import UsersClient
from folio.users.v1 import users_pb2, users_pb2_grpc

NAME = "grpc_unary"
SECONDS = int(os.environ.get("FOLIO_BENCH_SECONDS", "10"))
WARMUP_S = 2
CONCURRENCY = 16
SERVICE = "folio.users.v1.UsersService"


class Echo(users_pb2_grpc.UsersServiceServicer):
    """Answers GetUser from the request alone: the call's cost is all there is to measure."""

    async def GetUser(  # noqa: N802 - gRPC's method name
        self,
        request: users_pb2.GetUserRequest,
        context: grpc.aio.ServicerContext,  # noqa: ARG002 - gRPC's signature
    ) -> users_pb2.GetUserResponse:
        """A user named after the request."""
        return users_pb2.GetUserResponse(
            user=users_pb2.User(id=request.user_id, email="bench@example.com", display_name="Bench")
        )

    async def Authorize(  # noqa: N802 - gRPC's method name
        self,
        request: users_pb2.AuthorizeRequest,
        context: grpc.aio.ServicerContext,
    ) -> users_pb2.AuthorizeResponse:
        """Not measured."""
        raise NotImplementedError


async def _serve(kind: str, port: int) -> None:
    """Serve ``Echo`` on ``port``, the Folio way or the plain way, until terminated."""
    address = f"127.0.0.1:{port}"
    if kind == "folio":
        from folio.core.logging import configure_logging

        settings = Settings()
        configure_logging(settings.logging, service="bench-grpc")
        registration = ServiceRegistration(SERVICE, users_pb2_grpc.add_UsersServiceServicer_to_server, Echo())
        folio = GrpcServer([registration], ServiceCredentials(settings.grpc, service="users"))
        await folio.start(address)
        await folio.wait()
    else:
        server = grpc.aio.server()
        users_pb2_grpc.add_UsersServiceServicer_to_server(Echo(), server)
        server.add_insecure_port(address)
        await server.start()
        await server.wait_for_termination()


def _start(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    """A server process of ``kind`` and the address it will listen on."""
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.bench_grpc_unary", "serve", kind, str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"127.0.0.1:{port}"


async def _ready(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=30)


async def _load(call: Callable[[], Awaitable[Any]], seconds: float) -> tuple[list[float], int]:
    """``CONCURRENCY`` loops calling ``call`` for ``seconds``: every call's latency, and the errors."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                await call()
            except Exception:  # noqa: BLE001 - a failed call is counted, not fatal
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
    return latencies, errors


def _percentile_ms(latencies: list[float], share: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] * 1000 if ordered else 0.0


async def _measure(kind: str, label: str) -> Measurement:
    proc, target = _start(kind)
    try:
        await _ready(target)
        request_id = str(uuid.uuid4())
        if kind == "folio":
            credentials = ServiceCredentials(Settings().grpc, service="bench")
            client = UsersClient(target, credentials, default_timeout_s=5)

            async def call() -> Any:
                return await client.get_user(uuid.UUID(request_id))

            close: Callable[[], Awaitable[None]] = client.aclose
        else:
            channel = grpc.aio.insecure_channel(target)
            stub = users_pb2_grpc.UsersServiceStub(channel)
            request = users_pb2.GetUserRequest(user_id=request_id)

            async def call() -> Any:
                return await stub.GetUser(request, timeout=5)

            async def close() -> None:
                await channel.close()

        await _load(call, WARMUP_S)
        cpu_before = process_cpu_seconds(proc.pid)
        started = time.perf_counter()
        latencies, errors = await _load(call, SECONDS)
        elapsed = time.perf_counter() - started
        cpu = process_cpu_seconds(proc.pid) - cpu_before
        await close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    calls = len(latencies)
    return Measurement(
        label=label,
        requests=calls,
        seconds=round(elapsed, 2),
        rps=calls / elapsed,
        p50_ms=_percentile_ms(latencies, 0.50),
        p95_ms=_percentile_ms(latencies, 0.95),
        p99_ms=_percentile_ms(latencies, 0.99),
        errors=errors,
        cpu_ms_per_request=cpu * 1000 / calls if calls else None,
    )


def run() -> BenchResult:
    """Measure both sides one after the other on the same machine."""
    folio = asyncio.run(_measure("folio", "folio interceptors"))
    peer = asyncio.run(_measure("plain", "plain grpc.aio"))
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=peer,
        ratio_label="folio/plain calls/s",
        parameters={"seconds": SECONDS, "concurrency": CONCURRENCY, "method": f"{SERVICE}/GetUser"},
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        asyncio.run(_serve(sys.argv[2], int(sys.argv[3])))
