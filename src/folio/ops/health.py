"""Readiness probes: a probe returns None when healthy, else a short reason."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Sequence

import httpx

Probe = Callable[[], str | None]


def tcp_probe(host: str, port: int, timeout_s: float = 1.0) -> Probe:
    """Healthy once something accepts TCP connections on ``host:port``."""

    def probe() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return None
        except OSError as exc:
            return f"{host}:{port} refuses connections ({exc.strerror or exc})"

    return probe


def http_probe(
    url: str, *, expect: Sequence[int] = (200,), timeout_s: float = 2.0, headers: dict[str, str] | None = None
) -> Probe:
    """Healthy once ``GET url`` answers with one of the ``expect`` statuses."""

    def probe() -> str | None:
        try:
            response = httpx.get(url, timeout=timeout_s, headers=headers)
        except httpx.HTTPError as exc:
            return f"GET {url} failed ({exc.__class__.__name__})"
        if response.status_code not in expect:
            return f"GET {url} answered {response.status_code}"
        return None

    return probe


def command_probe(argv: Sequence[str], timeout_s: float = 10.0) -> Probe:
    """Healthy once ``argv`` exits 0 (e.g. ``pg_isready``, ``rabbitmqctl status``)."""

    def probe() -> str | None:
        try:
            done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{argv[0]} failed ({exc})"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            return f"{argv[0]}: {tail[0]}"
        return None

    return probe


def grpc_health_probe(target: str, *, service: str = "", timeout_s: float = 2.0) -> Probe:
    """Healthy once the gRPC server at ``target`` answers the standard health check with SERVING."""

    def probe() -> str | None:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(target) as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=timeout_s
                )
            except grpc.RpcError as exc:
                return f"gRPC health check of {target} failed ({exc.code().name})"
        if answer.status != health_pb2.HealthCheckResponse.SERVING:
            return f"{target} is {health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}"
        return None

    return probe
