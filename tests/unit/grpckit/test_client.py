"""The client side's plumbing: gRPC's retry policy and the metrics names."""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry

from folio.grpckit import GrpcMetrics, RetryPolicy, service_config
from folio.grpckit.metrics import split_method
from folio.orders.api import OrdersClient
from folio.users.api import UsersClient

pytestmark = pytest.mark.unit


def test_only_idempotent_methods_are_retried_and_only_on_unavailable() -> None:
    """The service config names each idempotent method, with backoff, retrying UNAVAILABLE alone."""
    config = json.loads(
        service_config("folio.orders.v1.OrdersService", OrdersClient.idempotent_methods, RetryPolicy())
    )

    (method_config,) = config["methodConfig"]
    names = {entry["method"] for entry in method_config["name"]}
    assert "CreateOrder" in names  # safe: it carries an idempotency key
    assert names.isdisjoint({"CancelOrder", "PackOrder", "ShipOrder", "DeliverOrder"})
    assert {entry["service"] for entry in method_config["name"]} == {"folio.orders.v1.OrdersService"}
    assert method_config["retryPolicy"] == {
        "maxAttempts": 4,
        "initialBackoff": "0.05s",
        "maxBackoff": "1.0s",
        "backoffMultiplier": 2.0,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    assert UsersClient.idempotent_methods == {"GetUser", "Authorize"}


def test_a_retry_policy_stays_within_grpcs_bounds() -> None:
    """GRPC accepts 2 to 5 attempts; anything else is refused when the client is made."""
    with pytest.raises(ValueError, match="2 to 5"):
        RetryPolicy(max_attempts=6)
    assert json.loads(service_config("s", [], RetryPolicy())) == {"methodConfig": []}


def test_metrics_count_per_method_and_code() -> None:
    """One sample per (method, code), the method split into service and name."""
    registry = CollectorRegistry()
    metrics = GrpcMetrics(registry)
    metrics.record("server", "/folio.orders.v1.OrdersService/GetOrder", "OK", 0.002)
    metrics.record("server", "/folio.orders.v1.OrdersService/GetOrder", "OK", 0.003)
    metrics.record("server", "/folio.orders.v1.OrdersService/GetOrder", "NOT_FOUND", 0.001)

    labels = {"grpc_service": "folio.orders.v1.OrdersService", "grpc_method": "GetOrder"}
    assert registry.get_sample_value("folio_grpc_server_handled_total", {**labels, "grpc_code": "OK"}) == 2
    assert (
        registry.get_sample_value("folio_grpc_server_handled_total", {**labels, "grpc_code": "NOT_FOUND"})
        == 1
    )
    assert registry.get_sample_value("folio_grpc_server_handling_seconds_count", labels) == 3
    assert split_method("odd") == ("unknown", "odd")
    assert split_method("/a.B/C") == ("a.B", "C")
