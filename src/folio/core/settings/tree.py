"""The settings tree: the root ``Settings`` and the section each subsystem owns.

Every section is declared where it belongs and composed here under its path, from which
its env prefix is derived (``identity`` reads ``FOLIO_IDENTITY_*``). The sections every
process reads live beside this module (``database``, ``logging``, ``gateway``,
``security``, ``api``, ``cache``, ``services``); a context's own section lives in its
``settings`` module (``folio.identity.settings``, ``folio.mail.settings``,
``folio.usage.settings``, ``folio.locks.settings``, ``folio.messaging.settings``), a
pure declaration that imports only the kernel's settings base, so composing it loads
nothing of the context. That import from the kernel up to a context is the one the
architecture declares (``declarations`` in ``[tool.folio.architecture]``).

The configuration reference in the docs is generated from these classes, so every
field carries a description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from folio.core.settings.api import ApiSettings
from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.cache import CacheSettings
from folio.core.settings.database import DatabaseSettings
from folio.core.settings.fields import INSECURE_DEFAULT, has_marker, setting
from folio.core.settings.gateway import GatewaySettings
from folio.core.settings.graphql import GraphQLSettings
from folio.core.settings.grpc import GrpcSettings
from folio.core.settings.logging import LoggingSettings
from folio.core.settings.security import SecuritySettings
from folio.core.settings.services import ServicesSettings
from folio.core.settings.telemetry import TelemetrySettings
from folio.flows.settings import FlowsSettings
from folio.identity.settings import IdentitySettings
from folio.inbox.settings import InboxSettings
from folio.lake.settings import LakeSettings
from folio.live.settings import LiveSettings
from folio.locks.settings import LockSettings
from folio.mail.settings import MailSettings
from folio.messaging.settings import MessagingSettings
from folio.orders.settings import OrdersSettings
from folio.payments.settings import PaymentsSettings
from folio.streaming.settings import StreamingSettings
from folio.traces.settings import TracesSettings
from folio.usage.settings import TenancySettings

Profile = Literal["dev", "test", "prod"]


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
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    tenancy: TenancySettings = Field(default_factory=TenancySettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)
    grpc: GrpcSettings = Field(default_factory=GrpcSettings)
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)
    locks: LockSettings = Field(default_factory=LockSettings)
    payments: PaymentsSettings = Field(default_factory=PaymentsSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    orders: OrdersSettings = Field(default_factory=OrdersSettings)
    streaming: StreamingSettings = Field(default_factory=StreamingSettings)
    lake: LakeSettings = Field(default_factory=LakeSettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    flows: FlowsSettings = Field(default_factory=FlowsSettings)
    traces: TracesSettings = Field(default_factory=TracesSettings)
    live: LiveSettings = Field(default_factory=LiveSettings)

    @model_validator(mode="after")
    def _prod_refuses_insecure_defaults(self) -> Self:
        if self.profile != "prod":
            return self
        offenders = [".".join(path) for path in insecure_defaults_in_use(self)]
        if offenders:
            raise ValueError("the prod profile refuses development defaults; set " + ", ".join(offenders))
        return self

    @property
    def public_url(self) -> str:
        """Where people reach the web app and the API: ``mail.base_url``, else the gateway's address."""
        return self.mail.base_url or self.gateway.url

    @property
    def lite_mode(self) -> bool:
        """Lite mode (``folio up --lite``): the database is an SQLite file and no server runs.

        Adapters that need a server (the search engine, S3) fall back or refuse on this.
        Decided without building the URL: that would read the generated role passwords
        from disk, and requests ask this.
        """
        if self.database.url is not None:
            return self.database.url.get_secret_value().startswith("sqlite")
        return self.database.backend != "postgres"

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
    def lock_urls(self) -> list[str]:
        """URLs of the Redis instances Redlock uses: ``locks.urls``, else ``services.redlock``'s."""
        if self.locks.urls:
            return [url.get_secret_value() for url in self.locks.urls]
        return self.services.redlock.urls

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
