"""The ``services`` section: the real servers `folio services` installs and runs on loopback.

One class per server (``services.postgres``, ``services.redis``, ...), composed by
``ServicesSettings``, plus where their data and generated passwords live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, PrivateAttr, SecretStr, model_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting


class MissingPasswordError(LookupError):
    """A PostgreSQL password is neither configured nor generated yet (the servers never started)."""


def read_generated_passwords(path: Path | None) -> dict[str, str]:
    """The role passwords (``app``, ``owner``) generated for this installation; empty when there are none."""
    import tomllib

    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {role: value for role, value in data.items() if isinstance(value, str)}


class PostgresSettings(FolioSettingsBase):
    """PostgreSQL 15: a primary and a streaming read replica."""

    settings_path = ("services", "postgres")

    host: str = setting(LOOPBACK, description="Interface both servers bind.")
    port: int = setting(21410, ge=1, le=65535, description="Port of the primary.")
    replica_port: int = setting(21411, ge=1, le=65535, description="Port of the streaming replica.")
    replica_enabled: bool = setting(default=True, description="Start the streaming read replica too.")
    database: str = setting("folio", description="Database the application uses.")
    app_user: str = setting("folio_app", description="Application role (not a superuser).")
    app_password: SecretStr | None = setting(
        None,
        insecure_default=True,
        description="Password of the application role; unset: generated at first start and kept in "
        "<services.data_dir>/postgres/auth/roles.toml.",
    )
    owner_user: str = setting(
        "folio_owner",
        description="Role that owns the database and every table; migrations run as it.",
    )
    owner_password: SecretStr | None = setting(
        None,
        insecure_default=True,
        description="Password of the owner role; unset: generated like `app_password`.",
    )
    bin_dir: Path = setting(
        Path("/usr/lib/postgresql/15/bin"), description="Where initdb, pg_ctl and postgres live."
    )
    _roles_file: Path | None = PrivateAttr(default=None)

    @property
    def roles_file(self) -> Path | None:
        """Where the passwords generated for this installation are kept (set by ``ServicesSettings``).

        Validation sets it, so ``model_copy(update={"data_dir": ...})`` keeps the file of
        the settings it copied (a dedicated test server shares the suite's passwords).
        """
        return self._roles_file

    @roles_file.setter
    def roles_file(self, path: Path) -> None:
        self._roles_file = path

    def password(self, role: Literal["app", "owner"]) -> SecretStr:
        """The role's password: the configured one, else the one generated at first start.

        Raises ``MissingPasswordError`` when neither exists (the servers never started).
        """
        configured = self.owner_password if role == "owner" else self.app_password
        if configured is not None:
            return configured
        generated = read_generated_passwords(self.roles_file)
        if role not in generated:
            raise MissingPasswordError(
                f"services.postgres.{role}_password is not set and {self.roles_file} holds no generated "
                f"one yet: run `folio services up` (or set FOLIO_SERVICES_POSTGRES_{role.upper()}_PASSWORD)"
            )
        return SecretStr(generated[role])

    def url(
        self,
        *,
        replica: bool = False,
        driver: str = "postgresql+asyncpg",
        role: Literal["app", "owner"] = "app",
    ) -> str:
        """Connection URL of the primary (or the replica) as the application (or the owner) role."""
        port = self.replica_port if replica else self.port
        user = self.owner_user if role == "owner" else self.app_user
        secret = self.password(role).get_secret_value()
        return f"{driver}://{user}:{secret}@{self.host}:{port}/{self.database}"


class RedisSettings(FolioSettingsBase):
    """Redis: one instance by default, several independent ones for Redlock."""

    settings_path = ("services", "redis")

    host: str = setting(LOOPBACK, description="Interface every instance binds.")
    port: int = setting(21420, ge=1, le=65535, description="Port of the first instance.")
    instances: int = setting(
        1, ge=1, le=7, description="Independent instances on consecutive ports (3 or 5 for Redlock)."
    )

    @property
    def urls(self) -> list[str]:
        """URL of every instance, the first one being the default."""
        return [f"redis://{self.host}:{self.port + i}/0" for i in range(self.instances)]


class RedlockSettings(RedisSettings):
    """Redis instances for Redlock only: independent of each other and of the shared Redis."""

    settings_path = ("services", "redlock")

    port: int = setting(
        21427,
        ge=1,
        le=65535,
        description="Port of the first instance (21427-21429 by default; 21430 is RabbitMQ's, so move "
        "this one to run more than 3).",
    )
    instances: int = setting(
        3,
        ge=1,
        le=7,
        description="Independent instances on consecutive ports (3 or 5: Redlock needs a majority).",
    )


class RabbitMQSettings(FolioSettingsBase):
    """RabbitMQ, the broker for Folio's work queues."""

    settings_path = ("services", "rabbitmq")

    host: str = setting(LOOPBACK, description="Interface the broker binds.")
    port: int = setting(21431, ge=1, le=65535, description="AMQP port.")
    dist_port: int = setting(
        21432,
        ge=1,
        le=65535,
        description="Erlang distribution port; rabbitmqctl uses the seven ports after it.",
    )
    epmd_port: int = setting(21430, ge=1, le=65535, description="Erlang port-mapper port.")
    user: str = setting("folio", description="Broker user Folio connects as.")
    password: SecretStr | None = setting(
        None,
        insecure_default=True,
        description="Broker password; unset: generated at first start and kept in "
        "<services.data_dir>/rabbitmq/auth.toml.",
    )
    vhost: str = setting("folio", description="Virtual host Folio uses.")
    _password_file: Path | None = PrivateAttr(default=None)

    @property
    def password_file(self) -> Path | None:
        """Where the generated password is kept (set by ``ServicesSettings``, like ``roles_file``)."""
        return self._password_file

    @password_file.setter
    def password_file(self, path: Path) -> None:
        self._password_file = path

    def secret(self) -> SecretStr:
        """The configured password, else the one generated at first start (``MissingPasswordError``)."""
        if self.password is not None:
            return self.password
        generated = read_generated_passwords(self.password_file).get("password")
        if generated is None:
            raise MissingPasswordError(
                f"services.rabbitmq.password is not set and {self.password_file} holds no generated one "
                "yet: run `folio services up` (or set FOLIO_SERVICES_RABBITMQ_PASSWORD)"
            )
        return SecretStr(generated)

    @property
    def url(self) -> str:
        """AMQP URL with credentials."""
        return f"amqp://{self.user}:{self.secret().get_secret_value()}@{self.host}:{self.port}/{self.vhost}"


class KafkaSettings(FolioSettingsBase):
    """A Kafka-protocol broker (Tansu locally; any Kafka cluster by configuration)."""

    settings_path = ("services", "kafka")

    host: str = setting(LOOPBACK, description="Interface the broker binds.")
    port: int = setting(21440, ge=1, le=65535, description="Kafka protocol port.")
    storage: Literal["s3", "memory"] = setting(
        "s3", description="`s3` (durable, in the object store) or `memory`."
    )
    bucket: str = setting("folio-kafka", description="Object-store bucket that holds the log.")
    bootstrap_servers: str | None = setting(
        None, description="Use an external Kafka cluster instead of the local broker."
    )
    validate_schemas: bool = setting(
        default=True,
        description="Let the local broker refuse records whose value matches none of its topic's "
        "event schemas (Tansu's schema registry, written from schemas/events before each start).",
    )

    @property
    def bootstrap(self) -> str:
        """`host:port` list clients connect to."""
        return self.bootstrap_servers or f"{self.host}:{self.port}"


class SearchSettings(FolioSettingsBase):
    """The search server (Typesense), and where the search sync serves its metrics."""

    settings_path = ("services", "search")

    host: str = setting(LOOPBACK, description="Interface the server binds.")
    port: int = setting(21451, ge=1, le=65535, description="API port; peering (Raft) uses the one before.")
    api_key: SecretStr = setting(
        SecretStr("folio-dev-search-key"), insecure_default=True, description="Admin API key."
    )
    # Here because the search context has no settings section of its own.
    sync_metrics_host: str = setting(
        LOOPBACK, description="Interface the search sync's (`folio search sync`) Prometheus `/metrics` binds."
    )
    sync_metrics_port: int = setting(
        21483,
        ge=0,
        le=65_535,
        description="Port of the search sync's Prometheus `/metrics` (HTTP); 0: not served.",
    )

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://{self.host}:{self.port}"


class ObjectStoreSettings(FolioSettingsBase):
    """S3-compatible object storage (SeaweedFS locally; any S3 service by configuration)."""

    settings_path = ("services", "object_store")

    host: str = setting(LOOPBACK, description="Interface every SeaweedFS port binds.")
    s3_port: int = setting(21460, ge=1, le=65535, description="S3 API port (gRPC: the next one).")
    master_port: int = setting(21462, ge=1, le=65535, description="Master port (gRPC: the next one).")
    volume_port: int = setting(21464, ge=1, le=65535, description="Volume port (gRPC: the next one).")
    filer_port: int = setting(21466, ge=1, le=65535, description="Filer port (gRPC: the next one).")
    access_key: str = setting("folio", description="S3 access key id.")
    secret_key: SecretStr = setting(
        SecretStr("folio-dev-s3-secret"), insecure_default=True, description="S3 secret key."
    )
    region: str = setting("us-east-1", description="Region name S3 clients sign for.")
    endpoint: str | None = setting(None, description="Use an external S3 endpoint instead of the local one.")
    bucket: str = setting(
        "folio",
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$",
        description="The bucket Folio keeps its objects in (created on first use).",
    )

    @property
    def endpoint_url(self) -> str:
        """S3 endpoint URL."""
        return self.endpoint or f"http://{self.host}:{self.s3_port}"


class NginxSettings(FolioSettingsBase):
    """nginx, the front door in front of the gateway."""

    settings_path = ("services", "nginx")

    host: str = setting(LOOPBACK, description="Interface nginx binds.")
    port: int = setting(21400, ge=1, le=65535, description="Port nginx listens on.")

    @property
    def url(self) -> str:
        """Base URL through nginx."""
        return f"http://{self.host}:{self.port}"


class PrometheusSettings(FolioSettingsBase):
    """Prometheus, which scrapes every Folio process."""

    settings_path = ("services", "prometheus")

    host: str = setting(LOOPBACK, description="Interface Prometheus binds.")
    port: int = setting(21401, ge=1, le=65535, description="Web/API port.")
    scrape_interval_s: int = setting(5, ge=1, description="Seconds between scrapes.")

    @property
    def url(self) -> str:
        """Base URL of the web API."""
        return f"http://{self.host}:{self.port}"


class EnvoySettings(FolioSettingsBase):
    """Envoy, the local service mesh in front of the gRPC services (its listeners: ``grpc.*.mesh_port``)."""

    settings_path = ("services", "envoy")

    host: str = setting(LOOPBACK, description="Interface Envoy's admin endpoint binds.")
    admin_port: int = setting(
        21474,
        ge=1,
        le=65535,
        description="Port of Envoy's admin (`/ready`, `/clusters`, `/stats/prometheus`).",
    )
    route_timeout_s: float = setting(
        10.0,
        gt=0,
        description="Longest unary call Envoy lets through; a caller's shorter gRPC deadline wins.",
    )
    retries: int = setting(
        2, ge=0, le=5, description="Retries of an idempotent call on another replica (UNAVAILABLE, reset)."
    )
    ejection_failures: int = setting(
        2,
        ge=1,
        description="Consecutive gateway failures (refused, reset, 502-504) that eject a replica.",
    )
    ejection_s: float = setting(10.0, gt=0, description="How long a replica stays ejected at first.")
    health_check_interval_s: float = setting(
        1.0, gt=0, description="Seconds between Envoy's gRPC health checks of each replica."
    )

    @property
    def admin_url(self) -> str:
        """Base URL of the admin endpoint."""
        return f"http://{self.host}:{self.admin_port}"


LEGACY_SERVICES_DIR = Path(".folio/services")
"""Where server data lived before it moved out of the checkout; a checkout that has it keeps it."""
SYSTEM_DATA_ROOT = Path("/var/lib/folio")


def default_services_data_dir(checkout: Path, system_root: Path = SYSTEM_DATA_ROOT) -> Path:
    """Where the servers of the checkout at ``checkout`` keep their data, unless configured.

    Not inside the checkout: a clone under a mode-700 folder (root's home) cannot be
    entered by the ``postgres`` or ``rabbitmq`` accounts. ``/var/lib/folio`` when this user
    may write there (root), else the XDG data folder. The folder is named after the
    checkout plus a hash of its path, so two checkouts on one machine never share data.
    A checkout that already has ``.folio/services`` keeps using it.
    """
    import hashlib
    import os

    checkout = checkout.absolute()
    if (checkout / LEGACY_SERVICES_DIR).is_dir():
        return checkout / LEGACY_SERVICES_DIR
    name = f"{checkout.name or 'root'}-{hashlib.sha256(str(checkout).encode()).hexdigest()[:10]}"
    writable = system_root if system_root.is_dir() else system_root.parent
    if os.access(writable, os.W_OK | os.X_OK):
        return system_root / name
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "folio" / name


class ServicesSettings(FolioSettingsBase):
    """The real servers `folio services` installs and runs on loopback."""

    settings_path = ("services",)

    data_dir: Path = setting(
        default_factory=lambda: default_services_data_dir(Path.cwd()),
        description="Data, logs and PID files of the local servers; by default outside the checkout, "
        "in /var/lib/folio/<checkout>-<hash> (root) or $XDG_DATA_HOME/folio/<checkout>-<hash>, "
        "where the servers' accounts can reach it (see docs/services.md).",
    )
    ready_timeout_s: float = setting(90.0, gt=0, description="Longest wait for one server to become ready.")
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    redlock: RedlockSettings = Field(default_factory=RedlockSettings)
    rabbitmq: RabbitMQSettings = Field(default_factory=RabbitMQSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    object_store: ObjectStoreSettings = Field(default_factory=ObjectStoreSettings)
    nginx: NginxSettings = Field(default_factory=NginxSettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)
    envoy: EnvoySettings = Field(default_factory=EnvoySettings)

    @model_validator(mode="after")
    def _generated_passwords_live_with_the_data(self) -> Self:
        # Where first start writes the passwords the settings leave unset (folio.ops.secrets).
        self.postgres.roles_file = self.data_dir.absolute() / "postgres" / "auth" / "roles.toml"
        self.rabbitmq.password_file = self.data_dir.absolute() / "rabbitmq" / "auth.toml"
        return self
