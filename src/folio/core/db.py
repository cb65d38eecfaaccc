"""The async database layer: engines, sessions and the unit of work.

Nothing connects at import time: a ``Database`` is built from settings in a
process's lifespan (``folio.bootstrap``) and disposed at its end. SQLite (aiosqlite)
is the embedded default; PostgreSQL (asyncpg) when ``database.backend`` says so, with
reads routed to the streaming replica when one is configured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from folio.core.settings.models import DatabaseSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every context's ORM models (one metadata, named constraints)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def build_engine(url: str, settings: DatabaseSettings) -> AsyncEngine:
    """An async engine for ``url`` with Folio's pool and dialect settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=settings.echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=True,
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers proceed during a write; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@dataclass
class Database:
    """The primary engine, the optional replica engine and their session factories."""

    primary: AsyncEngine
    replica: AsyncEngine | None = None

    @classmethod
    def from_urls(cls, settings: DatabaseSettings, url: str, replica_url: str | None = None) -> Self:
        """Build engines (lazily connecting) for the primary and the optional replica."""
        replica = build_engine(replica_url, settings) if replica_url else None
        return cls(primary=build_engine(url, settings), replica=replica)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.primary.dialect.name

    def sessions(self, *, readonly: bool = False) -> async_sessionmaker[AsyncSession]:
        """A session factory bound to the primary, or to the replica for ``readonly``."""
        engine = self.replica if readonly and self.replica is not None else self.primary
        return async_sessionmaker(engine, expire_on_commit=False)

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on the primary."""
        return UnitOfWork(self.sessions())

    async def ping(self, *, readonly: bool = False) -> None:
        """Run ``SELECT 1``; raises the driver's error when the database is unreachable."""
        engine = self.replica if readonly and self.replica is not None else self.primary
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.primary.dispose()
        if self.replica is not None:
            await self.replica.dispose()


class UnitOfWork:
    """One transaction: commit explicitly, roll back on error or when left uncommitted.

    ``async with db.unit_of_work() as uow: ...; await uow.commit()`` - leaving the
    block without ``commit`` rolls back, so a crash mid-work never half-writes.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The session of the open unit of work."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open; use 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._factory()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self.session
        try:
            await session.rollback()
        finally:
            await session.close()
            self._session = None

    async def commit(self) -> None:
        """Commit the work done so far."""
        await self.session.commit()


@asynccontextmanager
async def open_database(
    settings: DatabaseSettings, url: str, replica_url: str | None = None
) -> AsyncIterator[Database]:
    """A ``Database`` for the duration of the block, disposed at its end."""
    database = Database.from_urls(settings, url, replica_url)
    try:
        yield database
    finally:
        await database.dispose()
