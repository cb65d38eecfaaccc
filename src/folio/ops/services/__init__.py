"""The real servers Folio runs locally, one module each.

``SERVICE_TYPES`` is the registry ``ServiceManager`` reads; order is only a tie-break,
``depends_on`` decides what starts first.
"""

from __future__ import annotations

from folio.ops.service import Service
from folio.ops.services.envoy import EnvoyService
from folio.ops.services.kafka import KafkaService
from folio.ops.services.nginx import NginxService
from folio.ops.services.object_store import ObjectStoreService
from folio.ops.services.postgres import PostgresService
from folio.ops.services.prefect import PrefectService
from folio.ops.services.prometheus import PrometheusService
from folio.ops.services.rabbitmq import RabbitMQService
from folio.ops.services.redis import RedisService, RedlockService
from folio.ops.services.search import SearchService

SERVICE_TYPES: tuple[type[Service], ...] = (
    PostgresService,
    RedisService,
    RedlockService,
    RabbitMQService,
    NginxService,
    PrometheusService,
    KafkaService,
    ObjectStoreService,
    SearchService,
    EnvoyService,
    PrefectService,
)
