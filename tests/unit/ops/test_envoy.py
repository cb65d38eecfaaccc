"""What the Envoy mesh service renders and runs, what Prometheus scrapes of it, and how clients reach it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from folio.core.settings import Settings, load_settings
from folio.ops.apps import folio_processes
from folio.ops.services import SERVICE_TYPES
from folio.ops.services.envoy import IDEMPOTENT_RETRY_ON, MESHED_SERVICES, SAFE_RETRY_ON, EnvoyService
from folio.ops.services.prometheus import PrometheusService
from folio.orders.api import OrdersClient
from folio.orders.v1 import orders_pb2
from folio.users.api import UsersClient
from folio.users.v1 import users_pb2

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(clean_env: Path) -> Settings:
    """Settings with unusual mesh ports and data under the test's folder, no .env file."""
    base = load_settings(env_file=clean_env / "absent.env")
    grpc = base.grpc.model_copy(
        update={
            "users": base.grpc.users.model_copy(update={"port": 17000, "mesh_port": 17005}),
            "orders": base.grpc.orders.model_copy(
                update={
                    "port": 17002,
                    "mesh_port": 17006,
                    "replica_port": 17007,
                    "replica_metrics_port": 17008,
                }
            ),
        }
    )
    services = base.services.model_copy(
        update={
            "data_dir": clean_env / "services",
            "envoy": base.services.envoy.model_copy(
                update={"admin_port": 17004, "route_timeout_s": 7.5, "ejection_failures": 3}
            ),
        }
    )
    return base.model_copy(update={"grpc": grpc, "services": services})


def _config(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(EnvoyService(settings).render())
    return config


def _routes(config: dict[str, Any], listener: str) -> list[dict[str, Any]]:
    (found,) = [item for item in config["static_resources"]["listeners"] if item["name"] == listener]
    manager = found["filter_chains"][0]["filters"][0]["typed_config"]
    routes: list[dict[str, Any]] = manager["route_config"]["virtual_hosts"][0]["routes"]
    return routes


def _route_for(routes: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """The route Envoy picks for ``path``: the first whose exact path or prefix matches."""
    for route in routes:
        match = route["match"]
        if match.get("path") == path or ("prefix" in match and path.startswith(match["prefix"])):
            return dict(route["route"])
    raise AssertionError(f"no route for {path}")


def test_envoy_is_a_registered_service_bound_to_loopback(settings: Settings) -> None:
    """`folio services up` starts Envoy; it declares its admin and both listener ports."""
    assert EnvoyService in SERVICE_TYPES
    (spec,) = EnvoyService(settings).processes()
    assert "--disable-hot-restart" in spec.argv
    assert spec.ports == {
        "services.envoy.admin_port": 17004,
        "grpc.users.mesh_port": 17005,
        "grpc.orders.mesh_port": 17006,
    }
    config = _config(settings)
    assert config["admin"]["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 17004}
    listeners = {
        item["name"]: item["address"]["socket_address"] for item in config["static_resources"]["listeners"]
    }
    assert listeners == {
        "users": {"address": "127.0.0.1", "port_value": 17005},
        "orders": {"address": "127.0.0.1", "port_value": 17006},
    }


def test_clusters_balance_over_the_replicas_with_health_checks_and_outlier_detection(
    settings: Settings,
) -> None:
    """Orders has both replicas, users one; HTTP/2 upstreams, grpc.health.v1 checks, ejection."""
    clusters = {item["name"]: item for item in _config(settings)["static_resources"]["clusters"]}
    ports = {
        name: [
            e["endpoint"]["address"]["socket_address"]["port_value"]
            for e in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        ]
        for name, cluster in clusters.items()
    }
    assert ports == {"users": [17000], "orders": [17002, 17007]}
    orders = clusters["orders"]
    options = orders["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert "http2_protocol_options" in options["explicit_http_config"]
    assert orders["health_checks"][0]["grpc_health_check"] == {
        "service_name": "folio.orders.v1.OrdersService"
    }
    assert orders["outlier_detection"]["consecutive_gateway_failure"] == 3
    assert orders["outlier_detection"]["max_ejection_percent"] == 50


def test_only_idempotent_methods_are_retried_on_unavailable(settings: Settings) -> None:
    """Reads and keyed creates retry on unavailable/reset; a cancel only where nothing reached the server."""
    routes = _routes(_config(settings), "orders")
    get = _route_for(routes, "/folio.orders.v1.OrdersService/GetOrder")
    cancel = _route_for(routes, "/folio.orders.v1.OrdersService/CancelOrder")
    assert get["retry_policy"]["retry_on"] == IDEMPOTENT_RETRY_ON == "unavailable,reset,connect-failure"
    assert cancel["retry_policy"]["retry_on"] == SAFE_RETRY_ON
    assert get["timeout"] == cancel["timeout"] == "7.5s"
    assert get["max_stream_duration"] == {"grpc_timeout_header_max": "7.5s"}  # a shorter deadline wins


def test_streams_have_no_route_timeout(settings: Settings) -> None:
    """WatchOrder and reflection last as long as their caller wants; the caller's deadline still holds."""
    routes = _routes(_config(settings), "orders")
    watch = _route_for(routes, "/folio.orders.v1.OrdersService/WatchOrder")
    reflection = _route_for(routes, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
    assert watch["timeout"] == reflection["timeout"] == "0s"
    assert watch["max_stream_duration"] == {"grpc_timeout_header_max": "0s"}
    assert watch["retry_policy"]["retry_on"] == IDEMPOTENT_RETRY_ON


def test_the_mesh_retries_what_the_clients_retry() -> None:
    """Envoy's idempotent and streaming method sets are the clients' and the protos' own."""
    by_name = {service.name: service for service in MESHED_SERVICES}
    assert by_name["orders"].idempotent == OrdersClient.idempotent_methods
    assert by_name["users"].idempotent == UsersClient.idempotent_methods
    for meshed, module in ((by_name["orders"], orders_pb2), (by_name["users"], users_pb2)):
        descriptor = module.DESCRIPTOR.services_by_name[meshed.proto_service.rsplit(".", 1)[1]]
        assert meshed.streaming == {m.name for m in descriptor.methods if m.server_streaming}


def test_prometheus_scrapes_envoys_admin_stats(settings: Settings) -> None:
    """prometheus.yml has an envoy job reading /stats/prometheus from the admin port."""
    config = yaml.safe_load(PrometheusService(settings).render())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["envoy"]["metrics_path"] == "/stats/prometheus"
    assert jobs["envoy"]["static_configs"] == [{"targets": ["127.0.0.1:17004"]}]


def test_clients_dial_envoy_only_with_the_mesh_on(settings: Settings) -> None:
    """direct: the server; envoy: the service's mesh port; an explicit target always wins."""
    grpc = settings.grpc
    meshed = grpc.model_copy(update={"mesh": "envoy"})
    assert grpc.client_address("orders") == "127.0.0.1:17002"
    assert meshed.client_address("orders") == "127.0.0.1:17006"
    assert meshed.client_address("users") == "127.0.0.1:17005"
    pinned = meshed.model_copy(
        update={"users": grpc.users.model_copy(update={"target": "users.example:443"})}
    )
    assert pinned.client_address("users") == "users.example:443"


def test_folio_up_runs_a_second_orders_server_with_the_mesh_on(settings: Settings) -> None:
    """orders-2 serves orders on the replica's ports; without the mesh, or in lite mode, there is none."""
    meshed = settings.model_copy(update={"grpc": settings.grpc.model_copy(update={"mesh": "envoy"})})
    specs = {spec.name: spec for spec in folio_processes(meshed, {})}
    replica = specs["orders-2"]
    assert list(replica.argv[1:]) == ["-m", "folio.entrypoints.grpc", "orders"]
    assert replica.env["FOLIO_GRPC_ORDERS_PORT"] == "17007"
    assert replica.env["FOLIO_GRPC_ORDERS_METRICS_PORT"] == "17008"
    assert replica.ports == {"grpc.orders.replica_port": 17007, "grpc.orders.replica_metrics_port": 17008}
    assert "orders-2" not in {spec.name for spec in folio_processes(settings, {})}
    lite = {spec.name: spec for spec in folio_processes(meshed, {}, lite=True)}
    assert "orders-2" not in lite
    assert lite["gateway"].env["FOLIO_GRPC_MESH"] == "direct"
