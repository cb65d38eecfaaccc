"""The ``grpc`` section: where the users and orders gRPC services listen, and how services trust each other.

Each service has its own subsection (``grpc.users``, ``grpc.orders``): the interface and
port its server binds, the port its Prometheus metrics are served on, and ``target``,
the address its clients dial. ``target`` defaults to the bound host and port; a real
deployment points it elsewhere (a load balancer, a mesh sidecar) by configuration alone.

``mesh = "envoy"`` puts the local Envoy (``folio.ops.services.envoy``) between every
client and server: clients dial the service's ``mesh_port``, where Envoy listens and
balances over the service's replicas (orders: ``port`` and ``replica_port``). See the
"Envoy: the local mesh" section of docs/grpc.md.

Calls between services carry a short-lived token signed with ``service_keys`` (HMAC,
rotated like ``identity.jwt_keys``), never a static password: see ``folio.grpckit``.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting

MIN_SERVICE_KEY_CHARS = 32
"""An HS256 key is at least as long as the hash output (RFC 7518 3.2)."""


class GrpcServiceSettings(FolioSettingsBase):
    """One gRPC service: where its server listens and where its clients dial."""

    host: str = setting(LOOPBACK, description="Interface the service's server binds.")
    port: int = setting(21470, ge=1, le=65535, description="Port the service's gRPC server binds.")
    metrics_port: int = setting(
        21471, ge=1, le=65535, description="Port of the server's Prometheus `/metrics` (HTTP)."
    )
    mesh_port: int = setting(
        21475,
        ge=1,
        le=65535,
        description="Port of Envoy's listener for the service, on `host` (clients dial it when `grpc.mesh` "
        "is `envoy`).",
    )
    target: str | None = setting(
        None,
        description="Address clients dial (`host:port`, or any gRPC target such as `dns:///orders:443`); "
        "unset: the server's own `host:port`, or its `mesh_port` when `grpc.mesh` is `envoy`.",
    )

    @property
    def address(self) -> str:
        """Where clients connect without the mesh: ``target``, else the bound ``host:port``."""
        return self.target or f"{self.host}:{self.port}"

    @property
    def mesh_address(self) -> str:
        """Where Envoy listens for this service: ``host:mesh_port``."""
        return f"{self.host}:{self.mesh_port}"


class GrpcUsersSettings(GrpcServiceSettings):
    """The users service (who a user is, what they may do)."""

    settings_path = ("grpc", "users")


class GrpcOrdersSettings(GrpcServiceSettings):
    """The orders service (carts, checkout, orders)."""

    settings_path = ("grpc", "orders")

    port: int = setting(21472, ge=1, le=65535, description="Port the service's gRPC server binds.")
    metrics_port: int = setting(
        21473, ge=1, le=65535, description="Port of the server's Prometheus `/metrics` (HTTP)."
    )
    mesh_port: int = setting(
        21476,
        ge=1,
        le=65535,
        description="Port of Envoy's listener for the service, on `host` (clients dial it when `grpc.mesh` "
        "is `envoy`).",
    )
    replica_port: int = setting(
        21477,
        ge=1,
        le=65535,
        description="Port of the second orders server, which `folio up` runs when `grpc.mesh` is `envoy` "
        "(Envoy balances over both).",
    )
    replica_metrics_port: int = setting(
        21478, ge=1, le=65535, description="Port of the second orders server's Prometheus `/metrics`."
    )

    @property
    def replica_address(self) -> str:
        """``host:replica_port``: the second orders server."""
        return f"{self.host}:{self.replica_port}"


class GrpcSettings(FolioSettingsBase):
    """gRPC between Folio's services: addresses, service credentials, call budgets."""

    settings_path = ("grpc",)

    service_keys: dict[str, SecretStr] = setting(
        default_factory=lambda: {"dev-1": SecretStr("folio-dev-grpc-service-key-change-me-0123456789")},
        insecure_default=True,
        description=(
            "HMAC keys that sign and verify service tokens and end-user claims between services, by "
            "key id. Rotate by adding the new key, making it active, and removing the old one after "
            "`token_ttl_s`."
        ),
    )
    service_active_kid: str = setting("dev-1", description="Key id (in `service_keys`) that signs.")
    token_ttl_s: int = setting(
        60, ge=10, le=900, description="Lifetime of a service token or of signed end-user claims."
    )
    call_timeout_s: float = setting(
        5.0,
        gt=0,
        description="Deadline of a call made outside any HTTP request or inbound call (which pass "
        "their own remaining budget on).",
    )
    mesh: Literal["direct", "envoy"] = setting(
        "direct",
        description="How clients reach the services: `direct` dials each server, `envoy` dials the local "
        "Envoy (`folio services up`), which balances over the replicas with retries and outlier "
        "detection; `folio up` then runs a second orders server. Lite mode is always `direct`.",
    )
    users: GrpcUsersSettings = Field(default_factory=GrpcUsersSettings)
    orders: GrpcOrdersSettings = Field(default_factory=GrpcOrdersSettings)

    def client_address(self, service: Literal["users", "orders"]) -> str:
        """Where a client of ``service`` dials: its ``target``, else Envoy's listener or the server itself."""
        endpoint = self.users if service == "users" else self.orders
        if endpoint.target is None and self.mesh == "envoy":
            return endpoint.mesh_address
        return endpoint.address

    @model_validator(mode="after")
    def _active_key_is_known_and_long(self) -> Self:
        if self.service_active_kid not in self.service_keys:
            known = ", ".join(sorted(self.service_keys)) or "none"
            raise ValueError(
                f"service_active_kid {self.service_active_kid!r} is not in service_keys (known: {known})"
            )
        short = sorted(
            kid
            for kid, key in self.service_keys.items()
            if len(key.get_secret_value()) < MIN_SERVICE_KEY_CHARS
        )
        if short:
            raise ValueError(
                f"service_keys must be at least 32 characters long; too short: {', '.join(short)}"
            )
        return self
