"""The real servers Folio runs locally, one module each.

``SERVICE_TYPES`` is the registry ``ServiceManager`` reads; order is only a tie-break,
``depends_on`` decides what starts first.
"""

from __future__ import annotations

from folio.ops.service import Service
from folio.ops.services.redis import RedisService

SERVICE_TYPES: tuple[type[Service], ...] = (RedisService,)
