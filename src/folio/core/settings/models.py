"""The settings tree: one class per subsystem, the env prefix derived from its path.

The configuration reference in the docs is generated from these classes, so every
field carries a description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import INSECURE_DEFAULT, has_marker, setting

LOOPBACK = "127.0.0.1"
Profile = Literal["dev", "test", "prod"]
MIN_HMAC_KEY_CHARS = 32
"""RFC 7518 3.2: an HS256 key is at least as long as the hash output (256 bits)."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class DatabaseSettings(FolioSettingsBase):
    """The relational database the contexts store their tables in."""

    settings_path = ("database",)

    backend: Literal["sqlite", "postgres"] = setting(
        "sqlite",
        description="`sqlite` (embedded, the default) or `postgres` (the server from `folio services`).",
    )
    url: SecretStr | None = setting(
        None,
        description="An explicit SQLAlchemy async URL; overrides `backend` when set.",
    )
    replica_url: SecretStr | None = setting(
        None,
        description="An explicit async URL of a read replica; reads go to the primary when unset.",
    )
    migration_url: SecretStr | None = setting(
        None,
        description="An explicit async URL migrations connect with, as the role that owns the "
        "tables (never the application role); when unset: the owner role for `backend = "
        '"postgres"`, else `url` or the SQLite file.',
    )
    sqlite_path: Path = setting(Path(".folio/folio.db"), description="File of the embedded SQLite database.")
    pool_size: int = setting(5, ge=1, le=100, description="Connections kept open per engine.")
    max_overflow: int = setting(
        10,
        ge=0,
        le=100,
        description="Extra connections an engine may open under a burst beyond `pool_size`; "
        "closed again when returned.",
    )
    pool_timeout_s: float = setting(
        10.0, gt=0, le=300, description="Seconds to wait for a free pooled connection."
    )
    pool_recycle_s: float = setting(
        1800.0,
        gt=0,
        le=86_400,
        description="Replace a pooled connection older than this many seconds (outlives "
        "firewall and proxy idle timeouts).",
    )
    connect_timeout_s: float = setting(
        5.0, gt=0, le=120, description="Seconds to wait for a new PostgreSQL connection to open."
    )
    statement_timeout_ms: int = setting(
        30_000,
        ge=100,
        le=3_600_000,
        description="Longest a statement may run: PostgreSQL's `statement_timeout` on every "
        "connection (an overrun fails with `StatementTimeoutError`, never retried); for "
        "SQLite, how long a statement waits for another writer's lock.",
    )
    retry_attempts: int = setting(
        3,
        ge=1,
        le=10,
        reloadable=True,
        description="Tries `Database.run` gives a unit of work that fails with a transient "
        "error, the first included; 1 turns retries off.",
    )
    retry_max_backoff_s: float = setting(
        2.0,
        gt=0,
        le=60,
        reloadable=True,
        description="Longest pause between two tries (exponential backoff with full jitter).",
    )
    breaker_failure_threshold: int = setting(
        5,
        ge=1,
        le=1000,
        description="Consecutive connection failures that open an engine's circuit breaker.",
    )
    breaker_reset_timeout_s: float = setting(
        30.0,
        gt=0,
        le=3600,
        description="Seconds an open circuit fails fast before one trial call may test the database.",
    )
    echo: bool = setting(default=False, description="Log every SQL statement (noisy; for debugging).")


class LoggingSettings(FolioSettingsBase):
    """Structured logging: format, destinations, levels, sampling and shipping."""

    settings_path = ("logging",)

    level: LogLevel = setting("INFO", reloadable=True, description="Root log level.")
    levels: dict[str, LogLevel] = setting(
        default_factory=lambda: {"uvicorn.access": "WARNING", "sqlalchemy.engine": "WARNING"},
        reloadable=True,
        description='Per-logger levels, e.g. `{"sqlalchemy.engine": "INFO"}`.',
    )
    format: Literal["json", "console"] = setting(
        "json", description="`json` lines for machines or `console` for humans."
    )
    file: Path | None = setting(
        Path(".folio/logs/{service}.jsonl"),
        description="Rotating JSON log file (`{service}` becomes the process name); unset for stdout only.",
    )
    stdout: bool = setting(
        default=True,
        description="Also write each line to stdout; `folio up` turns it off for its processes, "
        "whose stdout it captures (each line is then written once, to `file`).",
    )
    max_bytes: int = setting(10_000_000, ge=1024, description="Size at which the log file rotates.")
    backup_count: int = setting(5, ge=0, description="Rotated log files kept.")
    sampling: dict[str, float] = setting(
        default_factory=lambda: {"http.request.health": 0.01},
        reloadable=True,
        description="Keep-rate in [0, 1] per event name; events not listed are all kept.",
    )
    ship_to_search: bool = setting(
        default=False, description="Also ship log lines to the search server (Typesense)."
    )
    ship_collection: str = setting("folio-logs", description="Search collection logs go to.")
    ship_batch_size: int = setting(200, ge=1, description="Lines per bulk import to the search server.")
    ship_interval_s: float = setting(1.0, gt=0, description="Longest wait before a partial batch ships.")

    @field_validator("sampling")
    @classmethod
    def _sampling_rates_are_probabilities(cls, sampling: dict[str, float]) -> dict[str, float]:
        bad = {name: rate for name, rate in sampling.items() if not 0.0 <= rate <= 1.0}
        if bad:
            raise ValueError(f"sampling rates must lie in [0, 1]; out of range: {', '.join(sorted(bad))}")
        return sampling


class GatewaySettings(FolioSettingsBase):
    """The HTTP gateway (FastAPI) that fronts every context's API."""

    settings_path = ("gateway",)

    host: str = setting(LOOPBACK, description="Interface the gateway binds.")
    port: int = setting(8000, ge=1, le=65535, description="Port the gateway binds.")
    docs_enabled: bool = setting(default=True, description="Serve OpenAPI docs at `/docs`.")

    @property
    def url(self) -> str:
        """Base URL of the gateway."""
        return f"http://{self.host}:{self.port}"


class SecuritySettings(FolioSettingsBase):
    """Keys and secrets shared by the platform."""

    settings_path = ("security",)

    secret_key: SecretStr = setting(
        SecretStr("folio-dev-secret-key-change-me"),
        insecure_default=True,
        description="Key that signs sessions and tokens; `prod` refuses the default.",
    )


class IdentitySettings(FolioSettingsBase):
    """Identity: password hashing, tokens, sessions, login throttling and resets."""

    settings_path = ("identity",)

    jwt_keys: dict[str, SecretStr] = setting(
        default_factory=lambda: {"dev-1": SecretStr("folio-dev-jwt-key-change-me-0123456789abcdef")},
        insecure_default=True,
        description=(
            "HMAC keys that sign and verify JWTs, by key id (`kid`). Rotate without downtime by "
            "adding the new key, making it active, and removing the old one after `refresh_ttl_s`."
        ),
    )
    jwt_active_kid: str = setting("dev-1", description="Key id (in `jwt_keys`) that signs new tokens.")
    jwt_issuer: str = setting("folio", description="`iss` claim of issued tokens, checked on verify.")
    access_ttl_s: int = setting(900, ge=30, le=86_400, description="Lifetime of an access token.")
    refresh_ttl_s: int = setting(
        14 * 86_400, ge=300, le=90 * 86_400, description="Lifetime of a refresh token (and its family)."
    )
    argon2_time_cost: int = setting(3, ge=1, le=20, description="argon2id iterations.")
    argon2_memory_kib: int = setting(65_536, ge=8_192, description="argon2id memory per hash, in KiB.")
    argon2_parallelism: int = setting(2, ge=1, le=16, description="argon2id lanes.")
    password_min_length: int = setting(12, ge=8, le=128, description="Shortest password accepted.")
    lockout_threshold: int = setting(
        5, ge=1, le=100, description="Consecutive failed logins that lock an account."
    )
    lockout_base_s: int = setting(60, ge=1, description="First lockout; each further lockout doubles it.")
    lockout_max_s: int = setting(3_600, ge=1, description="Longest lockout.")
    login_rate_per_ip: str = setting(
        "20/minute", description="Login attempts allowed per client IP (`limits` notation)."
    )
    login_rate_per_account: str = setting(
        "10/minute", description="Login attempts allowed per account (`limits` notation)."
    )
    anonymous_rate_per_ip: str = setting(
        "20/hour",
        description=(
            "Registrations and password-reset requests allowed per client IP (`limits` notation): "
            "both cost a slow hash or a mail and need no credential."
        ),
    )
    reset_token_ttl_s: int = setting(3_600, ge=60, description="Lifetime of a password-reset token.")
    session_ttl_s: int = setting(8 * 3_600, ge=60, description="Idle lifetime of a web session.")
    cookie_secure: bool = setting(
        default=False,
        insecure_default=True,
        description="Send session cookies only over HTTPS; `prod` refuses `false`.",
    )

    @model_validator(mode="after")
    def _active_key_is_known_and_long(self) -> Self:
        if self.jwt_active_kid not in self.jwt_keys:
            known = ", ".join(sorted(self.jwt_keys)) or "none"
            raise ValueError(f"jwt_active_kid {self.jwt_active_kid!r} is not in jwt_keys (known: {known})")
        short = sorted(
            kid for kid, key in self.jwt_keys.items() if len(key.get_secret_value()) < MIN_HMAC_KEY_CHARS
        )
        if short:
            raise ValueError(f"jwt_keys must be at least 32 characters long; too short: {', '.join(short)}")
        return self


class MailSettings(FolioSettingsBase):
    """Outgoing mail: a dev outbox in the database, or SMTP."""

    settings_path = ("mail",)

    backend: Literal["outbox", "smtp"] = setting(
        "outbox", description="`outbox` keeps mail in the database for `folio mail outbox`; `smtp` sends it."
    )
    sender: str = setting("Folio <no-reply@folio.localhost>", description="From address of every mail.")
    smtp_host: str = setting(LOOPBACK, description="SMTP server host (backend `smtp`).")
    smtp_port: int = setting(587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = setting(None, description="SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = setting(None, description="SMTP password.")
    smtp_starttls: bool = setting(default=True, description="Upgrade the SMTP connection with STARTTLS.")
    base_url: str = setting(
        "http://127.0.0.1:8000", description="Public base URL that links in mails point to."
    )


class ApiSettings(FolioSettingsBase):
    """The public REST API: rate limits and paging."""

    settings_path = ("api",)

    rate_limit_per_key: str = setting(
        "100/minute",
        reloadable=True,
        description="Requests allowed per credential (token user or API key), `limits` notation.",
    )
    rate_limit_per_tenant: str = setting(
        "1000/minute", reloadable=True, description="Requests allowed per shop across all its credentials."
    )
    default_page_size: int = setting(20, ge=1, le=100, description="Items per page when none is asked for.")
    max_page_size: int = setting(100, ge=1, le=1000, description="Largest page a client may ask for.")
    max_body_bytes: int = setting(
        1_048_576,
        ge=1,
        description="Largest request body an API route accepts (else 413, unread); nginx allows the largest.",
    )
    auth_max_body_bytes: int = setting(
        16_384, ge=1, description="Largest request body the unauthenticated `/api/v1/auth/` endpoints accept."
    )


class QuotaSettings(FolioSettingsBase):
    """Default per-shop quotas; a shop's own overrides (`usage` context) win."""

    settings_path = ("tenancy", "quotas")

    tasks: int = setting(10_000, ge=0, description="Tasks a shop may hold.")
    members: int = setting(50, ge=0, description="Members (seats) a shop may have.")
    api_calls_per_day: int = setting(100_000, ge=0, description="API requests a shop may make per UTC day.")
    storage_bytes: int = setting(1_073_741_824, ge=0, description="Bytes of files a shop may store.")
    listings: int = setting(100_000, ge=0, description="Catalogue listings a shop may hold.")


class TenancySettings(FolioSettingsBase):
    """Multi-tenancy: quotas and metering."""

    settings_path = ("tenancy",)

    quotas: QuotaSettings = Field(default_factory=QuotaSettings)
    usage_flush_interval_s: float = setting(
        30.0, gt=0, description="How often the gateway copies Redis usage counters into the database."
    )


class CacheSettings(FolioSettingsBase):
    """Where counters, rate limits and web sessions live."""

    settings_path = ("cache",)

    backend: Literal["redis", "memory"] = setting(
        "redis", description="`redis` (the services' Redis), or `memory` for lite mode (one process)."
    )
    url: SecretStr | None = setting(None, description="Redis URL to use instead of the local server.")


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

    @property
    def bootstrap(self) -> str:
        """`host:port` list clients connect to."""
        return self.bootstrap_servers or f"{self.host}:{self.port}"


class SearchSettings(FolioSettingsBase):
    """The search server (Typesense)."""

    settings_path = ("services", "search")

    host: str = setting(LOOPBACK, description="Interface the server binds.")
    port: int = setting(21451, ge=1, le=65535, description="API port; peering (Raft) uses the one before.")
    api_key: SecretStr = setting(
        SecretStr("folio-dev-search-key"), insecure_default=True, description="Admin API key."
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
    rabbitmq: RabbitMQSettings = Field(default_factory=RabbitMQSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    object_store: ObjectStoreSettings = Field(default_factory=ObjectStoreSettings)
    nginx: NginxSettings = Field(default_factory=NginxSettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)

    @model_validator(mode="after")
    def _generated_passwords_live_with_the_data(self) -> Self:
        # Where first start writes the passwords the settings leave unset (folio.ops.secrets).
        self.postgres.roles_file = self.data_dir.absolute() / "postgres" / "auth" / "roles.toml"
        self.rabbitmq.password_file = self.data_dir.absolute() / "rabbitmq" / "auth.toml"
        return self


class Settings(FolioSettingsBase):
    """The root of the tree: the profile and every subsystem."""

    settings_path = ()

    profile: Profile = setting(
        "dev", description="`dev`, `test` or `prod`; `prod` refuses insecure defaults."
    )
    service_name: str = setting("folio", description="Name this process logs and reports as.")
    home: Path = setting(Path(".folio"), description="Folio's working folder (data, logs, state).")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    tenancy: TenancySettings = Field(default_factory=TenancySettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)

    @model_validator(mode="after")
    def _prod_refuses_insecure_defaults(self) -> Self:
        if self.profile != "prod":
            return self
        offenders = [".".join(path) for path in insecure_defaults_in_use(self)]
        if offenders:
            raise ValueError("the prod profile refuses development defaults; set " + ", ".join(offenders))
        return self

    @property
    def lite_mode(self) -> bool:
        """Lite mode (``folio up --lite``): the database is an SQLite file and no server runs.

        Adapters that need a server (the search engine, S3) fall back or refuse on this.
        """
        return self.database_url.startswith("sqlite")

    @property
    def database_url(self) -> str:
        """The async URL of the primary database, as chosen by `database.*`."""
        if self.database.url is not None:
            return self.database.url.get_secret_value()
        if self.database.backend == "postgres":
            return self.services.postgres.url()
        return f"sqlite+aiosqlite:///{self.database.sqlite_path}"

    @property
    def cache_url(self) -> str:
        """Storage URL of counters and rate limits: Redis, or ``memory://`` in lite mode."""
        if self.cache.url is not None:
            return self.cache.url.get_secret_value()
        if self.cache.backend == "redis":
            return self.services.redis.urls[0]
        return "memory://"

    @property
    def database_migration_url(self) -> str:
        """The async URL migrations use: the role that owns the tables, never the application role.

        ``database.migration_url`` when set; else the owner role on the local server for
        ``backend = "postgres"``; else ``database_url`` (an explicit ``database.url`` is
        trusted to name a suitable role, and SQLite has no roles).
        """
        if self.database.migration_url is not None:
            return self.database.migration_url.get_secret_value()
        if self.database.url is None and self.database.backend == "postgres":
            return self.services.postgres.url(role="owner")
        return self.database_url

    @property
    def database_replica_url(self) -> str | None:
        """The async URL reads may use, or None to read from the primary."""
        if self.database.replica_url is not None:
            return self.database.replica_url.get_secret_value()
        if self.database.url is None and self.database.backend == "postgres":
            pg = self.services.postgres
            return pg.url(replica=True) if pg.replica_enabled else None
        return None


def insecure_defaults_in_use(node: FolioSettingsBase, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of fields marked ``insecure_default`` that still hold their default."""
    found: list[tuple[str, ...]] = []
    for name, info in type(node).model_fields.items():
        value = getattr(node, name)
        if isinstance(value, FolioSettingsBase):
            found.extend(insecure_defaults_in_use(value, (*prefix, name)))
        elif has_marker(info, INSECURE_DEFAULT) and value == info.get_default(call_default_factory=True):
            found.append((*prefix, name))
    return found
