"""A real gateway process for the tasks end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from folio.core.settings import Settings
from tests.support.gateway_server import FAST_ARGON2_ENV, running_gateway


@pytest.fixture(scope="module")
def gateway_url(migrated_postgres: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a gateway subprocess on the services' PostgreSQL and Redis (default rate limits)."""
    del migrated_postgres  # requested so the schema is at head before the server starts
    with running_gateway(Path(tmp_path_factory.mktemp("gateway")), FAST_ARGON2_ENV) as url:
        yield url
