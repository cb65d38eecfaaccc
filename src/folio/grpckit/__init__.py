"""gRPC plumbing every Folio service and client shares (docs/grpc.md).

Servers (``GrpcServer``: health, reflection and Folio's interceptor on each), typed
clients' base (``ServiceClient``: the channel, gRPC's retry policy, the caller's
metadata), signed service credentials (``ServiceCredentials``), ``FolioError`` across a
call (``folio.grpckit.errors``), time budgets (``folio.grpckit.deadlines``) and metrics.
Keep this package to plumbing: no domain logic, no context imported.
"""

from __future__ import annotations

from folio.grpckit.client import RetryPolicy, ServiceClient, service_config
from folio.grpckit.credentials import CallerClaims, ServiceClaims, ServiceCredentials
from folio.grpckit.deadlines import call_timeout, ensure_time_left, request_budget, time_remaining
from folio.grpckit.errors import DeadlineExceededError, error_from_rpc, status_code_for
from folio.grpckit.interceptors import ClientInterceptor, ServerInterceptor, calling_service, current_caller
from folio.grpckit.metrics import GrpcMetrics, process_metrics
from folio.grpckit.server import GrpcServer, ServiceRegistration

__all__ = [
    "CallerClaims",
    "ClientInterceptor",
    "DeadlineExceededError",
    "GrpcMetrics",
    "GrpcServer",
    "RetryPolicy",
    "ServerInterceptor",
    "ServiceClaims",
    "ServiceClient",
    "ServiceCredentials",
    "ServiceRegistration",
    "call_timeout",
    "calling_service",
    "current_caller",
    "ensure_time_left",
    "error_from_rpc",
    "process_metrics",
    "request_budget",
    "service_config",
    "status_code_for",
    "time_remaining",
]
