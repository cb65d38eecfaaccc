"""Fixtures shared by every test layer.

Integration tests use the servers ``make test`` started (``folio services up``) and
fail loudly, naming the command to run, when one is absent: a missing service is a
broken environment, never a reason to skip.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings, load_settings
from folio.ops.manager import ServiceManager, State

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings the suite runs under: the files and environment of this checkout.

    Not the record of a ``folio up`` that may have run here: the suite must behave the
    same whether or not the platform was started in the checkout before.
    """
    os.chdir(REPO_ROOT)
    return load_settings(platform_file=None)


def uv_executable() -> str:
    """The uv that runs this suite, for the subprocesses that need uv itself.

    ``uv run`` (what ``make test`` calls, through the uv the Makefile bootstrapped)
    puts its own path in ``UV``; else a uv installed beside this interpreter. Never a
    ``PATH`` lookup: on a fresh machine the Makefile's uv (``~/.local/bin``) is not on
    ``PATH``, and another uv found there would silently differ.
    """
    beside = Path(sys.executable).with_name("uv")
    for candidate in (os.environ.get("UV"), str(beside)):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail(
        "no uv for this suite: run it through `uv run` or `make test` (which set UV), "
        f"or install uv beside {sys.executable}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def require_service(settings: Settings) -> Callable[[str], None]:
    """Call with a service name; fails the test unless that server is running and healthy."""
    manager = ServiceManager(settings)
    checked: dict[str, str | None] = {}

    def require(name: str) -> None:
        if name not in checked:
            status = manager.status([name])[-1]
            usable = status.state in {State.RUNNING, State.EXTERNAL}
            checked[name] = None if usable else f"{status.state}: {status.detail}"
        if checked[name] is not None:
            pytest.fail(
                f"service {name!r} is not running ({checked[name]}); start it with `folio services up` "
                f"(make test does this)",
                pytrace=False,
            )

    return require


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty folder with no ``FOLIO_*`` variables, so tests see only what they set."""
    for key in list(os.environ):
        if key.upper().startswith("FOLIO_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- context fixtures: migrated databases ----------------------------------------------------


@pytest.fixture(scope="session")
def migrated_postgres(settings: Settings, require_service: Callable[[str], None]) -> Settings:
    """The services' PostgreSQL, migrated to head as the owner role; settings that point at it."""
    from folio.core.migrations import upgrade

    require_service("postgres")
    postgres = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "postgres", "url": None})}
    )
    upgrade(postgres.database_migration_url)
    return postgres


@pytest.fixture
async def pg_database(migrated_postgres: Settings) -> AsyncIterator[Database]:
    """A ``Database`` on the migrated PostgreSQL, as the application role (RLS applies)."""
    from folio.core.db import open_database

    async with open_database(
        migrated_postgres.database, migrated_postgres.database_url, migrated_postgres.database_replica_url
    ) as database:
        yield database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per session, for ``sqlite_database`` to copy."""
    from folio.core.migrations import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def sqlite_database(
    settings: Settings, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A ``Database`` on a fresh SQLite file in the test's folder, migrated to head.

    The file is a copy of the session's migrated template: running every migration for
    each test is slow and tests nothing the migration tests do not.
    """
    from folio.core.db import open_database

    path = tmp_path / "folio.db"
    shutil.copyfile(sqlite_template, path)
    db_settings = settings.database.model_copy(update={"backend": "sqlite", "url": None})
    async with open_database(db_settings, f"sqlite+aiosqlite:///{path}") as database:
        yield database


@pytest.fixture(params=["pg", "sqlite"])
def any_database(request: pytest.FixtureRequest) -> Database:
    """Each test runs on the migrated PostgreSQL (as the app role) and on a fresh SQLite file."""
    database: Database = request.getfixturevalue(f"{request.param}_database")
    return database


@pytest.fixture
def memory_limiter() -> RateLimiter:
    """A rate limiter whose counters live in this process (no Redis)."""
    return RateLimiter("memory://")


@pytest.fixture
async def redis_limiter(
    settings: Settings, require_service: Callable[[str], None]
) -> AsyncIterator[RateLimiter]:
    """A rate limiter on the services' Redis, in a namespace of its own so tests never share counters."""
    import uuid

    require_service("redis")
    limiter = RateLimiter(settings.services.redis.urls[0], namespace=f"test-{uuid.uuid4().hex[:8]}")
    yield limiter
    await limiter.aclose()
