"""Prometheus metrics of gRPC calls, per method and status code, on both sides of a call.

Named like the go-grpc-prometheus metrics every gRPC dashboard knows, with Folio's
prefix: ``folio_grpc_server_handled_total{grpc_service, grpc_method, grpc_code}`` and
``folio_grpc_server_handling_seconds`` on the server, ``folio_grpc_client_*`` on the
client. A server process serves them on its own ``metrics_port`` (Prometheus scrapes
it through the ``folio`` job's file discovery); the gateway's client metrics come out
of its ``/metrics``. ``process_metrics()`` is the one set per process (the default
registry); tests build their own on a fresh ``CollectorRegistry``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from folio.core.exemplars import observe

__all__ = ["GrpcMetrics", "process_metrics", "split_method"]

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""From half a millisecond: a loopback call takes about that."""


def split_method(full_method: str) -> tuple[str, str]:
    """``/pkg.Service/Method`` -> ``("pkg.Service", "Method")``; ``("unknown", name)`` for anything else."""
    _, _, path = full_method.partition("/")
    service, slash, method = path.partition("/")
    return (service, method) if slash and service else ("unknown", full_method)


class GrpcMetrics:
    """Calls counted by method and code, and their durations, in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        labels = ["grpc_service", "grpc_method"]
        self._handled = {
            side: Counter(
                f"folio_grpc_{side}_handled_total",
                f"gRPC calls completed ({side} side), by status code.",
                [*labels, "grpc_code"],
                registry=registry,
            )
            for side in ("server", "client")
        }
        self._seconds = {
            side: Histogram(
                f"folio_grpc_{side}_handling_seconds",
                f"Duration of gRPC calls ({side} side), to the last message.",
                labels,
                buckets=_BUCKETS,
                registry=registry,
            )
            for side in ("server", "client")
        }
        # Labelled children are kept: ``labels()`` validates and locks on every call, and
        # the set is bounded (methods x codes).
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def record(self, side: str, full_method: str, code: str, seconds: float) -> None:
        """Count one call of ``full_method`` ending with ``code`` on ``side`` (``server``, ``client``)."""
        key = (side, full_method, code)
        children = self._children.get(key)
        if children is None:
            service, method = split_method(full_method)
            children = self._children[key] = (
                self._handled[side].labels(service, method, code),
                self._seconds[side].labels(service, method),
            )
        children[0].inc()
        observe(children[1], seconds)  # with the trace id as its bucket's exemplar


@cache
def process_metrics() -> GrpcMetrics:
    """The process's gRPC metrics, in the default registry (created once)."""
    return GrpcMetrics(REGISTRY)
