"""Running Alembic migrations programmatically (``folio db ...``, ``folio up``).

Migrations run as the role that owns the tables (``Settings.database_migration_url``),
never the application role: a table the application role owned, it could take out
of row-level security (see ``folio.core.tenancy``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from importlib.resources import files
from io import StringIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


class MigrationRoleError(Exception):
    """Migrations connected as a role that does not own the tables they must change."""


def alembic_config(url: str) -> Config:
    """An Alembic config for Folio's packaged migrations against ``url``."""
    config = Config()
    config.set_main_option("script_location", str(files("folio") / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    _in_worker_thread(lambda: command.upgrade(alembic_config(url), revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    _in_worker_thread(lambda: command.downgrade(alembic_config(url), revision))


def _in_worker_thread(action: object) -> None:
    """Run an Alembic command where no event loop runs (env.py starts its own)."""
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="alembic")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def check_version_table_owner(connection: Connection) -> None:
    """Fail clearly when ``alembic_version`` exists but belongs to another role (PostgreSQL only).

    Databases migrated before migrations ran as the owner role have it owned by the
    application role; the owner then cannot read it and Alembic would fail with a bare
    "permission denied". Only a superuser can hand it over, which the Folio-run server
    does on every start (``folio.ops.services.postgres``).
    """
    if connection.dialect.name != "postgresql":
        return
    row = connection.execute(
        text(
            "SELECT tableowner, current_user AS me FROM pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'alembic_version'"
        )
    ).one_or_none()
    if row is not None and row.tableowner != row.me:
        raise MigrationRoleError(
            f"alembic_version is owned by {row.tableowner}, but migrations run as {row.me}; "
            f"as a superuser run ALTER TABLE alembic_version OWNER TO {row.me} "
            "(restarting the local server does it: `folio services down postgres`, "
            "then `folio services up postgres`)"
        )


@dataclass(frozen=True)
class Revision:
    """One migration of the history."""

    revision: str
    down_revision: str | None
    doc: str
    is_head: bool


def history(url: str = "sqlite+aiosqlite://") -> Iterator[Revision]:
    """The packaged migrations, newest first."""
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    for rev in script.walk_revisions():
        down = (
            rev.down_revision
            if isinstance(rev.down_revision, str) or rev.down_revision is None
            else ",".join(rev.down_revision)
        )
        yield Revision(rev.revision, down, (rev.doc or "").strip(), rev.revision in heads)


def head_revision() -> str:
    """The newest packaged revision."""
    with redirect_stdout(StringIO()):
        heads = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_heads()
    return ",".join(heads)


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated.

    Raises ``MigrationRoleError`` when ``alembic_version`` belongs to another role.
    """
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:

            def read(sync: Connection) -> str | None:
                check_version_table_owner(sync)
                return MigrationContext.configure(sync).get_current_revision()

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def current_revision_sync(url: str) -> str | None:
    """``current_revision`` for synchronous callers."""
    return asyncio.run(current_revision(url))
